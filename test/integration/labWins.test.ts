/**
 * The Embedding Lab's evaluation side as the built CLI runs it on tiny random BERTs: known positives of an evaluation
 * query in `lab-search --config`, and `lab-wins` for a retrieval run (ranks checked against `embedtune encode`'s
 * vectors) and a classification run (checked against `embedtune eval`'s accuracy of each checkpoint).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LabSession } from '../../src/extension/lab/labSession';
import { RunLibrary } from '../../src/extension/runs/runLibrary';
import { RunManager } from '../../src/extension/runs/runManager';
import type { LabSearchResult } from '../../src/shared/lab/labSearchResult';
import type { ToLab } from '../../src/shared/protocol/labMessages';
import type { LabClassificationWins, LabRetrievalWins } from '../../src/shared/lab/labWinsResult';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';
import { RecordingEditorHost } from '../unit/support/recordingEditorHost';

const CLI = resolve(__dirname, '../../dist/cli.js');
const EXAMPLES = resolve(__dirname, '../../examples');

function embedtune(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd, timeout: 300_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const PAIRS = [
  ['where does the river run', 'the river runs by the mountain'],
  ['who can sing a song', 'a bird can sing a song'],
  ['is the school near the sea', 'the school is near the sea'],
  ['music in the morning', 'music and song in the morning'],
  ['what does the king have', 'the king has a horse'],
  ['a book on the table', 'paper and book on the table'],
  ['how deep is the ocean', 'the ocean is deep and blue'],
  ['an island in the sea', 'an island in the north sea'],
  ['the dog and the cat', 'the dog and the cat play'],
  ['where does the tree grow', 'a tree grows near the farm'],
  ['the street of the city', 'the city has a large street'],
  ['where do children study', 'children study at the school'],
] as const;

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let aa = 0;
  let bb = 0;
  a.forEach((value, i) => {
    dot += value * b[i]!;
    aa += value * value;
    bb += b[i]! * b[i]!;
  });
  return dot / Math.sqrt(aa * bb);
}

describe('the Lab’s evaluation: known positives and lab-wins for retrieval', () => {
  const workspace = new TempWorkspace();
  const wins = (extra: string[] = []) =>
    embedtune(
      ['lab-wins', '--model=base', '--compare=tuned', '--config=run.embedtune.yaml', '--cache-dir=cache', '--top-k=3', '--json', ...extra],
      workspace.root,
    );

  before(() => {
    buildTinyBert(workspace.path('base'), { withPoolingModules: true, seed: 1 });
    buildTinyBert(workspace.path('tuned'), { withPoolingModules: true, seed: 2 });
    const rows = PAIRS.map(([anchor, positive]) => JSON.stringify({ anchor, positive })).join('\n');
    workspace.write('data/train.jsonl', `${rows}\n`);
    workspace.write('data/val.jsonl', `${rows}\n`);
    workspace.write(
      'run.embedtune.yaml',
      'model:\n  base: ./base\ndata:\n  train: data/train.jsonl\n  validation: data/val.jsonl\nloss:\n  type: mnrl\noutput_dir: runs\n',
    );
  });
  after(() => workspace.dispose());

  /** Each query's rank of its positive from `embedtune encode`'s vectors: what lab-wins must find, computed without it. */
  function expectedRanks(model: string): number[] {
    workspace.write('queries.txt', `${PAIRS.map((pair) => pair[0]).join('\n')}\n`);
    workspace.write('documents.txt', `${PAIRS.map((pair) => pair[1]).join('\n')}\n`);
    const vectors = (file: string) => {
      const out = `${model}-${file}.jsonl`;
      const encoded = embedtune(['encode', model, '--in', file, '--out', out], workspace.root);
      assert.equal(encoded.code, 0, encoded.stderr);
      return readFileSync(workspace.path(out), 'utf8')
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { embedding: number[] }).embedding);
    };
    const queries = vectors('queries.txt');
    const documents = vectors('documents.txt');
    return queries.map((query, q) => {
      const scores = documents.map((document) => cosine(query, document));
      return 1 + scores.filter((score, d) => d !== q && (score > scores[q]! || (score === scores[q]! && d < q))).length;
    });
  }

  it('marks the known positives of an evaluation query, and none for another query', () => {
    const search = (query: string) =>
      embedtune(
        [
          'lab-search',
          '--model=base',
          '--compare=tuned',
          '--corpus=data/val.jsonl',
          `--query=${query}`,
          '--config=run.embedtune.yaml',
          '--cache-dir=cache',
          '--json',
        ],
        workspace.root,
      );
    const evaluation = search(PAIRS[4][0]);
    assert.equal(evaluation.code, 0, evaluation.stderr);
    const result = JSON.parse(evaluation.stdout) as LabSearchResult;
    assert.deepEqual(result.knownPositives, [4], 'the corpus is the positives in file order');
    const other = JSON.parse(search('a horse and a king').stdout) as LabSearchResult;
    assert.equal(other.knownPositives, undefined);
  });

  it('lists the queries whose positive rose or fell most, as encode’s vectors rank them, and caches the embeddings', () => {
    const run = wins();
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as LabRetrievalWins;
    const before = expectedRanks('base');
    const after = expectedRanks('tuned');
    assert.equal(result.task, 'retrieval');
    assert.equal(result.queries, PAIRS.length);
    const rose = PAIRS.map((_, q) => q).filter((q) => after[q]! < before[q]!);
    const fell = PAIRS.map((_, q) => q).filter((q) => after[q]! > before[q]!);
    assert.ok(rose.length > 0 && fell.length > 0, `two differently seeded models move some queries each way (${before} / ${after})`);
    assert.deepEqual(
      [result.improved, result.worsened, result.unchanged],
      [rose.length, fell.length, PAIRS.length - rose.length - fell.length],
    );
    const expected = (list: number[], sign: number) =>
      list
        .sort((a, b) => sign * (before[b]! - after[b]! - (before[a]! - after[a]!)) || a - b)
        .map((q) => ({ query: PAIRS[q]![0], positive: PAIRS[q]![1], firstRank: before[q]!, secondRank: after[q]! }));
    assert.deepEqual(result.wins, expected(rose, 1));
    assert.deepEqual(result.losses, expected(fell, -1));
    assert.deepEqual(
      result.fellOut,
      result.losses.filter((move) => move.firstRank <= 3 && move.secondRank > 3),
    );
    assert.match(run.stderr, /encoding 12\/12 with base/);
    const again = wins();
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stderr, /encoding/, 'the second replay reads every embedding from the cache');
    const cached = JSON.parse(again.stdout) as LabRetrievalWins;
    assert.deepEqual(
      cached.models.map((model) => model.cache),
      ['hit', 'hit'],
    );
    assert.deepEqual(cached.wins, result.wins);
  });

  it('names the file and line of a bad validation row and refuses a model without a head for classification', () => {
    workspace.write('data/val.jsonl', `${JSON.stringify({ anchor: 'a', positive: 'b' })}\n{oops\n`);
    const bad = wins();
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /val\.jsonl" has 1 malformed row\(s\): line 2 is not valid JSON/);
    assert.doesNotMatch(bad.stderr, /at .*\.js:\d+/, 'no stack trace');
  });
});

describe('lab-wins for a classification run: fixed and broken predictions between two checkpoints', () => {
  const workspace = new TempWorkspace();
  let checkpoints: string[] = [];
  let runDir = '';

  before(() => {
    const tickets = readFileSync(join(EXAMPLES, 'classification/data/tickets.tsv'), 'utf8');
    const words = [...new Set(tickets.toLowerCase().split(/[^a-z]+/))].filter((word) => word.length >= 2);
    buildTinyBert(workspace.path('tiny'), { layers: 2, hidden: 32, heads: 4, intermediate: 64, vocabWords: words });
    const [header, ...rows] = tickets.split('\n').filter(Boolean);
    workspace.write('data/train.tsv', `${[header, ...rows.slice(0, 150)].join('\n')}\n`);
    workspace.write('data/validation.tsv', `${[header, ...rows.slice(150)].join('\n')}\n`);
    workspace.write(
      'run.embedtune.yaml',
      'task: classification\nmodel:\n  base: ./tiny\n  max_seq_length: 48\ndata:\n  train: data/train.tsv\n  validation: data/validation.tsv\n  on_bad_row: skip\n' +
        'strategy:\n  type: full\nloss:\n  type: softmax\ntraining:\n  epochs: 2\n  batch_size: 32\n  learning_rate: 0.003\n  warmup: 0\n' +
        'evaluation:\n  every: 1\n  metrics: [accuracy]\ncheckpoints:\n  every: 1\n  keep: 20\noutput_dir: runs\n',
    );
    const trained = embedtune(['train', 'run.embedtune.yaml'], workspace.root);
    assert.equal(trained.code, 0, trained.stderr + trained.stdout);
    const [run] = readdirSync(workspace.path('runs'));
    runDir = join(workspace.path('runs'), run!);
    const folder = join(runDir, 'checkpoints');
    checkpoints = readdirSync(folder)
      .sort((a, b) => Number(a.split('-')[1]) - Number(b.split('-')[1]))
      .map((name) => join(folder, name));
    assert.ok(checkpoints.length >= 2, `two checkpoints, got ${checkpoints.join(', ')}`);
  });
  after(() => (process.env.KEEP_LAB ? undefined : workspace.dispose()));

  it('counts fixed minus broken as the gain in correct predictions that eval reports', () => {
    const [first, second] = [checkpoints[0]!, checkpoints.at(-1)!];
    const run = embedtune(
      ['lab-wins', `--model=${first}`, `--compare=${second}`, '--config=run.embedtune.yaml', '--cache-dir=cache', '--json', '--limit=200'],
      workspace.root,
    );
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as LabClassificationWins;
    assert.equal(result.task, 'classification');
    const correct = (model: string) => {
      const evaluated = embedtune(['eval', model, '--config', 'run.embedtune.yaml'], workspace.root);
      assert.equal(evaluated.code, 0, evaluated.stderr);
      const report = JSON.parse(evaluated.stdout) as { examples: number; metrics: { accuracy: number } };
      assert.equal(report.examples, result.examples);
      return Math.round(report.metrics.accuracy * report.examples);
    };
    assert.equal(result.fixed.length - result.broken.length, correct(second) - correct(first));
    assert.ok(
      result.fixed.length + result.broken.length + result.otherChanges.length > 0,
      `the two checkpoints disagree somewhere: ${workspace.root}`,
    );
    for (const change of result.fixed) assert.ok(change.second === change.label && change.first !== change.label, JSON.stringify(change));
    for (const change of result.broken) assert.ok(change.first === change.label && change.second !== change.label, JSON.stringify(change));
  });

  it('in the Lab, compares the run’s first checkpoint with its trained model, since the base model has no head', async () => {
    const engine = { nodePath: process.execPath, cliPath: CLI };
    const manager = new RunManager({ engine });
    const library = new RunLibrary(manager, async () => [workspace.path('run.embedtune.yaml')]);
    const posted: ToLab[] = [];
    const savedCache = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = workspace.path('xdg-cache');
    try {
      const session = new LabSession({ host: new RecordingEditorHost(), engine, library }, (m) => posted.push(m), runDir);
      await session.handle({ command: 'ready' });
      const setup = posted.find((m) => m.command === 'setup');
      assert.ok(setup?.command === 'setup', JSON.stringify(posted));
      assert.equal(setup.first, workspace.path('tiny'));
      await session.handle({ command: 'wins', k: 3 });
      const wins = posted.find((m) => m.command === 'wins');
      assert.ok(
        wins?.command === 'wins' && wins.result.task === 'classification',
        JSON.stringify(posted.filter((m) => m.command === 'error')),
      );
      assert.deepEqual(
        wins.result.models.map((model) => model.model),
        [checkpoints[0], setup.second],
      );
    } finally {
      manager.dispose();
      if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = savedCache;
    }
  });

  it('refuses a model without a classifier head, naming it', () => {
    const run = embedtune(
      ['lab-wins', '--model=tiny', `--compare=${checkpoints[0]}`, '--config=run.embedtune.yaml', '--cache-dir=cache'],
      workspace.root,
    );
    assert.equal(run.code, 1);
    assert.match(run.stderr, /tiny has no classification head/);
  });
});
