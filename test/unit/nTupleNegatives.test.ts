/**
 * Several hard-negative columns per row (n-tuples, as `embedtune mine-negatives --output-format n-tuple` writes):
 * `data.columns.negative: [negative_1, …]` makes mnrl and cached_mnrl train on every negative, as
 * sentence-transformers' MultipleNegativesRankingLoss does with (anchor, positive, negative_1, …) columns.
 * test/parity/nTupleNegativesParity.test.ts compares the loss with sentence-transformers' own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { ConfigDiagnostic } from '../../src/shared/config/configDiagnostic';
import { validateConfigText } from '../../src/shared/config/validateConfig';
import { rowToExample, type ColumnNames } from '../../src/shared/data/exampleMapping';
import { exampleKindFor, type NTupleExample } from '../../src/shared/data/trainingExamples';
import { referenceEncoderOps } from '../../src/trainer/backend/encoderOps';
import { inBatchNegativeTexts } from '../../src/trainer/data/batchIterator';
import { BertEncoder } from '../../src/trainer/model/bert/bertEncoder';
import { readBertConfig, readBertWeights } from '../../src/trainer/model/bertConfig';
import { SentenceEmbedder } from '../../src/trainer/model/sentenceEmbedder';
import { TextTokenizer } from '../../src/trainer/model/textTokenizer';
import { toTextBatch } from '../../src/trainer/training/embeddingExamples';
import { microBatchGradients, type LossSettings } from '../../src/trainer/training/gradientStep';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const NEGATIVES = ['negative_1', 'negative_2', 'negative_3'];
const COLUMNS = {
  anchor: 'query',
  positive: 'passage',
  negative: NEGATIVES,
  text: 'text',
  label: 'label',
  score: 'score',
  tokens: 'tokens',
  tags: 'tags',
} as ColumnNames;

const TUPLES: NTupleExample[] = [
  [
    'how do i reset my password',
    'open settings and choose reset password',
    ['change your username', 'passwords must be long', 'log out of every device'],
  ],
  [
    'what is the capital of france',
    'paris is the capital of france',
    ['lyon is a city in france', 'berlin is the capital of germany', 'france borders spain'],
  ],
  ['how long to boil an egg', 'boil the egg for nine minutes', ['fry the egg in butter', 'eggs keep for weeks', 'boil water for tea']],
  ['why is the sky blue', 'light scatters off air molecules', ['the sea looks blue', 'sunsets are red', 'clouds are water droplets']],
  [
    'best way to learn python',
    'write small programs every day',
    ['python is a snake', 'java runs on a virtual machine', 'read a book on c'],
  ],
  [
    'how does a vaccine work',
    'it trains the immune system',
    ['antibiotics kill bacteria', 'viruses copy themselves', 'fever is a symptom'],
  ],
].map(([anchor, positive, negatives]) => ({ anchor: anchor as string, positive: positive as string, negatives: negatives as string[] }));

describe('n-tuple rows', () => {
  it('mnrl and cached_mnrl with a list of negative columns train on n-tuples; a single column keeps its kinds', () => {
    assert.equal(exampleKindFor('embedding', 'mnrl', { negative: NEGATIVES }), 'n-tuple');
    assert.equal(exampleKindFor('embedding', 'cached_mnrl', { negative: NEGATIVES }), 'n-tuple');
    assert.equal(exampleKindFor('embedding', 'mnrl', { negative: 'negative' }), 'pair');
    assert.equal(exampleKindFor('embedding', 'triplet', { negative: 'negative' }), 'triplet');
  });

  it('reads every negative column in order, and a missing one is a bad row naming the column', () => {
    const record = { query: 'q', passage: 'p', negative_1: 'n1', negative_2: 'n2', negative_3: 'n3' };
    assert.deepEqual(rowToExample('n-tuple', record, COLUMNS), { example: { anchor: 'q', positive: 'p', negatives: ['n1', 'n2', 'n3'] } });
    const mapped = rowToExample('n-tuple', { ...record, negative_2: undefined }, COLUMNS);
    assert.ok('problem' in mapped);
    assert.equal(mapped.problem.column, 'negative_2');
    assert.equal(mapped.problem.reason, 'missing_column');
  });

  it('a batch scores the negatives column by column after the positives, and keeps them distinct in a batch', () => {
    const batch = toTextBatch(TUPLES.slice(0, 2));
    assert.deepEqual(batch.negative, [
      'change your username',
      'lyon is a city in france',
      'passwords must be long',
      'berlin is the capital of germany',
      'log out of every device',
      'france borders spain',
    ]);
    assert.deepEqual(inBatchNegativeTexts(TUPLES[0]!), [TUPLES[0]!.anchor, TUPLES[0]!.positive, ...TUPLES[0]!.negatives]);
  });
});

describe('MNRL on n-tuples', () => {
  const workspace = new TempWorkspace();
  let embedder: SentenceEmbedder;
  before(async () => {
    await tf.setBackend('cpu');
    const { folder } = buildTinyBert(workspace.path('tiny'), { layers: 2, hidden: 32, heads: 4, intermediate: 64 });
    const { config } = readBertConfig(folder);
    const encoder = BertEncoder.fromWeights(config, readBertWeights(folder, config), referenceEncoderOps);
    embedder = new SentenceEmbedder(TextTokenizer.fromFolder(folder), encoder, { pooling: 'mean', normalize: false, maxSeqLength: 32 });
  });
  after(() => workspace.dispose());

  const trainable = () => embedder.encoder.variables;
  const coordinates = { seed: 7, step: 0, microBatch: 0 };
  const run = (name: LossSettings['name'], miniBatchSize: number, examples = TUPLES) =>
    microBatchGradients(embedder, trainable(), toTextBatch(examples), { name, scale: 20, margin: 0, miniBatchSize }, coordinates, false);

  it('cached_mnrl gives plain MNRL loss and gradients with three negatives per anchor', async () => {
    const mnrl = run('mnrl', 6);
    const cached = run('cached_mnrl', 4);
    assert.ok(Math.abs(cached.loss - mnrl.loss) < 1e-5, `${cached.loss} vs ${mnrl.loss}`);
    for (const [name, gradient] of mnrl.gradients) {
      const want = Array.from(await gradient.data());
      const got = Array.from(await cached.gradients.get(name)!.data());
      const worst = want.reduce((max, value, i) => Math.max(max, Math.abs(value - got[i]!)), 0);
      const scale = want.reduce((max, value) => Math.max(max, Math.abs(value)), 1e-3);
      assert.ok(worst <= 1e-4 * scale, `${name}: ${worst} against ${scale}`);
    }
  });

  it('the negatives take part: more negatives per anchor give a higher loss than the pairs alone', () => {
    const pairs = run(
      'mnrl',
      6,
      TUPLES.map(({ anchor, positive }) => ({ anchor, positive, negatives: [] })),
    );
    const one = run(
      'mnrl',
      6,
      TUPLES.map((row) => ({ ...row, negatives: row.negatives.slice(0, 1) })),
    );
    const three = run('mnrl', 6);
    assert.ok(pairs.loss < one.loss && one.loss < three.loss, `pairs ${pairs.loss}, one ${one.loss}, three ${three.loss}`);
  });
});

describe('the validator knows the n-tuple shape', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());
  const rows = TUPLES.map((row) =>
    JSON.stringify({ query: row.anchor, passage: row.positive, negative_1: row.negatives[0], negative_2: row.negatives[1] }),
  );
  workspace.write('mined.jsonl', `${rows.join('\n')}\n`);
  let text = '';
  const validate = (loss: string, negatives: string): ConfigDiagnostic[] => {
    text = `task: embedding\nmodel:\n  base: sentence-transformers/all-MiniLM-L6-v2\ndata:\n  train: mined.jsonl\n  columns:\n    anchor: query\n    positive: passage\n    negative: ${negatives}\nloss:\n  type: ${loss}\ntraining:\n  batch_size: 32\n`;
    return validateConfigText(text, { configPath: workspace.path('run.embedtune.yaml') }).diagnostics.filter(
      (diagnostic) =>
        diagnostic.code === 'data-missing-column' || diagnostic.code === 'negative-columns-loss' || diagnostic.code?.startsWith('schema'),
    );
  };

  it('accepts a list of negative columns the data has, for mnrl and cached_mnrl', () => {
    assert.deepEqual(validate('mnrl', '[negative_1, negative_2]'), []);
    assert.deepEqual(validate('cached_mnrl', '[negative_1, negative_2]'), []);
  });

  it('names a listed negative column the data lacks, at that list item', () => {
    const found = validate('mnrl', '[negative_1, negative_2, negative_3]');
    assert.equal(found.length, 1);
    assert.equal(found[0]!.code, 'data-missing-column');
    assert.match(found[0]!.message, /"negative_3"/);
    assert.equal(text.slice(found[0]!.range.start, found[0]!.range.end), 'negative_3');
  });

  it('refuses several negative columns for a loss that takes one or none', () => {
    for (const loss of ['triplet', 'cosent']) {
      const found = validate(loss, '[negative_1, negative_2]').filter((diagnostic) => diagnostic.code === 'negative-columns-loss');
      assert.equal(found.length, 1, loss);
      assert.match(found[0]!.message, new RegExp(`loss ${loss}`));
    }
    assert.deepEqual(
      validate('triplet', '[negative_1]').filter((diagnostic) => diagnostic.code === 'negative-columns-loss'),
      [],
    );
  });
});
