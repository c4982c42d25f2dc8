import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const CLI = resolve(__dirname, '../../dist/cli.js');
const PAIRS = readFileSync(resolve(__dirname, '../../examples/retrieval/data/train.jsonl'), 'utf8').split('\n').slice(0, 40).join('\n');

type Of<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>;

/** A pairs config with no evaluation and no early_stopping section: the 10% validation_split is held out. */
function config(extra = '', learningRate = '1e-12'): string {
  return `model:
  base: ./tiny
  max_seq_length: 16
data:
  train: data/train.jsonl
  columns: {anchor: query, positive: passage}
training:
  epochs: 6
  batch_size: 12
  learning_rate: ${learningRate}
  warmup: 0
${extra}`;
}

function run(workspace: TempWorkspace, text: string, name: string) {
  const dir = workspace.path(name);
  buildTinyBert(join(dir, 'tiny'), { layers: 1, hidden: 16, heads: 2, intermediate: 32 });
  workspace.write(`${name}/data/train.jsonl`, `${PAIRS}\n`);
  workspace.write(`${name}/run.embedtune.yaml`, text);
  const result = spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml'], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
  const runs = existsSync(join(dir, 'runs')) ? readdirSync(join(dir, 'runs')) : [];
  assert.equal(runs.length, 1, result.stderr + result.stdout);
  const runDir = join(dir, 'runs', runs[0]!);
  const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunEvent);
  return { result, runDir, events };
}

describe('a config that leaves evaluation and early stopping to their defaults (tfjs engine)', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());
  // A learning rate of 1e-12 moves no float32 weight, so every evaluation equals the one before training.
  const flat = run(workspace, config(), 'flat');

  it('evaluates the held-out rows before training and every epoch, on the task default metric', () => {
    assert.equal(flat.result.status, 0, flat.result.stderr + flat.result.stdout);
    const evals = flat.events.filter((event): event is Of<'eval'> => event.type === 'eval');
    assert.deepEqual(
      evals.slice(0, 3).map((event) => event.step),
      [0, 3, 6],
      'step 0, then each epoch of 3 steps (36 rows at batch 12)',
    );
    assert.deepEqual(Object.keys(evals[0]!.metrics), ['ndcg@10']);
    assert.equal(evals[0]!.primary.name, 'ndcg@10');
    const resolved = parse(readFileSync(join(flat.runDir, 'config.resolved.yaml'), 'utf8')) as {
      evaluation: { enabled: boolean };
      early_stopping: { enabled: boolean };
    };
    assert.equal(resolved.evaluation.enabled, true);
    assert.equal(resolved.early_stopping.enabled, true);
  });

  it('stops early after patience (3) evaluations without improvement, with no early_stopping section', () => {
    const stop = flat.events.find((event): event is Of<'early_stop'> => event.type === 'early_stop');
    assert.ok(stop, 'an early_stop event');
    assert.deepEqual([stop.step, stop.patience], [12, 3], 'the best at epoch 1, then epochs 2, 3 and 4 without improvement');
    assert.equal((flat.events.at(-1) as Of<'run_finished'>).reason, 'early_stopped');
  });

  it('warns, in an event and in the CLI summary, that no trained checkpoint beat the base model', () => {
    const evals = flat.events.filter((event): event is Of<'eval'> => event.type === 'eval');
    const warning = flat.events.find((event): event is Of<'baseline_not_beaten'> => event.type === 'baseline_not_beaten');
    assert.ok(warning, 'a baseline_not_beaten event');
    assert.deepEqual(
      [warning.metric, warning.baseline, warning.best, warning.mode],
      ['ndcg@10', evals[0]!.primary.value, evals[1]!.primary.value, 'max'],
    );
    assert.equal(flat.events.at(-2)?.type, 'baseline_not_beaten', 'written just before run_finished');
    assert.match(
      flat.result.stdout,
      /warning: No trained checkpoint beat the base model: the best ndcg@10 after training is \d\.\d{4}, no better than \d\.\d{4} before training/,
    );
  });

  it('with evaluation.enabled false: no evaluation, no early stopping, no warning, and the final weights exported', () => {
    const off = run(workspace, config('evaluation:\n  enabled: false\n'), 'off');
    assert.equal(off.result.status, 0, off.result.stderr + off.result.stdout);
    const types = new Set(off.events.map((event) => event.type));
    for (const type of ['eval', 'early_stop', 'baseline_not_beaten'] as const) assert.ok(!types.has(type), `no ${type} event`);
    const finished = off.events.at(-1) as Of<'run_finished'>;
    assert.deepEqual([finished.reason, finished.step, finished.best_metric], ['completed', 18, null]);
    assert.match(off.result.stdout, /evaluation off \(evaluation\.enabled is false\)/);
    assert.ok(existsSync(join(off.runDir, 'model', 'config.json')));
  });
});

describe('a classification config with no loss and no metrics', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  it('trains softmax cross-entropy and evaluates f1 and accuracy, f1 primary', () => {
    const rows = Array.from({ length: 30 }, (_, i) =>
      JSON.stringify({ text: `${i % 2 === 0 ? 'refund my invoice' : 'the app crashes'} ${i}`, label: i % 2 === 0 ? 'billing' : 'bug' }),
    ).join('\n');
    const dir = workspace.path('cls');
    buildTinyBert(join(dir, 'tiny'), { layers: 1, hidden: 16, heads: 2, intermediate: 32 });
    workspace.write('cls/data/train.jsonl', `${rows}\n`);
    workspace.write(
      'cls/run.embedtune.yaml',
      'task: classification\nmodel:\n  base: ./tiny\n  max_seq_length: 16\ndata:\n  train: data/train.jsonl\ntraining:\n  batch_size: 9\n',
    );
    const result = spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml'], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
    assert.equal(result.status, 0, result.stderr + result.stdout);
    const runDir = join(dir, 'runs', readdirSync(join(dir, 'runs'))[0]!);
    const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as RunEvent);
    const evals = events.filter((event): event is Of<'eval'> => event.type === 'eval');
    assert.deepEqual(
      evals.map((event) => event.step),
      [0, 3],
    );
    assert.deepEqual(Object.keys(evals[1]!.metrics).sort(), ['accuracy', 'f1']);
    assert.equal(evals[1]!.primary.name, 'f1');
    assert.ok(evals[1]!.confusion_matrix, 'the classification evaluator ran');
    const resolved = parse(readFileSync(join(runDir, 'config.resolved.yaml'), 'utf8')) as { loss: { type: string } };
    assert.equal(resolved.loss.type, 'softmax');
  });
});

describe('the accelerate engine decides evaluation as the tfjs engine does', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  /** The launch plan the Python side would read; the launch itself fails at once on a missing interpreter. */
  function launchPlanOf(
    name: string,
    extra: string,
  ): { evaluation_on: boolean; early_stopping_on: boolean; config: { evaluation: { metrics: string[] } } } {
    const dir = workspace.path(name);
    buildTinyBert(join(dir, 'tiny'), { layers: 1, hidden: 16, heads: 2, intermediate: 32 });
    workspace.write(`${name}/data/train.jsonl`, `${PAIRS}\n`);
    workspace.write(
      `${name}/run.embedtune.yaml`,
      `model: {base: ./tiny}\ndata: {train: data/train.jsonl, columns: {anchor: query, positive: passage}}\nengine: {type: accelerate, python: /nonexistent/bin/python}\n${extra}`,
    );
    spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    const runDir = join(dir, 'runs', readdirSync(join(dir, 'runs'))[0]!);
    return JSON.parse(readFileSync(join(runDir, 'accelerate', 'launch.json'), 'utf8'));
  }

  it('evaluates and stops early with no evaluation or early_stopping section, and does neither with evaluation.enabled false', () => {
    const defaults = launchPlanOf('defaults', '');
    assert.deepEqual([defaults.evaluation_on, defaults.early_stopping_on], [true, true]);
    assert.deepEqual(defaults.config.evaluation.metrics, ['ndcg@10']);
    const off = launchPlanOf('off', 'evaluation: {enabled: false}\n');
    assert.deepEqual([off.evaluation_on, off.early_stopping_on], [false, false]);
    const noStopping = launchPlanOf('no-stopping', 'early_stopping: {enabled: false}\n');
    assert.deepEqual([noStopping.evaluation_on, noStopping.early_stopping_on], [true, false]);
  });
});

const PYTHON = join(process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache', 'embedtune', 'py-peers'), 'bin', 'python');
const noPython = existsSync(PYTHON) ? undefined : `no Python peers at ${PYTHON} (run bench/python/setup, or set EMBEDTUNE_PY_PEERS)`;
if (noPython) console.log(`# skipped the accelerate baseline run: ${noPython}`);

describe('the accelerate engine, trained with its defaults', { skip: noPython }, () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  it('evaluates and stops early with no sections, and warns in an event and the CLI summary that the base model was not beaten', () => {
    const text = config(`engine: {type: accelerate, cpu: true, num_processes: 1, python: ${JSON.stringify(PYTHON)}}\n`);
    const { result, events } = run(workspace, text, 'accelerate');
    assert.equal(result.status, 0, result.stderr + result.stdout);
    const evals = events.filter((event): event is Of<'eval'> => event.type === 'eval');
    assert.deepEqual(
      evals.slice(0, 2).map((event) => event.step),
      [0, 3],
    );
    assert.ok(
      events.some((event) => event.type === 'early_stop'),
      'early stopping ran without a section',
    );
    const warning = events.find((event): event is Of<'baseline_not_beaten'> => event.type === 'baseline_not_beaten');
    assert.ok(warning, 'a baseline_not_beaten event');
    assert.deepEqual([warning.metric, warning.baseline, warning.mode], ['ndcg@10', evals[0]!.primary.value, 'max']);
    assert.equal(events.at(-2)?.type, 'baseline_not_beaten');
    assert.match(result.stdout, /warning: No trained checkpoint beat the base model: the best ndcg@10/);
  });
});
