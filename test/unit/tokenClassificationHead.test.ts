import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { referenceEncoderOps } from '../../src/trainer/backend/encoderOps';
import { WordPieceAligner } from '../../src/trainer/data/tokenClassificationAlignment';
import { BertEncoder } from '../../src/trainer/model/bert/bertEncoder';
import { readBertConfig, readBertWeights } from '../../src/trainer/model/bertConfig';
import { SentenceEmbedder } from '../../src/trainer/model/sentenceEmbedder';
import { TextTokenizer } from '../../src/trainer/model/textTokenizer';
import { balancedClassWeights } from '../../src/trainer/training/classificationHead';
import { crfNegativeLogLikelihood } from '../../src/trainer/training/crf';
import { readTokenClassifierFolder, writeTokenClassifierFolder } from '../../src/trainer/training/tokenClassificationExport';
import { TokenClassificationHead, tagsOf } from '../../src/trainer/training/tokenClassificationHead';
import { predictTags, tokenClassificationGradients, type Tagger } from '../../src/trainer/training/tokenClassificationStep';
import { TEST_PYTHON } from '../helpers/pythonPeer';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const workspace = new TempWorkspace();
let tokenizer: TextTokenizer;
let embedder: SentenceEmbedder;
let vocab: string[];

before(async () => {
  await tf.setBackend('cpu');
  const tiny = buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 16, heads: 2, intermediate: 32 });
  vocab = tiny.vocab;
  const { config } = readBertConfig(tiny.folder);
  tokenizer = TextTokenizer.fromFolder(tiny.folder);
  embedder = new SentenceEmbedder(tokenizer, BertEncoder.fromWeights(config, readBertWeights(tiny.folder, config), referenceEncoderOps), {
    pooling: 'mean',
    normalize: false,
    maxSeqLength: 16,
  });
});
after(() => workspace.dispose());

describe('word-piece alignment', () => {
  it('tags each word at its first piece, and leaves the other pieces and the special tokens out', () => {
    const aligner = new WordPieceAligner(tokenizer);
    // "zq" is not in the vocabulary: it becomes z ##q. "the" and "water" are whole words.
    const aligned = aligner.align([['the', 'zq', 'water'], ['water']], 16);
    const pieces = (row: number) =>
      Array.from(aligned.tokens.inputIds.slice(row * aligned.tokens.seqLength, (row + 1) * aligned.tokens.seqLength), (id) => vocab[id]);
    assert.deepEqual(pieces(0), ['[CLS]', 'the', 'z', '##q', 'water', '[SEP]']);
    assert.deepEqual(pieces(1), ['[CLS]', 'water', '[SEP]', '[PAD]', '[PAD]', '[PAD]']);
    assert.deepEqual(Array.from(aligned.tokens.attentionMask.slice(6)), [1, 1, 1, 0, 0, 0]);
    assert.deepEqual(aligned.lengths, [3, 1]);
    assert.equal(aligned.words, 3);
    // Flat positions in [batch × seqLength]; padding words point at their row's first position.
    assert.deepEqual(Array.from(aligned.firstPieces), [1, 2, 4, 7, 6, 6]);
    assert.deepEqual(aligned.taggedWords, [[0, 1, 2], [0]]);
  });

  it('truncates pieces to model.max_seq_length as transformers does, and drops words that tokenize to nothing', () => {
    const aligner = new WordPieceAligner(tokenizer);
    const aligned = aligner.align([['the', '\u200b', 'zq', 'water', 'the']], 6);
    // Room for 4 pieces: the, z, ##q, water; the zero-width space has no pieces, the last "the" does not fit.
    assert.deepEqual(aligned.taggedWords, [[0, 2, 3]]);
    assert.equal(aligned.tokens.seqLength, 6);
    // Room for 2: "zq" keeps only its first piece, and is still tagged there.
    const cut = aligner.align([['the', 'zq', 'water']], 4);
    assert.deepEqual(
      Array.from(cut.tokens.inputIds, (id) => vocab[id]),
      ['[CLS]', 'the', 'z', '[SEP]'],
    );
    assert.deepEqual(cut.taggedWords, [[0, 1]]);
    assert.deepEqual(aligner.untaggedWords([['the', '\u200b', 'zq', 'water', 'the'], ['water']], 6), {
      words: 6,
      untagged: 2,
      sentences: 1,
    });
    assert.throws(() => aligner.align([['the']], 2), /leaves no room for words after the 2 special tokens/);
  });
});

describe('word-piece alignment against Python', () => {
  const problem = pythonLacks('import tokenizers');
  it(
    'gives the ids and first pieces of each word that Python tokenizers gives for pre-split words (is_pretokenized, word_ids)',
    { skip: problem && `Python check skipped: ${problem}` },
    () => {
      const sentences = [
        ['Started', 'metformin', '500', 'mg', 'twice', 'daily', '.'],
        ['A', '2-week', 'course', 'of', "don't", 'U.S.', 'naïve', 'Café'],
        ['zq', '\u200b', 'water', '(', 'the', ')', 'ZQXV', 'sun'],
        Array.from({ length: 30 }, (_, i) => ['the', 'zq', 'water', 'metformin'][i % 4]!),
      ];
      const maxLength = 16;
      const script = `
import json, sys
from tokenizers import Tokenizer
tokenizer = Tokenizer.from_file(sys.argv[1] + "/tokenizer.json")
tokenizer.enable_truncation(int(sys.argv[2]))
encodings = tokenizer.encode_batch(json.load(sys.stdin), is_pretokenized=True)
print(json.dumps([{"ids": e.ids, "word_ids": e.word_ids} for e in encodings]))
`;
      const run = spawnSync(TEST_PYTHON, ['-c', script, workspace.path('tiny'), String(maxLength)], {
        input: JSON.stringify(sentences),
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, run.stderr);
      const python = JSON.parse(run.stdout) as { ids: number[]; word_ids: (number | null)[] }[];
      const aligned = new WordPieceAligner(tokenizer).align(sentences, maxLength);
      python.forEach((expected, b) => {
        const seq = aligned.tokens.seqLength;
        const ids = Array.from(aligned.tokens.inputIds.slice(b * seq, b * seq + expected.ids.length));
        assert.deepEqual(
          ids.map((id) => vocab[id]),
          expected.ids.map((id) => vocab[id]),
          `sentence ${b + 1}`,
        );
        const firsts = new Map<number, number>();
        expected.word_ids.forEach((word, position) => word !== null && !firsts.has(word) && firsts.set(word, position));
        assert.deepEqual(aligned.taggedWords[b], [...firsts.keys()], `tagged words of sentence ${b + 1}`);
        assert.deepEqual(
          aligned.taggedWords[b]!.map((_, w) => aligned.firstPieces[b * aligned.words + w]! - b * seq),
          [...firsts.values()],
          `first pieces of sentence ${b + 1}`,
        );
      });
    },
  );
});

describe('the token-classification head', () => {
  const labels = ['B-X', 'I-X', 'O'];

  it('computes the CRF loss of the emissions at the first pieces, as the CRF on its own does', () => {
    const head = new TokenClassificationHead(labels, 'crf', 4, 5);
    const hidden = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 9) as tf.Tensor3D;
    const firstPieces = Int32Array.from([1, 3, 4, 6, 7, 5]);
    const emissions = head.emissions(hidden, firstPieces, 3);
    // By hand: gather rows of the flattened outputs, then the linear layer.
    const flat = tf.reshape(hidden, [10, 4]).arraySync() as number[][];
    const w = head.weight.arraySync() as number[][];
    const b = head.bias.arraySync() as number[];
    const expected = Array.from(firstPieces, (p) => labels.map((_, k) => flat[p]!.reduce((sum, x, h) => sum + x * w[h]![k]!, b[k]!)));
    const got = (emissions.arraySync() as number[][][]).flat();
    expected.forEach((row, i) => row.forEach((value, k) => assert.ok(Math.abs(got[i]![k]! - value) < 1e-5)));

    const tags = Int32Array.from([0, 1, 2, 2, 0, 0]);
    const lengths = [3, 2];
    const perSentence = crfNegativeLogLikelihood(
      emissions,
      { transitions: head.transitions as tf.Tensor2D, start: head.start as tf.Tensor1D, end: head.end as tf.Tensor1D },
      { tags, lengths },
    ).arraySync();
    assert.ok(Math.abs(head.loss(emissions, tags, lengths).dataSync()[0]! - (perSentence[0]! + perSentence[1]!) / 2) < 1e-5);
  });

  it('computes per-word softmax cross-entropy over real words only, weighted by class as torch does', () => {
    const emissions = tf.tensor3d([
      [
        [2, 0, 1],
        [0, 1, 0],
        [5, 5, 5],
      ],
    ]);
    const tags = Int32Array.from([0, 2, 1]);
    const logP = (row: number[], k: number) => row[k]! - Math.log(row.reduce((s, x) => s + Math.exp(x), 0));
    const nll = [-logP([2, 0, 1], 0), -logP([0, 1, 0], 2)];
    const plain = new TokenClassificationHead(labels, 'softmax', 3, 1);
    assert.ok(
      Math.abs(plain.loss(emissions, tags, [2]).dataSync()[0]! - (nll[0]! + nll[1]!) / 2) < 1e-5,
      'the padded third word does not count',
    );
    const weighted = new TokenClassificationHead(labels, 'softmax', 3, 1, [3, 1, 0.5]);
    assert.ok(Math.abs(weighted.loss(emissions, tags, [2]).dataSync()[0]! - (3 * nll[0]! + 0.5 * nll[1]!) / 3.5) < 1e-5);
  });

  it('computes the per-word focal loss with per-tag alpha, over real words only', () => {
    const emissions = tf.tensor3d([
      [
        [2, 0, 1],
        [0, 1, 0],
        [5, 5, 5],
      ],
      [
        [1, 1, 0],
        [0, 0, 0],
        [0, 0, 0],
      ],
    ]);
    const tags = Int32Array.from([0, 2, 1, 1, 0, 0]);
    const p = (row: number[], k: number) => Math.exp(row[k]!) / row.reduce((sum, x) => sum + Math.exp(x), 0);
    const alpha = [0.5, 1, 2];
    const gamma = 2;
    const words: [number[], number][] = [
      [[2, 0, 1], 0],
      [[0, 1, 0], 2],
      [[1, 1, 0], 1],
    ];
    const expected = words.reduce((sum, [row, k]) => sum - alpha[k]! * (1 - p(row, k)) ** gamma * Math.log(p(row, k)), 0) / words.length;
    const head = new TokenClassificationHead(labels, 'focal', 3, 1);
    assert.ok(Math.abs(head.loss(emissions, tags, [2, 1], { focal: { gamma, alpha } }).dataSync()[0]! - expected) < 1e-5);
    assert.throws(
      () => head.loss(emissions, tags, [2, 1], { focal: { gamma, alpha: [1, 2] } }),
      /loss.alpha lists 2 weights, but the data has 3 tags/,
    );
  });

  it('decodes by Viterbi with a CRF and by argmax without one', async () => {
    const emissions = tf.tensor3d([
      [
        [0, 1, 0],
        [0, 1, 0],
      ],
    ]);
    const crf = new TokenClassificationHead(labels, 'crf', 3, 1);
    // I-X → I-X is forbidden, and B-X → I-X is cheap: the CRF picks B-X I-X over I-X I-X.
    crf.transitions!.assign(
      tf.tensor2d([
        [0, 2, 0],
        [0, -100, 0],
        [0, 0, 0],
      ]),
    );
    crf.start!.assign(tf.zeros([3]));
    crf.end!.assign(tf.zeros([3]));
    assert.deepEqual(await crf.decode(emissions, [2]), [[0, 1]]);
    assert.deepEqual(await new TokenClassificationHead(labels, 'softmax', 3, 1).decode(emissions, [2]), [[1, 1]]);
  });

  it('sorts tags, saves and restores the CRF, and refuses data with a single tag', async () => {
    assert.deepEqual(tagsOf([{ tags: ['O', 'B-X'] }, { tags: ['I-X', 'O'] }]), labels);
    const head = new TokenClassificationHead(labels, 'crf', 4, 1);
    const other = new TokenClassificationHead(labels, 'crf', 4, 2);
    assert.deepEqual(
      [...(await head.snapshot()).keys()],
      ['token_classifier.weight', 'token_classifier.bias', 'crf.transitions', 'crf.start_transitions', 'crf.end_transitions'],
    );
    other.restore(await head.snapshot());
    assert.deepEqual(other.transitions!.arraySync(), head.transitions!.arraySync());
    assert.equal(head.parameterCount(), 4 * 3 + 3 + 9 + 3 + 3);
    const moreTags = new TokenClassificationHead([...labels, 'B-Y'], 'crf', 4, 1);
    const saved = await head.snapshot();
    assert.throws(
      () => moreTags.restore(saved),
      /"token_classifier.weight" has shape \[4, 3\], but this head has \[4, 4\] for 4 tags \(B-X, I-X, O, B-Y\)/,
    );
    assert.throws(() => moreTags.restore(new Map()), /has no "token_classifier.weight"/);
    assert.throws(() => new TokenClassificationHead(['O'], 'crf', 4, 1), /at least two tags/);
    assert.throws(() => head.indexOf('B-Y'), /The tag "B-Y" was not in the training data/);
  });
});

describe('training a tagger', () => {
  it('sends gradients through the CRF and the emission layer into the encoder', () => {
    const head = new TokenClassificationHead(labels(), 'crf', 16, 3);
    const tagger: Tagger = { embedder, head, aligner: new WordPieceAligner(tokenizer) };
    const trainable = new Map([...embedder.encoder.variables, ...head.variables]);
    const { loss, gradients } = tokenClassificationGradients(
      tagger,
      trainable,
      [
        { tokens: ['the', 'water'], tags: ['B-X', 'I-X'] },
        { tokens: ['zq'], tags: ['O'] },
      ],
      {},
      { seed: 1, step: 0, microBatch: 0 },
    );
    assert.ok(Number.isFinite(loss) && loss > 0);
    for (const name of [
      'crf.transitions',
      'crf.start_transitions',
      'token_classifier.weight',
      'encoder.layer.0.output.dense.weight',
      'embeddings.word_embeddings.weight',
    ]) {
      const gradient = gradients.get(name);
      assert.ok(gradient, `${name} gets a gradient`);
      assert.ok(
        Array.from(gradient.dataSync()).some((x) => x !== 0),
        `${name} gets a non-zero gradient`,
      );
    }
    for (const gradient of gradients.values()) gradient.dispose();
  });

  it('predicts a tag for every word, and O for words cut off by the sequence length', async () => {
    const head = new TokenClassificationHead(labels(), 'crf', 16, 3);
    const short = new SentenceEmbedder(tokenizer, embedder.encoder, { ...embedder.settings, maxSeqLength: 4 });
    const predicted = await predictTags(
      { embedder: short, head, aligner: new WordPieceAligner(tokenizer) },
      [['the', 'water', 'the', 'water'], ['water']],
      8,
    );
    assert.deepEqual(
      predicted.map((row) => row.length),
      [4, 1],
    );
    assert.deepEqual(predicted[0]!.slice(2), ['O', 'O']);
    for (const tag of predicted.flat()) assert.ok(labels().includes(tag));
  });
});

describe('a tagger’s memory', () => {
  it('leaves no tensors behind after a training pass and a prediction', async () => {
    const head = new TokenClassificationHead(labels(), 'crf', 16, 3);
    const tagger: Tagger = { embedder, head, aligner: new WordPieceAligner(tokenizer) };
    const trainable = new Map([...embedder.encoder.variables, ...head.variables]);
    const examples = [{ tokens: ['the', 'zq', 'water'], tags: ['B-X', 'I-X', 'O'] }];
    const pass = () => {
      const { gradients } = tokenClassificationGradients(tagger, trainable, examples, {}, { seed: 1, step: 0, microBatch: 0 });
      for (const gradient of gradients.values()) gradient.dispose();
    };
    pass();
    await predictTags(tagger, [['the', 'water']], 4);
    const before = tf.memory().numTensors;
    pass();
    await predictTags(tagger, [['the', 'water']], 4);
    assert.equal(tf.memory().numTensors, before);
    head.dispose();
  });
});

describe('the exported head', () => {
  it('reads back to the same weights and predictions, with or without a CRF', async () => {
    for (const objective of ['crf', 'softmax'] as const) {
      const head = new TokenClassificationHead(labels(), objective, 16, 11);
      const folder = workspace.path(`export-${objective}`);
      await writeTokenClassifierFolder(folder, head, 16);
      const read = readTokenClassifierFolder(folder);
      assert.deepEqual([read.labels, read.objective], [head.labels, objective]);
      assert.deepEqual([...(await read.snapshot())], [...(await head.snapshot())]);
      const sentences = [
        ['the', 'zq', 'water'],
        ['water', 'the'],
      ];
      const aligner = new WordPieceAligner(tokenizer);
      assert.deepEqual(
        await predictTags({ embedder, head: read, aligner }, sentences, 2),
        await predictTags({ embedder, head, aligner }, sentences, 2),
      );
      head.dispose();
      read.dispose();
    }
    assert.throws(() => readTokenClassifierFolder(workspace.path('tiny')), /has no token_classifier\/config.json/);
  });
});

describe('balanced class weights', () => {
  it('are n / (classes × count) as scikit-learn computes them', () => {
    assert.deepEqual(balancedClassWeights(['a', 'b', 'c'], ['a', 'a', 'a', 'b', 'c', 'c']), [6 / 9, 2, 1]);
    assert.deepEqual(balancedClassWeights(['a', 'b'], ['a']), [0.5, 0]);
  });
});

function labels(): string[] {
  return ['B-X', 'I-X', 'O'];
}

/** Why Python cannot run \`code\`, or undefined when it can. */
function pythonLacks(code: string): string | undefined {
  const probe = spawnSync(TEST_PYTHON, ['-c', code], { encoding: 'utf8' });
  if (probe.error) return `${TEST_PYTHON} is not available (${probe.error.message})`;
  if (probe.status !== 0) return `${TEST_PYTHON} -c '${code}' failed: ${probe.stderr.trim().split('\n').pop()}`;
  return undefined;
}
