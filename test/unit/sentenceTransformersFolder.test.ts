import assert from 'node:assert/strict';
import { TEST_PYTHON } from '../helpers/pythonPeer';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import {
  checkBertWeights,
  expectedBertWeightNames,
  normalizeBertWeightNames,
  parseBertConfig,
  readBertConfig,
  readBertWeights,
  toHfConfigJson,
} from '../../src/trainer/model/bertConfig';
import { hostTensor, type NamedTensors } from '../../src/trainer/model/namedTensors';
import { readSafetensors, writeSafetensors } from '../../src/trainer/model/safetensors';
import {
  readSentenceTransformersSettings,
  writeSentenceTransformersFolder,
  type SentenceTransformersExport,
} from '../../src/trainer/model/sentenceTransformersFolder';
import { TextTokenizer } from '../../src/trainer/model/textTokenizer';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const workspace = new TempWorkspace();
after(() => workspace.dispose());

const tiny = buildTinyBert(workspace.path('tiny'), { withPoolingModules: true });

function writeJson(path: string, value: unknown): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify(value));
}

describe('reading a model’s own sentence-transformers settings', () => {
  it('reads mean pooling, normalization and max_seq_length from an all-MiniLM-L6-v2 style folder', () => {
    assert.deepEqual(readSentenceTransformersSettings(tiny.folder), {
      pooling: 'mean',
      poolingModes: ['mean_tokens'],
      normalize: true,
      maxSeqLength: 64,
      doLowerCase: false,
      unsupportedModules: [],
    });
  });

  it('reads CLS pooling without normalization from a BGE style folder, with the transformer in 0_Transformer', () => {
    const root = workspace.path('bge-like');
    writeJson(join(root, 'modules.json'), [
      { idx: 0, name: '0', path: '0_Transformer', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
    ]);
    writeJson(join(root, '0_Transformer', 'sentence_bert_config.json'), { max_seq_length: 512, do_lower_case: true });
    writeJson(join(root, '1_Pooling', 'config.json'), {
      word_embedding_dimension: 32,
      pooling_mode_cls_token: true,
      pooling_mode_mean_tokens: false,
    });
    assert.deepEqual(readSentenceTransformersSettings(root), {
      pooling: 'cls',
      poolingModes: ['cls_token'],
      normalize: false,
      maxSeqLength: 512,
      doLowerCase: true,
      unsupportedModules: [],
    });
  });

  it('reports pooling it cannot follow and modules it does not run, instead of guessing', () => {
    const root = workspace.path('dense-model');
    writeJson(join(root, 'modules.json'), [
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      { idx: 2, name: '2', path: '2_Dense', type: 'sentence_transformers.models.Dense' },
    ]);
    writeJson(join(root, '1_Pooling', 'config.json'), { pooling_mode: 'weightedmean' });
    const settings = readSentenceTransformersSettings(root)!;
    assert.equal(settings.pooling, undefined);
    assert.deepEqual(settings.poolingModes, ['weightedmean_tokens']);
    assert.deepEqual(settings.unsupportedModules, ['sentence_transformers.models.Dense']);
  });

  it('returns undefined for a plain Hugging Face folder', () => {
    const plain = buildTinyBert(workspace.path('plain'));
    assert.equal(readSentenceTransformersSettings(plain.folder), undefined);
  });
});

function exportOf(overrides: Partial<SentenceTransformersExport> = {}): SentenceTransformersExport {
  const { config, json } = readBertConfig(tiny.folder);
  return {
    hfConfigJson: toHfConfigJson(config, json),
    weights: tiny.weights,
    tokenizer: TextTokenizer.fromFolder(tiny.folder),
    pooling: 'mean',
    normalize: true,
    maxSeqLength: 48,
    modelCard: {
      baseModel: 'sentence-transformers/all-MiniLM-L6-v2',
      configYaml: 'model:\n  base: sentence-transformers/all-MiniLM-L6-v2\ntraining:\n  epochs: 1\n',
      metrics: { spearman: 0.812345, 'ndcg@10': 0.5, loss: 0.0000123456 },
      datasetSummary: '200 question–answer pairs.',
    },
    ...overrides,
  };
}

function filesUnder(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) {
        out.push(`${relative(folder, path)}/`);
        walk(path);
      } else out.push(relative(folder, path));
    }
  };
  walk(folder);
  return out.sort();
}

const readJsonFile = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

describe('writing a sentence-transformers folder', () => {
  it('writes exactly the files SentenceTransformer(path) loads', () => {
    const out = workspace.path('exports/normalized');
    writeSentenceTransformersFolder(out, exportOf());
    assert.deepEqual(filesUnder(out), [
      '1_Pooling/',
      '1_Pooling/config.json',
      '2_Normalize/',
      'README.md',
      'config.json',
      'config_sentence_transformers.json',
      'model.safetensors',
      'modules.json',
      'sentence_bert_config.json',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'vocab.txt',
    ]);
    assert.deepEqual(readJsonFile(join(out, 'modules.json')), [
      { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
      { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
      { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
    ]);
    assert.deepEqual(readJsonFile(join(out, 'sentence_bert_config.json')), { max_seq_length: 48, do_lower_case: false });
    assert.deepEqual(readJsonFile(join(out, '1_Pooling/config.json')), {
      word_embedding_dimension: 32,
      pooling_mode_cls_token: false,
      pooling_mode_mean_tokens: true,
      pooling_mode_max_tokens: false,
      pooling_mode_mean_sqrt_len_tokens: false,
      pooling_mode_weightedmean_tokens: false,
      pooling_mode_lasttoken: false,
      include_prompt: true,
    });
    assert.deepEqual(readJsonFile(join(out, 'config_sentence_transformers.json')), {
      model_type: 'SentenceTransformer',
      prompts: {},
      default_prompt_name: null,
      similarity_fn_name: 'cosine',
    });
    assert.equal((readJsonFile(join(out, 'tokenizer_config.json')) as Record<string, unknown>)['model_max_length'], 48);
  });

  it('writes weights and config that load back unchanged, so EmbedTune can continue from its own export', () => {
    const out = workspace.path('exports/reloaded');
    writeSentenceTransformersFolder(out, exportOf());
    const { tensors, metadata } = readSafetensors(join(out, 'model.safetensors'));
    assert.equal(metadata['format'], 'pt');
    assert.deepEqual(tensors, tiny.weights);
    const reloaded = readBertConfig(out);
    assert.deepEqual(reloaded.config, tiny.config);
    assert.equal(reloaded.json['transformers_version'], '4.41.2', 'fields EmbedTune does not model survive the export');
    assert.deepEqual(readSentenceTransformersSettings(out), {
      pooling: 'mean',
      poolingModes: ['mean_tokens'],
      normalize: true,
      maxSeqLength: 48,
      doLowerCase: false,
      unsupportedModules: [],
    });
    const original = TextTokenizer.fromFolder(tiny.folder);
    assert.deepEqual(
      TextTokenizer.fromFolder(out).encodeBatch(['Hello, World!', 'the lazy dog'], 48),
      original.encodeBatch(['Hello, World!', 'the lazy dog'], 48),
    );
  });

  it('leaves out 2_Normalize and writes CLS pooling when asked', () => {
    const out = workspace.path('exports/cls');
    writeSentenceTransformersFolder(out, exportOf({ pooling: 'cls', normalize: false }));
    assert.equal(existsSync(join(out, '2_Normalize')), false);
    assert.equal((readJsonFile(join(out, 'modules.json')) as unknown[]).length, 2);
    const pooling = readJsonFile(join(out, '1_Pooling/config.json')) as Record<string, unknown>;
    assert.deepEqual([pooling['pooling_mode_cls_token'], pooling['pooling_mode_mean_tokens']], [true, false]);
  });

  it('writes a model card with Hub metadata, the EmbedTune config and a table of final metrics', () => {
    const out = workspace.path('exports/card');
    writeSentenceTransformersFolder(out, exportOf());
    const card = readFileSync(join(out, 'README.md'), 'utf8');
    const frontMatter = /^---\n([\s\S]*?)\n---\n/.exec(card);
    assert.ok(frontMatter, 'the card starts with YAML front matter');
    assert.deepEqual(parse(frontMatter[1]!), {
      library_name: 'sentence-transformers',
      pipeline_tag: 'sentence-similarity',
      base_model: 'sentence-transformers/all-MiniLM-L6-v2',
      tags: ['sentence-transformers', 'sentence-similarity', 'feature-extraction', 'embedtune'],
    });
    assert.ok(card.includes('```yaml\nmodel:\n  base: sentence-transformers/all-MiniLM-L6-v2\ntraining:\n  epochs: 1\n```'), card);
    assert.ok(card.includes('| Metric | Value |\n| --- | --- |\n| spearman | 0.8123 |\n| ndcg@10 | 0.5 |\n| loss | 0.00001235 |'), card);
    assert.ok(card.includes('200 question–answer pairs.'));
    assert.ok(card.includes('32-dimensional'));
  });

  it('keeps a local base model out of the Hub metadata and fences a config that contains backticks', () => {
    const out = workspace.path('exports/local-base');
    const base = exportOf();
    writeSentenceTransformersFolder(out, {
      ...base,
      modelCard: { ...base.modelCard, baseModel: './models/tiny', configYaml: 'name: "```odd```"\n', metrics: {} },
    });
    const card = readFileSync(join(out, 'README.md'), 'utf8');
    assert.doesNotMatch(card.split('\n---\n')[0]!, /base_model/);
    assert.ok(card.includes('````yaml\nname: "```odd```"\n````'), card);
    assert.ok(card.includes('No evaluation was run.'));
  });

  it('replaces an earlier export in place', () => {
    const out = workspace.path('exports/replaced');
    writeSentenceTransformersFolder(out, exportOf());
    writeSentenceTransformersFolder(out, exportOf({ normalize: false, maxSeqLength: 32 }));
    assert.deepEqual(readJsonFile(join(out, 'sentence_bert_config.json')), { max_seq_length: 32, do_lower_case: false });
    assert.equal(existsSync(join(out, '2_Normalize')), false);
    assert.deepEqual(
      readdirSync(workspace.path('exports')).filter((name) => name.startsWith('.')),
      [],
      'no staging or previous folders are left',
    );
  });

  it('leaves no target folder and no staging folder when writing fails midway', () => {
    const parent = workspace.path('exports-failed');
    const weights: NamedTensors = new Map(tiny.weights);
    // Shape right, data short: it passes the up-front checks and fails inside the safetensors writer, after config.json.
    weights.set('encoder.layer.1.output.dense.bias', { dtype: 'F32', shape: [32], data: new Float32Array(31) });
    assert.throws(
      () => writeSentenceTransformersFolder(join(parent, 'model'), exportOf({ weights })),
      /tensor "encoder\.layer\.1\.output\.dense\.bias" has 31 values/,
    );
    assert.deepEqual(readdirSync(parent), []);
  });

  it('keeps the previous export when a new one fails', () => {
    const out = workspace.path('exports-kept/model');
    writeSentenceTransformersFolder(out, exportOf());
    const weights: NamedTensors = new Map(tiny.weights);
    weights.set('pooler.dense.bias', { dtype: 'F32', shape: [32], data: new Float32Array(5) });
    assert.throws(() => writeSentenceTransformersFolder(out, exportOf({ weights, maxSeqLength: 16 })));
    assert.deepEqual(readJsonFile(join(out, 'sentence_bert_config.json')), { max_seq_length: 48, do_lower_case: false });
    assert.deepEqual(readdirSync(workspace.path('exports-kept')), ['model']);
  });

  it('refuses weights that do not match the config before writing anything', () => {
    const weights: NamedTensors = new Map(tiny.weights);
    weights.delete('encoder.layer.0.attention.self.key.weight');
    assert.throws(
      () => writeSentenceTransformersFolder(workspace.path('exports-refused/model'), exportOf({ weights })),
      /missing 1 weight\(s\): encoder\.layer\.0\.attention\.self\.key\.weight/,
    );
    assert.equal(existsSync(workspace.path('exports-refused')), false);
    assert.throws(
      () => writeSentenceTransformersFolder(workspace.path('exports-refused/model'), exportOf({ maxSeqLength: 65 })),
      /maxSeqLength must be an integer from 1 to the model's 64 positions/,
    );
  });
});

const pythonProblem = pythonLacks('import safetensors, numpy, tokenizers');

describe('the export as Python reads it', () => {
  it(
    'loads in Python safetensors (with format pt) and tokenizers, giving the same ids',
    { skip: pythonProblem && `Python check skipped: ${pythonProblem}` },
    () => {
      const out = workspace.path('exports/python');
      writeSentenceTransformersFolder(out, exportOf());
      const script = `
import json, sys
from safetensors import safe_open
from tokenizers import Tokenizer
with safe_open(sys.argv[1] + "/model.safetensors", framework="numpy") as f:
    names = sorted(f.keys()); metadata = f.metadata()
    word = f.get_tensor("embeddings.word_embeddings.weight")
tok = Tokenizer.from_file(sys.argv[1] + "/tokenizer.json")
print(json.dumps({"names": names, "metadata": metadata, "shape": list(word.shape), "first": float(word[0][0]), "ids": tok.encode("Hello, World!").ids}))
`;
      const run = spawnSync(TEST_PYTHON, ['-c', script, out], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const seen = JSON.parse(run.stdout) as {
        names: string[];
        metadata: Record<string, string>;
        shape: number[];
        first: number;
        ids: number[];
      };
      assert.deepEqual(seen.names, [...tiny.weights.keys()].sort());
      assert.deepEqual(seen.metadata, { format: 'pt' });
      assert.deepEqual(seen.shape, [tiny.vocab.length, 32]);
      assert.equal(seen.first, tiny.weights.get('embeddings.word_embeddings.weight')!.data[0]);
      assert.deepEqual(seen.ids, TextTokenizer.fromFolder(out).encode('Hello, World!', 48).ids);
    },
  );
});

describe('BERT config.json', () => {
  it('reads the tiny model’s config into typed fields', () => {
    assert.deepEqual(readBertConfig(tiny.folder).config, {
      vocabSize: tiny.vocab.length,
      hiddenSize: 32,
      numHiddenLayers: 2,
      numAttentionHeads: 4,
      intermediateSize: 64,
      hiddenAct: 'gelu',
      maxPositionEmbeddings: 64,
      typeVocabSize: 2,
      layerNormEps: 1e-12,
      hiddenDropoutProb: 0.1,
      attentionProbsDropoutProb: 0.1,
      padTokenId: 0,
    });
  });

  it('fills keys a config leaves out with transformers’ BertConfig defaults', () => {
    const config = parseBertConfig({ model_type: 'bert', hidden_size: 64, num_attention_heads: 2 }, 'm');
    assert.equal(config.vocabSize, 30522);
    assert.equal(config.numHiddenLayers, 12);
    assert.equal(config.layerNormEps, 1e-12);
    assert.equal(config.hiddenAct, 'gelu');
  });

  it('rejects other model types, naming the type and the folder', () => {
    assert.throws(
      () => parseBertConfig({ model_type: 'roberta' }, '/models/xlm'),
      /The model in \/models\/xlm has model_type "roberta"; EmbedTune trains BERT-family models/,
    );
    assert.throws(() => parseBertConfig({}, '/models/old'), /has no model_type/);
  });

  it('names the field and file when a value is unusable', () => {
    assert.throws(
      () => parseBertConfig({ model_type: 'bert', hidden_size: '768' }, '/m'),
      /\/m\/config\.json: "hidden_size" must be an integer of at least 1, but is "768"/,
    );
    assert.throws(
      () => parseBertConfig({ model_type: 'bert', hidden_act: 'swish' }, '/m'),
      /hidden_act "swish" is not supported; EmbedTune's BERT encoder implements gelu, gelu_new, gelu_pytorch_tanh, relu/,
    );
    assert.throws(
      () => parseBertConfig({ model_type: 'bert', hidden_size: 100, num_attention_heads: 3 }, '/m'),
      /hidden_size 100 is not a multiple of num_attention_heads 3/,
    );
    assert.throws(
      () => parseBertConfig({ model_type: 'bert', position_embedding_type: 'relative_key' }, '/m'),
      /position_embedding_type "relative_key"/,
    );
  });

  it('re-exports over the original, keeping fields it does not model and saying the weights are a float32 BertModel', () => {
    const original = {
      model_type: 'bert',
      architectures: ['BertForMaskedLM'],
      id2label: { 0: 'A' },
      torch_dtype: 'float16',
      gradient_checkpointing: false,
    };
    const config = { ...parseBertConfig(original, 'm'), numHiddenLayers: 3 };
    const json = toHfConfigJson(config, original);
    assert.deepEqual(json['id2label'], { 0: 'A' });
    assert.equal(json['gradient_checkpointing'], false);
    assert.deepEqual(json['architectures'], ['BertModel']);
    assert.equal(json['torch_dtype'], 'float32');
    assert.equal(json['num_hidden_layers'], 3);
    assert.deepEqual(parseBertConfig(json, 'm'), config);
  });
});

describe('BERT weight names', () => {
  it('expects 5 embedding weights and 16 per layer', () => {
    const names = expectedBertWeightNames(tiny.config);
    assert.equal(names.length, 5 + 16 * 2);
    assert.ok(names.includes('encoder.layer.1.attention.output.LayerNorm.bias'));
    assert.ok(!names.some((name) => name.startsWith('pooler.')));
  });

  it('strips bert. and renames LayerNorm gamma/beta, leaving other names alone', () => {
    const tensor = hostTensor([1], Float32Array.from([1]));
    const renamed = normalizeBertWeightNames(
      new Map([
        ['bert.embeddings.LayerNorm.gamma', tensor],
        ['bert.encoder.layer.0.output.LayerNorm.beta', tensor],
        ['cls.predictions.bias', tensor],
        ['encoder.layer.0.output.dense.weight', tensor],
      ]),
    );
    assert.deepEqual(
      [...renamed.keys()],
      [
        'embeddings.LayerNorm.weight',
        'encoder.layer.0.output.LayerNorm.bias',
        'cls.predictions.bias',
        'encoder.layer.0.output.dense.weight',
      ],
    );
  });

  it('reads a BertForMaskedLM-style checkpoint through the normalized names', () => {
    const folder = workspace.path('prefixed');
    buildTinyBert(folder);
    const prefixed: NamedTensors = new Map(
      [...tiny.weights].map(([name, tensor]) => [`bert.${name.replace('LayerNorm.weight', 'LayerNorm.gamma')}`, tensor]),
    );
    writeSafetensors(join(folder, 'model.safetensors'), prefixed);
    assert.deepEqual(readBertWeights(folder, tiny.config), tiny.weights);
  });

  it('lists every missing weight and every wrong shape in one error', () => {
    const weights: NamedTensors = new Map(tiny.weights);
    weights.delete('encoder.layer.1.intermediate.dense.weight');
    weights.delete('embeddings.token_type_embeddings.weight');
    weights.set('encoder.layer.0.attention.self.query.weight', hostTensor([32, 16], new Float32Array(512)));
    assert.throws(
      () => checkBertWeights(weights, tiny.config, '/models/broken'),
      (error: Error) =>
        error.message.includes('The weights in /models/broken do not match its config.json (2 layers, hidden size 32)') &&
        error.message.includes('missing 2 weight(s): embeddings.token_type_embeddings.weight, encoder.layer.1.intermediate.dense.weight') &&
        error.message.includes('encoder.layer.0.attention.self.query.weight has shape [32, 16], expected [32, 32]'),
    );
  });
});

/** Why Python cannot run `code`, or undefined when it can. */
function pythonLacks(code: string): string | undefined {
  const probe = spawnSync(TEST_PYTHON, ['-c', code], { encoding: 'utf8' });
  if (probe.error) return `${TEST_PYTHON} is not available (${probe.error.message})`;
  if (probe.status !== 0) return `${TEST_PYTHON} -c '${code}' failed: ${probe.stderr.trim().split('\n').pop()}`;
  return undefined;
}
