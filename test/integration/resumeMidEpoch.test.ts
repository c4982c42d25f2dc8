import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { readSafetensors } from '../../src/trainer/model/safetensors';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';
import { CHECKPOINTS_DIR, EVENTS_FILE, TRAINER_STATE_FILE } from '../../src/shared/run/runFolder';

const CLI = resolve(__dirname, '../../dist/cli.js');
const lines = (file: string, count: number) =>
  readFileSync(resolve(__dirname, `../../examples/retrieval/data/${file}`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, count)
    .join('\n');

/**
 * 80 pairs in batches of 16: five steps an epoch, so a checkpoint every 3 steps lands mid-epoch (step 6 is the
 * second batch of the second epoch). Evaluation every 3 steps with a min_delta no later evaluation can beat: the
 * first is the best, and with patience 2 the run stops early at step 9, after two evaluations without a new best.
 */
const CONFIG = `name: mid-epoch
model:
  base: ./tiny
  max_seq_length: 32
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
  columns: {anchor: query, positive: passage}
strategy:
  type: full
training:
  epochs: 2
  batch_size: 16
  learning_rate: 0.001
  warmup: 1
evaluation:
  every: 3
  metrics: [ndcg@10]
early_stopping:
  patience: 2
  min_delta: 0.9
checkpoints:
  every: 3
  keep: 10
output_dir: runs
`;

type Eval = Extract<RunEvent, { type: 'eval' }>;
type Progress = Extract<RunEvent, { type: 'progress' }>;

function workspace(): TempWorkspace {
  const ws = new TempWorkspace();
  buildTinyBert(ws.path('tiny'), { layers: 2, hidden: 32, heads: 4, intermediate: 64 });
  ws.write('data/train.jsonl', `${lines('train.jsonl', 80)}\n`);
  ws.write('data/validation.jsonl', `${lines('validation.jsonl', 24)}\n`);
  ws.write('run.embedtune.yaml', CONFIG);
  return ws;
}

function train(cwd: string, args: string[] = []) {
  return spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml', ...args], { cwd, encoding: 'utf8', timeout: 240_000 });
}

function eventsOf(runDir: string): RunEvent[] {
  return readFileSync(join(runDir, EVENTS_FILE), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunEvent);
}

function stateOf(checkpoint: string) {
  return JSON.parse(readFileSync(join(checkpoint, TRAINER_STATE_FILE), 'utf8')) as {
    position: { epoch: number; batchIndex: number };
    tracker: { best: number | null; evaluationsWithoutImprovement: number };
  };
}

describe('resuming a run from a checkpoint in the middle of an epoch', () => {
  let full: TempWorkspace;
  let resumedCopy: TempWorkspace;
  let fullRun: string;
  let resumedRun: string;
  let resumed: ReturnType<typeof train>;

  before(() => {
    assert.ok(existsSync(CLI), 'dist/cli.js is built');
    full = workspace();
    const uninterrupted = train(full.root);
    assert.equal(uninterrupted.status, 0, uninterrupted.stderr + uninterrupted.stdout);
    fullRun = join(full.root, 'runs', readdirSync(join(full.root, 'runs'))[0]!);
    resumedCopy = workspace();
    resumedRun = join(resumedCopy.root, 'runs', 'resumed');
    mkdirSync(join(resumedRun, CHECKPOINTS_DIR), { recursive: true });
    cpSync(join(fullRun, CHECKPOINTS_DIR, 'step-6'), join(resumedRun, CHECKPOINTS_DIR, 'step-6'), { recursive: true });
    resumed = train(resumedCopy.root, ['--resume', join(resumedRun, CHECKPOINTS_DIR, 'step-6')]);
  });
  after(() => {
    full.dispose();
    resumedCopy.dispose();
  });

  it('saves the checkpoint mid-epoch, with the early-stopping state of one evaluation without a new best', () => {
    const state = stateOf(join(fullRun, CHECKPOINTS_DIR, 'step-6'));
    assert.deepEqual(state.position, { epoch: 1, batchIndex: 1 });
    assert.equal(state.tracker.evaluationsWithoutImprovement, 1);
    assert.equal(typeof state.tracker.best, 'number');
  });

  it('stops early at the same step as the uninterrupted run, which only the restored count allows', () => {
    assert.equal(resumed.status, 0, resumed.stderr + resumed.stdout);
    const finishedOf = (run: string) => eventsOf(run).find((e) => e.type === 'run_finished') as Extract<RunEvent, { type: 'run_finished' }>;
    assert.equal(finishedOf(fullRun).reason, 'early_stopped');
    assert.equal(finishedOf(fullRun).step, 9);
    assert.deepEqual(
      { reason: finishedOf(resumedRun).reason, step: finishedOf(resumedRun).step, best: finishedOf(resumedRun).best_metric },
      { reason: 'early_stopped', step: 9, best: finishedOf(fullRun).best_metric },
    );
    const earlyStop = (run: string) => {
      const event = eventsOf(run).find((e): e is Extract<RunEvent, { type: 'early_stop' }> => e.type === 'early_stop');
      return event && { step: event.step, metric: event.metric, best: event.best, patience: event.patience };
    };
    assert.ok(earlyStop(fullRun));
    assert.deepEqual(earlyStop(resumedRun), earlyStop(fullRun));
  });

  it('evaluates, and trains to, exactly what the uninterrupted run did after the checkpoint', () => {
    const evalsAfter = (run: string) =>
      eventsOf(run)
        .filter((e): e is Eval => e.type === 'eval' && e.step > 6)
        .map(({ step, metrics, is_best }) => ({ step, metrics, is_best }));
    assert.deepEqual(evalsAfter(resumedRun), evalsAfter(fullRun));
    assert.equal(evalsAfter(fullRun).length, 1);
    for (const file of ['encoder.safetensors', 'optimizer.safetensors']) {
      const expected = readSafetensors(join(fullRun, CHECKPOINTS_DIR, 'step-9', file)).tensors;
      const actual = readSafetensors(join(resumedRun, CHECKPOINTS_DIR, 'step-9', file)).tensors;
      assert.equal(actual.size, expected.size);
      for (const [name, tensor] of expected) assert.deepEqual(actual.get(name)!.data, tensor.data, `${file}: ${name} differs after resume`);
    }
    const losses = (run: string) =>
      new Map(eventsOf(run).flatMap((e) => (e.type === 'progress' ? [[(e as Progress).step, (e as Progress).loss]] : [])));
    const fullLosses = losses(fullRun);
    const resumedLosses = losses(resumedRun);
    // The first step after a resume always reports its progress; the loss of each step both runs reported is equal.
    assert.ok(resumedLosses.has(7));
    for (const [step, loss] of resumedLosses) if (fullLosses.has(step)) assert.equal(loss, fullLosses.get(step), `loss at step ${step}`);
    assert.deepEqual(
      stateOf(join(resumedRun, CHECKPOINTS_DIR, 'step-9')).tracker,
      stateOf(join(fullRun, CHECKPOINTS_DIR, 'step-9')).tracker,
    );
  });
});
