import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { resolveConfig, type EmbedTuneConfig } from '../../src/shared/config/configTypes';
import { BatchIterator, inBatchNegativeTexts } from '../../src/trainer/data/batchIterator';
import { DataFileError, DataRowError } from '../../src/trainer/data/dataErrors';
import { readDataRows, type DataRow } from '../../src/trainer/data/dataRowReader';
import { loadTrainingData, type TrainingData } from '../../src/trainer/data/loadTrainingData';
import { readExamples } from '../../src/trainer/data/readExamples';
import { exampleKindFor, type PairExample } from '../../src/trainer/data/trainingExamples';
import { TempWorkspace, pairsJsonl } from '../helpers/tempWorkspace';

/** The nearest `name` folder at or above the working directory, so the test runs from any folder of the repo. */
function findUp(name: string): string {
  for (let dir = resolve('.'); ; dir = dirname(dir)) {
    if (existsSync(join(dir, name, 'README.md'))) return join(dir, name);
    if (dirname(dir) === dir) throw new Error(`No ${name}/ folder above ${process.cwd()}`);
  }
}

async function collect(rows: AsyncIterable<DataRow>): Promise<DataRow[]> {
  const all: DataRow[] = [];
  for await (const row of rows) all.push(row);
  return all;
}

function withWorkspace(t: { after: (fn: () => void) => void }): TempWorkspace {
  const workspace = new TempWorkspace();
  t.after(() => workspace.dispose());
  return workspace;
}

type ConfigOverrides = Omit<Partial<EmbedTuneConfig>, 'data'> & { data: EmbedTuneConfig['data'] };

function config(overrides: ConfigOverrides) {
  return resolveConfig({ model: { base: 'sentence-transformers/all-MiniLM-L6-v2' }, ...overrides });
}

/** The message `loadTrainingData` throws for a config, or fails when it loads. */
async function loadError(workspace: TempWorkspace, overrides: ConfigOverrides): Promise<Error> {
  try {
    await loadTrainingData(config(overrides), workspace.root);
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected the data to fail to load');
}

test('JSONL rows carry their 1-based file line; a BOM, CRLF and blank lines are tolerated', async (t) => {
  const workspace = withWorkspace(t);
  const file = workspace.write(
    'rows.jsonl',
    '\ufeff{"anchor":"a1","positive":"p1"}\r\n\r\n  \n{"anchor":"a2","positive":"p2"}\n{"anchor":"a3","positive":"p3"}',
  );
  const rows = await collect(readDataRows(file, 'jsonl'));
  assert.deepEqual(rows, [
    { kind: 'record', line: 1, record: { anchor: 'a1', positive: 'p1' } },
    { kind: 'record', line: 4, record: { anchor: 'a2', positive: 'p2' } },
    { kind: 'record', line: 5, record: { anchor: 'a3', positive: 'p3' } },
  ]);
});

test('CSV fields may be quoted and hold commas, quotes and line breaks; later rows keep their true line numbers', async (t) => {
  const workspace = withWorkspace(t);
  const file = workspace.write(
    'pairs.csv',
    '\ufeffsentence1, sentence2 ,score\r\n' +
      '"Hello, world","He said ""hi""",0.5\r\n' +
      '"two\r\nlines","three\r\n\r\nlines",1\r\n' +
      '\r\n' +
      'plain,text,0\r\n',
  );
  const rows = await collect(readDataRows(file, 'csv'));
  assert.deepEqual(rows, [
    { kind: 'header', line: 1, columns: ['sentence1', 'sentence2', 'score'] },
    { kind: 'record', line: 2, record: { sentence1: 'Hello, world', sentence2: 'He said "hi"', score: '0.5' } },
    { kind: 'record', line: 3, record: { sentence1: 'two\r\nlines', sentence2: 'three\r\n\r\nlines', score: '1' } },
    { kind: 'record', line: 8, record: { sentence1: 'plain', sentence2: 'text', score: '0' } },
  ]);
});

test('TSV treats quote characters as text, as the config validator does', async (t) => {
  const workspace = withWorkspace(t);
  const file = workspace.write('tickets.tsv', 'text\tlabel\n"Refund" please, now\tbilling\nApp says "error 5\tbug\n');
  const rows = await collect(readDataRows(file, 'tsv'));
  assert.deepEqual(rows, [
    { kind: 'header', line: 1, columns: ['text', 'label'] },
    { kind: 'record', line: 2, record: { text: '"Refund" please, now', label: 'billing' } },
    { kind: 'record', line: 3, record: { text: 'App says "error 5', label: 'bug' } },
  ]);
});

test('a CSV with an unclosed quote fails as a whole file, naming the file', async (t) => {
  const workspace = withWorkspace(t);
  const file = workspace.write('broken.csv', 'anchor,positive\na,"b\nc,d\n');
  await assert.rejects(
    readExamples({ file, format: 'csv', kind: 'pair', columns: config({ data: { train: 'x' } }).data.columns, onBadRow: 'skip' }),
    (error: Error) => error instanceof DataFileError && error.message.startsWith(`${file}: is not valid CSV: Quote Not Closed`),
  );
});

test('a missing data file is reported with its path', async (t) => {
  const workspace = withWorkspace(t);
  const error = await loadError(workspace, { data: { train: 'nope.jsonl' } });
  assert.equal(error.message, `${workspace.path('nope.jsonl')}: does not exist`);
});

test('data.columns maps roles to the columns of each format', async (t) => {
  const workspace = withWorkspace(t);
  workspace.write('train.csv', 'question,answer\nq1,a1\nq2,a2\n');
  workspace.write('dev.tsv', 'question\tanswer\nq3\ta3\n');
  const data = await loadTrainingData(
    config({ data: { train: 'train.csv', validation: 'dev.tsv', columns: { anchor: 'question', positive: 'answer' } } }),
    workspace.root,
  );
  assert.equal(data.kind, 'pair');
  assert.deepEqual(data.train, [
    { anchor: 'q1', positive: 'a1' },
    { anchor: 'q2', positive: 'a2' },
  ]);
  assert.deepEqual(data.validation, [{ anchor: 'q3', positive: 'a3' }]);
  assert.deepEqual(data.summary.dataset, { train_rows: 2, validation_rows: 1, skipped_rows: 0 });
  assert.equal(data.summary.heldOut, 0);
});

test('each task and loss loads its own example shape, converting CSV text to numbers and labels', async (t) => {
  const workspace = withWorkspace(t);
  workspace.write('scored.csv', 'anchor,positive,score\na,b, 0.25 \n');
  workspace.write('contrastive.csv', 'anchor,positive,label\na,b,1\nc,d,0.0\n');
  workspace.write('nli.jsonl', '{"anchor":"a","positive":"b","label":"entailment"}\n');
  workspace.write('triplets.jsonl', '{"anchor":"a","positive":"b","negative":"c"}\n');
  workspace.write('classes.jsonl', '{"text":"t1","label":3}\n{"text":"t2","label":" bug "}\n');
  workspace.write('ner.tsv', 'tokens\ttags\nTook aspirin\tO B-DRUG\n["5", "mg"]\t["B-DOSE","I-DOSE"]\n');
  const load = async (train: string, rest: Partial<EmbedTuneConfig>) =>
    loadTrainingData(config({ ...rest, data: { train, validation: train } }), workspace.root);

  const checks: Array<[TrainingData, string, unknown[]]> = [
    [await load('scored.csv', { loss: { type: 'cosent' } }), 'scored-pair', [{ anchor: 'a', positive: 'b', score: 0.25 }]],
    [
      await load('contrastive.csv', { loss: { type: 'contrastive' } }),
      'contrastive-pair',
      [
        { anchor: 'a', positive: 'b', label: 1 },
        { anchor: 'c', positive: 'd', label: 0 },
      ],
    ],
    [await load('nli.jsonl', { loss: { type: 'softmax' } }), 'labeled-pair', [{ anchor: 'a', positive: 'b', label: 'entailment' }]],
    [await load('triplets.jsonl', { loss: { type: 'triplet' } }), 'triplet', [{ anchor: 'a', positive: 'b', negative: 'c' }]],
    [
      await load('classes.jsonl', { task: 'classification', loss: { type: 'focal' } }),
      'text-label',
      [
        { text: 't1', label: '3' },
        { text: 't2', label: 'bug' },
      ],
    ],
    [
      await load('ner.tsv', { task: 'token-classification', loss: { type: 'softmax' } }),
      'token-tags',
      [
        { tokens: ['Took', 'aspirin'], tags: ['O', 'B-DRUG'] },
        { tokens: ['5', 'mg'], tags: ['B-DOSE', 'I-DOSE'] },
      ],
    ],
  ];
  for (const [data, kind, examples] of checks) {
    assert.equal(data.kind, kind);
    assert.deepEqual(data.train, examples, kind);
  }
  assert.equal(exampleKindFor('embedding', 'mnrl'), 'pair');
  assert.throws(() => exampleKindFor('classification', 'mnrl'), /Loss "mnrl" cannot train task "classification"/);
});

test('with on_bad_row: error, every kind of bad row stops loading with file:line, the column and what is wrong', async (t) => {
  const workspace = withWorkspace(t);
  const fix = '. Fix the row, or set data.on_bad_row: skip to drop bad rows.';
  const cases: Array<[string, string, Partial<EmbedTuneConfig>, string, string]> = [
    // [file, content, config, reason, message after "file:"]
    ['a.jsonl', '{"query":"q","positive":"p"}\n{"query":"q2",\n', {}, 'invalid_json', '2: the row is not valid JSON ('],
    ['b.jsonl', '["q","p"]\n', {}, 'not_an_object', '1: the row is an array, not a JSON object with one key per column'],
    ['c.csv', 'query,positive\nq,p,extra\n', {}, 'field_count', '2: the row has 3 fields, but the header has 2'],
    [
      'd.jsonl',
      '{"query":"q","positive":"p"}\n\n{"positive":"p"}\n',
      {},
      'missing_column',
      '3: column "query" (data.columns.anchor) is missing',
    ],
    ['e.csv', 'query,positive\nq,"   "\n', {}, 'empty_value', '2: column "positive" (data.columns.positive) is empty'],
    ['f.jsonl', '{"query":42,"positive":"p"}\n', {}, 'wrong_type', '1: column "query" (data.columns.anchor) is a number (42), not text'],
    [
      'g.csv',
      'query,positive,score\nq,p,high\n',
      { loss: { type: 'cosine' } },
      'not_a_number',
      '2: column "score" (data.columns.score) is "high", not a number',
    ],
    [
      'h.csv',
      'query,positive,label\nq,p,yes\n',
      { loss: { type: 'contrastive' } },
      'invalid_label',
      '2: column "label" (data.columns.label) is "yes"; contrastive loss needs 0 (dissimilar) or 1 (similar)',
    ],
    [
      'i.jsonl',
      '{"tokens":["a","b","c"],"tags":["O","O"]}\n',
      { task: 'token-classification', loss: { type: 'softmax' } },
      'length_mismatch',
      '1: column "tags" (data.columns.tags) has 2 tags, but column "tokens" has 3 tokens',
    ],
  ];
  for (const [name, content, rest, reason, message] of cases) {
    const file = workspace.write(name, content);
    const error = await loadError(workspace, { ...rest, data: { train: name, columns: { anchor: 'query' } } });
    assert.ok(error instanceof DataRowError, `${name}: ${error.message}`);
    assert.equal(error.reason, reason, name);
    assert.ok(error.message.startsWith(`${file}:${message}`), `${name}: ${error.message}`);
    assert.ok(error.message.endsWith(fix), error.message);
  }
});

test('line numbers stay right across the chunks of a file too large to read at once', async (t) => {
  const workspace = withWorkspace(t);
  const jsonl = pairsJsonl(3000).split('\n');
  jsonl[2320] = '{"anchor":"q","positive":""}';
  const jsonlFile = workspace.write('big.jsonl', jsonl.join('\r\n'));
  const csvRows = ['anchor,positive', ...Array.from({ length: 3000 }, (_, i) => `"question ${i}\r\nwith a line break","answer, ${i}"`)];
  csvRows[2001] = '"question","answer",extra';
  const csvFile = workspace.write('big.csv', csvRows.join('\r\n'));
  const columns = config({ data: { train: 'x' } }).data.columns;

  await assert.rejects(readExamples({ file: jsonlFile, format: 'jsonl', kind: 'pair', columns, onBadRow: 'error' }), {
    message: new RegExp(`^${jsonlFile}:2321: column "positive"`),
  });
  // Each CSV record spans two lines, so record n (1-based, after the header) starts on line 2n;
  // the one-line bad record n = 2001 starts on line 4002.
  const csv = await readExamples({ file: csvFile, format: 'csv', kind: 'pair', columns, onBadRow: 'skip' });
  assert.equal(csv.summary.rows, 2999);
  assert.deepEqual(csv.summary.firstSkipped, [
    { line: 4002, reason: 'field_count', message: `${csvFile}:4002: the row has 3 fields, but the header has 2` },
  ]);
});

test('a header without a mapped column fails the whole file under either policy, naming the key to fix', async (t) => {
  const workspace = withWorkspace(t);
  const file = workspace.write('pairs.csv', 'question,answer\nq,a\n');
  for (const onBadRow of ['error', 'skip'] as const) {
    const error = await loadError(workspace, { data: { train: 'pairs.csv', on_bad_row: onBadRow, columns: { positive: 'answer' } } });
    assert.ok(error instanceof DataFileError);
    assert.equal(error.key, 'data.columns.anchor');
    assert.equal(
      error.message,
      `${file}:1: the header has no column "anchor" for data.columns.anchor (columns: question, answer); name the column anchor, or set data.columns.anchor`,
    );
  }
});

test('with on_bad_row: skip, bad rows are counted by reason and the first ones listed, never dropped silently', async (t) => {
  const workspace = withWorkspace(t);
  workspace.write(
    'train.jsonl',
    [
      '{"anchor":"a1","positive":"p1"}',
      '{"anchor":"a2"}',
      'not json',
      '{"anchor":"","positive":"p4"}',
      '{"anchor":"a5","positive":"p5"}',
      '{"anchor":"a6"}',
    ].join('\n'),
  );
  workspace.write('dev.jsonl', '{"anchor":"d1","positive":"q1"}\n{"anchor":"d2","positive":null}\n');
  const data = await loadTrainingData(
    config({ data: { train: 'train.jsonl', validation: 'dev.jsonl', on_bad_row: 'skip' } }),
    workspace.root,
  );
  const train = data.summary.train;
  assert.equal(train.rows, 2);
  assert.equal(train.skipped, 4);
  assert.deepEqual(train.skippedByReason, { missing_column: 2, invalid_json: 1, empty_value: 1 });
  assert.deepEqual(
    train.firstSkipped.map(({ line, reason }) => [line, reason]),
    [
      [2, 'missing_column'],
      [3, 'invalid_json'],
      [4, 'empty_value'],
      [6, 'missing_column'],
    ],
  );
  assert.equal(train.firstSkipped[0]!.message, `${workspace.path('train.jsonl')}:2: column "positive" (data.columns.positive) is missing`);
  assert.equal(data.summary.validation?.skipped, 1);
  assert.deepEqual(data.summary.dataset, { train_rows: 2, validation_rows: 1, skipped_rows: 5 });
});

test('a training file with no usable rows fails, quoting the first bad row', async (t) => {
  const workspace = withWorkspace(t);
  const file = workspace.write('train.jsonl', '{"anchor":"a"}\n');
  const error = await loadError(workspace, { data: { train: 'train.jsonl', on_bad_row: 'skip' } });
  assert.equal(
    error.message,
    `${file}: nothing to train on: all 1 rows are bad, e.g. ${file}:1: column "positive" (data.columns.positive) is missing`,
  );
});

test('validation_split holds out a seeded, reproducible share of the rows, keeping file order', async (t) => {
  const workspace = withWorkspace(t);
  workspace.write('train.jsonl', pairsJsonl(50));
  const split = async (seed: number) =>
    loadTrainingData(config({ data: { train: 'train.jsonl', validation_split: 0.2 }, training: { seed } }), workspace.root);
  const first = await split(7);
  const again = await split(7);
  const other = await split(8);
  assert.equal(first.validation.length, 10);
  assert.equal(first.train.length, 40);
  assert.equal(first.summary.heldOut, 10);
  assert.deepEqual(again.validation, first.validation, 'the same seed holds out the same rows');
  assert.notDeepEqual(other.validation, first.validation, 'another seed holds out other rows');
  const index = (example: PairExample) => Number(example.anchor.replace('question number ', ''));
  const validation = (first.validation as PairExample[]).map(index);
  const train = (first.train as PairExample[]).map(index);
  assert.deepEqual(
    validation,
    [...validation].sort((a, b) => a - b),
  );
  assert.deepEqual(
    [...train, ...validation].sort((a, b) => a - b),
    Array.from({ length: 50 }, (_, i) => i),
  );
});

test('preprocess.dedupe drops exact duplicates after trimming, before the split, and counts them', async (t) => {
  const workspace = withWorkspace(t);
  workspace.write(
    'pairs.jsonl',
    [
      { anchor: 'q', positive: 'p' },
      { anchor: ' q ', positive: 'p\t' },
      { anchor: 'q', positive: 'other' },
      { anchor: 'q', positive: 'p' },
    ]
      .map((row) => JSON.stringify(row))
      .join('\n'),
  );
  workspace.write('texts.csv', 'text,label\nhello,a\n hello ,b\nbye,a\n');
  const pairs = await loadTrainingData(config({ data: { train: 'pairs.jsonl', validation: 'pairs.jsonl' } }), workspace.root);
  assert.deepEqual(pairs.train, [
    { anchor: 'q', positive: 'p' },
    { anchor: 'q', positive: 'other' },
  ]);
  assert.deepEqual(pairs.summary.duplicatesRemoved, { train: 2, validation: 2 });

  const texts = await loadTrainingData(
    config({ task: 'classification', loss: { type: 'softmax' }, data: { train: 'texts.csv', validation: 'texts.csv' } }),
    workspace.root,
  );
  assert.deepEqual(texts.train, [
    { text: 'hello', label: 'a' },
    { text: 'bye', label: 'a' },
  ]);

  const kept = await loadTrainingData(
    config({ data: { train: 'pairs.jsonl', validation: 'pairs.jsonl' }, preprocess: { dedupe: false } }),
    workspace.root,
  );
  assert.equal(kept.train.length, 4);
  assert.deepEqual(kept.summary.duplicatesRemoved, { train: 0, validation: 0 });
});

const numbers = (count: number) => Array.from({ length: count }, (_, i) => i);
const flatten = (batches: number[][]) => batches.flat().sort((a, b) => a - b);

test('batches cover every example once per epoch, in a seeded order that differs between epochs', () => {
  const iterator = new BatchIterator(numbers(10), { batchSize: 4, seed: 42 });
  assert.equal(iterator.batchesPerEpoch, 3);
  const epoch0 = [...iterator.batches({ epoch: 0, batchIndex: 0 }, 1)].map((batch) => batch.examples);
  assert.deepEqual(
    epoch0.map((batch) => batch.length),
    [4, 4, 2],
  );
  assert.deepEqual(flatten(epoch0), numbers(10));
  assert.deepEqual(new BatchIterator(numbers(10), { batchSize: 4, seed: 42 }).epochPlan(0), iterator.epochPlan(0), 'same seed, same order');
  assert.notDeepEqual(iterator.epochPlan(1), iterator.epochPlan(0));
  assert.notDeepEqual(new BatchIterator(numbers(10), { batchSize: 4, seed: 43 }).epochPlan(0), iterator.epochPlan(0));
});

test('a run resumed at a batch position sees exactly the batches the interrupted run would have seen', () => {
  const iterator = new BatchIterator(numbers(23), { batchSize: 5, seed: 3 });
  const full = [...iterator.batches({ epoch: 0, batchIndex: 0 }, 3)];
  assert.equal(full.length, 15);
  const interruptedAfter = full[6]!;
  assert.deepEqual(interruptedAfter.next, { epoch: 1, batchIndex: 2 });
  const resumed = [...new BatchIterator(numbers(23), { batchSize: 5, seed: 3 }).batches(interruptedAfter.next, 3)];
  assert.deepEqual(resumed, full.slice(7));
  assert.deepEqual(full.at(-1)!.next, { epoch: 3, batchIndex: 0 });
});

const duplicateTexts = (pairs: PairExample[], batch: number[]) => {
  const texts = batch.flatMap((i) => inBatchNegativeTexts(pairs[i]!));
  return texts.length - new Set(texts).size;
};

test('for in-batch negatives, rows sharing an anchor or positive text go to different batches', () => {
  const pairs: PairExample[] = [
    ...numbers(8).map((i) => ({ anchor: `q${i}`, positive: `p${i}` })),
    { anchor: 'q0', positive: 'another answer to q0' },
    { anchor: 'q-other', positive: 'p1' },
  ];
  let plainClashes = 0;
  for (let seed = 0; seed < 20; seed++) {
    const iterator = new BatchIterator(pairs, { batchSize: 5, seed, distinctTexts: inBatchNegativeTexts });
    const plan = iterator.epochPlan(0);
    assert.deepEqual(flatten(plan), numbers(10));
    for (const batch of plan) assert.equal(duplicateTexts(pairs, batch), 0, `seed ${seed}: ${JSON.stringify(plan)}`);
    plainClashes += new BatchIterator(pairs, { batchSize: 5, seed })
      .epochPlan(0)
      .filter((batch) => duplicateTexts(pairs, batch) > 0).length;
  }
  assert.ok(plainClashes > 0, 'a plain shuffle does put duplicates together, so the packing is what avoids them');
});

test('when duplicates cannot be avoided, batches are still filled, so the number of batches per epoch stays exact', () => {
  // Six rows share one anchor and there are only three batches: some batches must hold two.
  const pairs: PairExample[] = [
    ...numbers(6).map((i) => ({ anchor: 'same question', positive: `answer ${i}` })),
    ...numbers(6).map((i) => ({ anchor: `question ${i}`, positive: `other answer ${i}` })),
  ];
  for (let seed = 0; seed < 20; seed++) {
    const iterator = new BatchIterator(pairs, { batchSize: 4, seed, distinctTexts: inBatchNegativeTexts });
    const plan = iterator.epochPlan(0);
    assert.equal(plan.length, iterator.batchesPerEpoch);
    assert.deepEqual(
      plan.map((batch) => batch.length),
      [4, 4, 4],
    );
    assert.deepEqual(flatten(plan), numbers(12));
    assert.equal(duplicateTexts(pairs, plan[0]!), 0, 'the first batch still has six distinct rows to choose from');
  }
});

test('the bundled examples load with the row counts the examples README gives', async () => {
  const examplesDir = findUp('examples');
  const configs = readdirSync(examplesDir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.embedtune.yaml'));
  const counts: Record<string, unknown> = {};
  for (const file of configs.sort()) {
    const path = join(examplesDir, file);
    const resolved = resolveConfig(parseYaml(readFileSync(path, 'utf8')) as EmbedTuneConfig);
    const data = await loadTrainingData(resolved, dirname(path));
    counts[resolved.name] = {
      kind: data.kind,
      ...data.summary.dataset,
      duplicates: data.summary.duplicatesRemoved.train,
      augmented: data.summary.preprocess.rows_augmented,
    };
  }
  assert.deepEqual(counts, {
    // The classifier's config adds a synonym-replacement and a random-deletion copy of each of its 164 training rows.
    'ticket-classifier-focal': {
      kind: 'text-label',
      train_rows: 164 + 328,
      validation_rows: 41,
      skipped_rows: 0,
      duplicates: 0,
      augmented: 328,
    },
    'clinical-ner': { kind: 'token-tags', train_rows: 164, validation_rows: 41, skipped_rows: 0, duplicates: 0, augmented: 0 },
    'retrieval-lora': { kind: 'pair', train_rows: 241, validation_rows: 61, skipped_rows: 0, duplicates: 0, augmented: 0 },
    'similarity-cosent': { kind: 'scored-pair', train_rows: 131, validation_rows: 33, skipped_rows: 0, duplicates: 0, augmented: 0 },
  });
});
