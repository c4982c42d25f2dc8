/**
 * Mined n-tuples trained as a user does it: `embedtune mine-negatives --num-negatives 3 --output-format n-tuple`, then
 * `embedtune train` with `data.columns.negative: [negative_1, negative_2, negative_3]`, both the built CLI as child
 * processes, on a tiny BERT. The proof that the negatives reach the loss: on the same rows, seed and dropout, the first
 * step's MNRL loss with three extra candidates per anchor is higher than the run that maps only anchor and positive.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { freePort } from '../helpers/freePort';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const CLI = resolve(__dirname, '../../dist/cli.js');
const PEERS = process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache', 'embedtune', 'py-peers');
const PYTHON = join(PEERS, 'bin', 'python');

const ROWS = readFileSync(resolve(__dirname, '../../examples/retrieval/data/train.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .slice(0, 40)
  .map((line) => JSON.parse(line) as { query: string; passage: string });

function cli(args: string[], cwd: string) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 300_000 });
}

function config(negatives: string, loss = 'mnrl', engine = 'engine: {type: tfjs, backend: cpu}'): string {
  return `name: ntuple
model:
  base: ./tiny
  max_seq_length: 48
data:
  train: data/mined.jsonl
  validation_split: 0.2
  columns: {anchor: query, positive: passage${negatives}}
loss:
  type: ${loss}
  mini_batch_size: 3
training:
  epochs: 1
  batch_size: 8
  learning_rate: 0.001
  warmup: 0
evaluation:
  metrics: [ndcg@10]
early_stopping:
  enabled: false
${engine}
output_dir: runs-${loss}${negatives ? '-ntuple' : ''}${engine.includes('accelerate') ? '-accelerate' : ''}
`;
}

function train(workspace: TempWorkspace, text: string): RunEvent[] {
  const file = `run-${Math.random().toString(36).slice(2)}.embedtune.yaml`;
  workspace.write(file, text);
  const run = cli(['train', file], workspace.path('.'));
  assert.equal(run.status, 0, `embedtune train failed:\n${run.stderr.slice(-3000)}`);
  const outDir = workspace.path(/output_dir: (\S+)/.exec(text)![1]!);
  const runs = readdirSync(outDir);
  return readFileSync(join(outDir, runs[0]!, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunEvent);
}

const firstLoss = (events: RunEvent[]): number => {
  const progress = events.find((event) => event.type === 'progress');
  assert.ok(progress && progress.type === 'progress' && progress.loss !== null, 'a progress event with a loss');
  return progress.loss;
};

describe('mined n-tuples train with mnrl and cached_mnrl on the tfjs engine', () => {
  const workspace = new TempWorkspace();
  before(() => {
    buildTinyBert(workspace.path('tiny'), { layers: 2, hidden: 32, heads: 4, intermediate: 64, seed: 5, withPoolingModules: true });
    workspace.write('data/pairs.jsonl', `${ROWS.map((row) => JSON.stringify(row)).join('\n')}\n`);
    const mined = cli(
      [
        'mine-negatives',
        './tiny',
        '--data',
        'data/pairs.jsonl',
        '--out',
        'data/mined.jsonl',
        '--anchor-column',
        'query',
        '--positive-column',
        'passage',
        '--num-negatives',
        '3',
        '--output-format',
        'n-tuple',
        '--backend',
        'cpu',
      ],
      workspace.path('.'),
    );
    assert.equal(mined.status, 0, `mine-negatives failed:\n${mined.stderr.slice(-3000)}`);
  });
  after(() => workspace.dispose());

  it('mine-negatives writes negative_1 … negative_3, and the first step of mnrl scores them', (t) => {
    const rows = readFileSync(workspace.path('data/mined.jsonl'), 'utf8').trim().split('\n');
    assert.ok(rows.length >= 30, `${rows.length} mined rows`);
    assert.deepEqual(Object.keys(JSON.parse(rows[0]!) as object), ['query', 'passage', 'negative_1', 'negative_2', 'negative_3']);

    const tuples = train(workspace, config(', negative: [negative_1, negative_2, negative_3]'));
    const pairs = train(workspace, config(''));
    const withNegatives = firstLoss(tuples);
    const withoutNegatives = firstLoss(pairs);
    t.diagnostic(`first-step loss with 3 negatives ${withNegatives.toFixed(4)}, pairs only ${withoutNegatives.toFixed(4)}`);
    assert.ok(withNegatives > withoutNegatives + 0.1, `first-step loss with 3 negatives ${withNegatives}, pairs only ${withoutNegatives}`);
    assert.ok(tuples.some((event) => event.type === 'run_finished'));
    assert.ok(
      tuples.some((event) => event.type === 'eval'),
      'evaluation runs on n-tuple validation rows',
    );
  });

  it('cached_mnrl scores them too, through the gradient cache', (t) => {
    // Dropout masks follow the cache's chunks, so cached_mnrl's loss is compared with its own pairs-only run;
    // test/unit/nTupleNegatives.test.ts shows it equals mnrl without dropout.
    const tuples = train(workspace, config(', negative: [negative_1, negative_2, negative_3]', 'cached_mnrl'));
    const withNegatives = firstLoss(tuples);
    const withoutNegatives = firstLoss(train(workspace, config('', 'cached_mnrl')));
    t.diagnostic(`first-step loss with 3 negatives ${withNegatives.toFixed(4)}, pairs only ${withoutNegatives.toFixed(4)}`);
    assert.ok(withNegatives > withoutNegatives + 0.1, `first-step loss with 3 negatives ${withNegatives}, pairs only ${withoutNegatives}`);
    assert.ok(tuples.some((event) => event.type === 'run_finished'));
  });

  it(
    'the accelerate engine hands the columns to sentence-transformers, whose MNRL scores them',
    { skip: existsSync(PYTHON) ? false : `no Python peers at ${PEERS}` },
    async (t) => {
      const engine = async () =>
        `engine:\n  type: accelerate\n  cpu: true\n  num_processes: 1\n  main_process_port: ${await freePort()}\n  python: ${JSON.stringify(PYTHON)}`;
      const tuples = train(workspace, config(', negative: [negative_1, negative_2, negative_3]', 'mnrl', await engine()));
      const withNegatives = firstLoss(tuples);
      const withoutNegatives = firstLoss(train(workspace, config('', 'mnrl', await engine())));
      t.diagnostic(`accelerate: first logged loss with 3 negatives ${withNegatives.toFixed(4)}, pairs only ${withoutNegatives.toFixed(4)}`);
      assert.ok(
        withNegatives > withoutNegatives + 0.1,
        `first logged loss with 3 negatives ${withNegatives}, pairs only ${withoutNegatives}`,
      );
      assert.ok(tuples.some((event) => event.type === 'run_finished'));
    },
  );

  it('validate refuses a listed negative column the mined file lacks, naming it', () => {
    workspace.write('bad.embedtune.yaml', config(', negative: [negative_1, negative_2, negative_4]'));
    const run = cli(['validate', 'bad.embedtune.yaml'], workspace.path('.'));
    assert.notEqual(run.status, 0);
    assert.match(run.stdout + run.stderr, /negative_4/);
  });
});
