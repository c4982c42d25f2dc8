import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { ConfigDiagnostic } from '../../src/shared/config/configDiagnostic';
import { resolveConfig } from '../../src/shared/config/configTypes';
import { resolveColumnPrompts, rolePromptTexts } from '../../src/shared/config/promptSettings';
import { validateConfigText } from '../../src/shared/config/validateConfig';
import { referenceEncoderOps } from '../../src/trainer/backend/encoderOps';
import { loadEmbedder } from '../../src/trainer/model/loadEmbedder';
import { choosePrompt, promptPoolingProblem, readModelPrompts } from '../../src/trainer/model/modelPrompts';
import type { SentenceEmbedder } from '../../src/trainer/model/sentenceEmbedder';
import { rankingMetrics } from '../../src/trainer/evaluation/rankingMetrics';
import { buildRetrievalEvalSet } from '../../src/trainer/evaluation/retrievalEvalSet';
import type { Example } from '../../src/trainer/data/trainingExamples';
import { promptedBatch } from '../../src/trainer/training/promptedBatch';
import { ValidationEvaluator } from '../../src/trainer/training/validationEvaluator';
import { withRange } from '../helpers/markedText';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const workspace = new TempWorkspace();
after(() => workspace.dispose());

describe('which role gets which prompt', () => {
  it('defaults anchor to query and positive/negative to document, as encode_query and encode_document choose', () => {
    assert.deepEqual(resolveColumnPrompts({ query: 'query: ', document: 'passage: ' }, undefined), {
      anchor: 'query',
      positive: 'document',
      negative: 'document',
    });
    // encode_document looks for document, then passage, then corpus.
    assert.deepEqual(resolveColumnPrompts({ corpus: 'c: ', passage: 'p: ' }, undefined), { positive: 'passage', negative: 'passage' });
    assert.deepEqual(resolveColumnPrompts({ other: 'x' }, undefined), {});
  });

  it('takes a written mapping as it is: a role it leaves out gets no prompt', () => {
    const resolved = resolveConfig({
      model: { base: 'm', prompts: { query: 'query: ', document: 'passage: ' }, column_prompts: { positive: 'query' } },
      data: { train: 't.jsonl' },
    });
    assert.deepEqual(resolved.model.column_prompts, { positive: 'query' });
    assert.deepEqual(rolePromptTexts(resolved.model), { positive: 'query: ' });
  });

  it('gives each role its prompt text, and none for an empty prompt', () => {
    const model = resolveConfig({ model: { base: 'm', prompts: { query: 'query: ', document: '' } }, data: { train: 't.jsonl' } }).model;
    assert.deepEqual(rolePromptTexts(model), { anchor: 'query: ' });
  });
});

describe('promptedBatch', () => {
  it('puts each role its prompt in front of every text and keeps the targets', () => {
    const scores = Float32Array.from([0.5, 1]);
    const batch = { anchor: ['a1', 'a2'], positive: ['p1', 'p2'], negative: ['n1', 'n2'], targets: { scores } };
    const prompted = promptedBatch(batch, { anchor: 'query: ', positive: 'passage: ', negative: 'passage: ' });
    assert.deepEqual(prompted.anchor, ['query: a1', 'query: a2']);
    assert.deepEqual(prompted.positive, ['passage: p1', 'passage: p2']);
    assert.deepEqual(prompted.negative, ['passage: n1', 'passage: n2']);
    assert.equal(prompted.targets.scores, scores);
    assert.deepEqual(batch.anchor, ['a1', 'a2'], 'the input batch is not changed');
  });

  it('leaves a role without a prompt, and a batch without negatives, as they are', () => {
    const prompted = promptedBatch({ anchor: ['a'], positive: ['p'], targets: {} }, { anchor: 'q: ' });
    assert.deepEqual(prompted, { anchor: ['q: a'], positive: ['p'], targets: {} });
  });
});

describe('the prompts of a model for embedtune encode', () => {
  it('reads config_sentence_transformers.json and picks the named prompt, else the default, else none', () => {
    workspace.write(
      'st/config_sentence_transformers.json',
      JSON.stringify({ prompts: { query: 'query: ', document: 'passage: ' }, default_prompt_name: 'document' }),
    );
    const prompts = readModelPrompts(workspace.path('st'));
    assert.deepEqual(choosePrompt(prompts, 'query'), { name: 'query', text: 'query: ' });
    assert.deepEqual(choosePrompt(prompts, undefined), { name: 'document', text: 'passage: ' });
    assert.deepEqual(choosePrompt({ prompts: {} }, undefined), { text: '' });
    assert.throws(() => choosePrompt(prompts, 'qeury'), /no prompt "qeury"; it has "query", "document"/);
  });
});

describe('a model that pools without its prompt', () => {
  const modules = JSON.stringify([
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ]);
  it('is named, since sentence-transformers would leave the prompt tokens out of the mean and EmbedTune does not', () => {
    workspace.write('excluding/modules.json', modules);
    workspace.write('excluding/1_Pooling/config.json', JSON.stringify({ pooling_mode_mean_tokens: true, include_prompt: false }));
    assert.match(
      promptPoolingProblem(workspace.path('excluding'), 'instructor') ?? '',
      /^instructor's Pooling module says include_prompt: false/,
    );
  });

  it('is no problem with include_prompt true or unset, or without modules', () => {
    workspace.write('including/modules.json', modules);
    workspace.write('including/1_Pooling/config.json', JSON.stringify({ pooling_mode_mean_tokens: true, include_prompt: true }));
    workspace.write('unset/modules.json', modules);
    workspace.write('unset/1_Pooling/config.json', JSON.stringify({ pooling_mode_mean_tokens: true }));
    workspace.write('plain/config.json', '{}');
    for (const folder of ['including', 'unset', 'plain']) assert.equal(promptPoolingProblem(workspace.path(folder), folder), undefined);
  });
});

describe('validation of prompts and loss.matryoshka', () => {
  workspace.write('data/pairs.jsonl', pairsJsonl(200));
  const configPath = workspace.path('run.embedtune.yaml');
  const header = 'model:\n  base: sentence-transformers/all-MiniLM-L6-v2\n';
  const data = 'data:\n  train: data/pairs.jsonl\n';
  const diagnose = (text: string): ConfigDiagnostic[] => validateConfigText(text, { configPath }).diagnostics;
  const only = (marked: string, code: string): ConfigDiagnostic => {
    const { text, range } = withRange(marked);
    const found = diagnose(text).filter((d) => d.code === code);
    assert.equal(found.length, 1, `expected one ${code}, got ${JSON.stringify(diagnose(text).map((d) => d.code))}`);
    assert.deepEqual(found[0]!.range, range, `${code} on "${text.slice(found[0]!.range.start, found[0]!.range.end)}"`);
    return found[0]!;
  };

  it('reports a column prompt that model.prompts does not define, with the closest name and a fix for each', () => {
    const d = only(
      `${header}  prompts: {query: "query: ", document: "passage: "}\n  column_prompts:\n    positive: [[documnet]]\n${data}`,
      'prompt-unknown',
    );
    assert.equal(d.severity, 'error');
    assert.match(
      d.message,
      /model\.column_prompts\.positive names the prompt "documnet", which model\.prompts does not define\. Defined: query, document\. Did you mean "document"\?/,
    );
    const fixes = (d.data as unknown as { fixes: { title: string; preferred?: boolean }[] }).fixes;
    assert.deepEqual(
      fixes.map((fix) => [fix.title, fix.preferred]),
      [
        ['Use prompt query', false],
        ['Use prompt document', true],
      ],
    );
  });

  it('reports a default_prompt_name when there are no prompts at all', () => {
    const d = only(`${header}  default_prompt_name: [[query]]\n${data}`, 'prompt-unknown');
    assert.match(d.message, /model\.prompts defines none/);
  });

  it('accepts prompts whose names all exist', () => {
    const codes = diagnose(
      `${header}  prompts: {query: "q: ", doc: "d: "}\n  column_prompts: {anchor: query, positive: doc}\n  default_prompt_name: query\n${data}`,
    ).map((d) => d.code);
    assert.ok(!codes.includes('prompt-unknown'), codes.join(', '));
  });

  it('warns that a classification task trains without prompts', () => {
    only(`task: classification\n${header}  [[prompts]]: {query: "q: "}\n${data}`, 'prompts-unused');
  });

  it('reports weights that are not one per dim, and Matryoshka on a classification task', () => {
    const text = `${header}${data}loss:\n  matryoshka: {dims: [384, 128, 64], weights: [1, 1]}\n`;
    const found = diagnose(text).filter((d) => d.code === 'matryoshka-weights-length');
    assert.equal(found.length, 1);
    const d = found[0]!;
    assert.equal(text.slice(d.range.start, d.range.end), '[1, 1]', 'on the weights');
    assert.match(d.message, /2 weight\(s\) for 3 dimension\(s\)/);
    only(`task: classification\n${header}${data}loss:\n  [[matryoshka]]:\n    dims: [64]\n`, 'matryoshka-task-mismatch');
    assert.deepEqual(
      diagnose(`${header}${data}loss:\n  matryoshka: {dims: [384, 64], weights: [1, 0.5]}\n`).filter((d) =>
        d.code.startsWith('matryoshka'),
      ),
      [],
    );
  });
});

describe('evaluation with prompts and Matryoshka dims', () => {
  let embedder: SentenceEmbedder;
  before(async () => {
    await tf.setBackend('cpu');
    const { folder } = buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 16, heads: 2, intermediate: 32, seed: 3 });
    embedder = (
      await loadEmbedder({
        base: folder,
        baseDir: workspace.path('.'),
        written: undefined,
        resolved: { base: folder, pooling: 'mean', normalize: true, max_seq_length: 32 },
        ops: referenceEncoderOps,
        trainable: () => false,
        env: { EMBEDTUNE_OFFLINE: '1' },
      })
    ).embedder;
  });

  const WORDS = 'the quick brown fox jump over lazy dog river mountain city music paper school water light house tree'.split(' ');
  const pairs = Array.from({ length: 12 }, (_, i) => ({
    anchor: `${WORDS[i % WORDS.length]} ${WORDS[(i * 5 + 1) % WORDS.length]} ${WORDS[(i * 7 + 2) % WORDS.length]}`,
    positive: `${WORDS[(i * 3 + 4) % WORDS.length]} ${WORDS[(i * 11 + 5) % WORDS.length]} music`,
  }));

  it('puts the anchor prompt before the queries and the positive prompt before the corpus', async () => {
    const prompted = await new ValidationEvaluator('pair', pairs as unknown as Example[], ['mrr@10'], {
      prompts: { anchor: 'river light: ', positive: 'paper: ' },
    }).evaluate(embedder, 8);
    const written = pairs.map((pair) => ({ anchor: `river light: ${pair.anchor}`, positive: `paper: ${pair.positive}` }));
    const byHand = await new ValidationEvaluator('pair', written as unknown as Example[], ['mrr@10']).evaluate(embedder, 8);
    const plain = await new ValidationEvaluator('pair', pairs as unknown as Example[], ['mrr@10']).evaluate(embedder, 8);
    assert.equal(prompted['mrr@10'], byHand['mrr@10']);
    assert.notEqual(prompted['mrr@10'], plain['mrr@10'], 'the prompts change the ranking of this tiny model');
  });

  it('reports the primary metric at each dim below the model, on embeddings cut to it and normalized again', async () => {
    const values = await new ValidationEvaluator('pair', pairs as unknown as Example[], ['ndcg@10', 'mrr@10'], {
      primary: 'ndcg@10',
      matryoshkaDims: [16, 8, 4],
    }).evaluate(embedder, 8);
    assert.deepEqual(Object.keys(values), ['ndcg@10', 'mrr@10', 'ndcg@10@dim8', 'ndcg@10@dim4']);
    const set = buildRetrievalEvalSet(pairs.map((pair) => ({ ...pair, relevant: true })));
    const queries = await embedder.encode(set.queries, 8);
    const corpus = await embedder.encode(set.corpus, 8);
    for (const dim of [8, 4]) {
      const cut = (v: Float32Array) => {
        const part = Array.from(v.subarray(0, dim));
        const norm = Math.hypot(...part);
        return part.map((x) => x / norm);
      };
      const q = queries.map(cut);
      const c = corpus.map(cut);
      const data = Float32Array.from(q.flatMap((qv) => c.map((cv) => qv.reduce((sum, x, i) => sum + x * cv[i]!, 0))));
      const expected = rankingMetrics({ data, queries: q.length, corpus: c.length }, set.relevant, ['ndcg@10'])['ndcg@10']!;
      assert.ok(Math.abs(values[`ndcg@10@dim${dim}`]! - expected) < 1e-6, `dim ${dim}: ${values[`ndcg@10@dim${dim}`]} against ${expected}`);
    }
    assert.notEqual(values['ndcg@10@dim4'], values['ndcg@10']);
  });
});
