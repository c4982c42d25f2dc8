import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { RunEventInput } from '../../src/shared/events/runEvents';
import { TextTokenizer } from '../../src/trainer/model/textTokenizer';
import { textCheckpointFiles } from '../../src/trainer/model/textTrainedModel';
import { snapshotVariables } from '../../src/trainer/model/variableSnapshot';
import { AdamW, DEFAULT_ADAMW } from '../../src/trainer/training/adamW';
import { CallbackList, type EvaluationLogs, type StepLogs } from '../../src/trainer/training/callbacks/callbackList';
import { EarlyStopping } from '../../src/trainer/training/callbacks/earlyStopping';
import { Checkpointer, restoreCheckpoint, type TrainingProgress } from '../../src/trainer/training/callbacks/checkpointer';
import { CheckpointStore } from '../../src/trainer/training/checkpointStore';
import { RunClock } from '../../src/trainer/training/runClock';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

let workspace: TempWorkspace;
let tokenizer: TextTokenizer;

before(async () => {
  await tf.setBackend('cpu');
  workspace = new TempWorkspace();
  buildTinyBert(workspace.path('tiny'));
  tokenizer = TextTokenizer.fromFolder(workspace.path('tiny'));
});
after(() => workspace.dispose());

/** One variable trained by a real AdamW: what a checkpoint saves and a resume puts back. */
function trainee(initial: number[]) {
  const w = tf.variable(tf.tensor1d(initial));
  const variables = new Map([['w', w]]);
  const optimizer = new AdamW(variables, { ...DEFAULT_ADAMW, weightDecay: 0 });
  const model = {
    snapshot: () => snapshotVariables(variables),
    restore: (weights: Map<string, { data: unknown }>) => w.assign(tf.tensor1d(weights.get('w')!.data as Float32Array)),
    ...textCheckpointFiles({ model_type: 'bert' }, tokenizer),
  };
  return { w, optimizer, trainee: { model, head: undefined, optimizer } };
}

function logs(step: number, epochEnds = false): StepLogs {
  return {
    step,
    epoch: step / 10,
    position: { epoch: 0, batchIndex: step },
    epochEnds,
    loss: 1,
    lr: 0.1,
    gradNorm: 1,
    examples: 2,
    examplesSeen: 2 * step,
  };
}

function evaluation(step: number, isBest: boolean): EvaluationLogs {
  return { step, epoch: step / 10, metrics: { f1: 0.5 }, primary: { name: 'f1', value: 0.5 }, isBest };
}

function checkpointerIn(runDir: string, parts: ReturnType<typeof trainee>, start: { progress: TrainingProgress; resumed: boolean }) {
  const events: RunEventInput[] = [];
  const checkpointer = new Checkpointer(
    new CheckpointStore(runDir, 2, true),
    parts.trainee,
    { every: 3, seed: 1, configHash: 'hash' },
    () => ({ tracker: { best: 0.5, evaluationsWithoutImprovement: 0 }, metrics: { f1: 0.5 }, baseline: null }),
    new RunClock(),
    { write: (event) => events.push(event) },
    { ...start, bestCheckpoint: null },
  );
  const saved = () =>
    events.flatMap((event) =>
      event.type === 'checkpoint' ? [{ step: event.step, reason: event.reason, best: event.is_best, deleted: event.deleted }] : [],
    );
  return { checkpointer, saved };
}

async function step(parts: ReturnType<typeof trainee>, checkpointer: Checkpointer, n: number, best?: boolean) {
  parts.optimizer.apply(new Map([['w', tf.tensor1d([0.5, -0.5])]]), 0.1);
  if (best !== undefined) checkpointer.onEvaluate(evaluation(n, best));
  await checkpointer.onStepEnd(logs(n));
}

describe('the checkpointer callback', () => {
  it('saves on its interval, at a new best between intervals, and once more at the end; rotation keeps the best', async () => {
    const parts = trainee([1, 2]);
    const { checkpointer, saved } = checkpointerIn(workspace.path('run-a'), parts, {
      progress: { step: 0, epoch: 0, position: { epoch: 0, batchIndex: 0 }, examplesSeen: 0 },
      resumed: false,
    });
    for (let n = 1; n <= 7; n++) await step(parts, checkpointer, n, n === 2 ? true : n === 4 ? false : undefined);
    await checkpointer.onTrainEnd({ reason: 'completed' });
    assert.deepEqual(saved(), [
      { step: 2, reason: 'interval', best: true, deleted: [] },
      { step: 3, reason: 'interval', best: false, deleted: [] },
      { step: 6, reason: 'interval', best: false, deleted: [] },
      { step: 7, reason: 'final', best: false, deleted: ['checkpoints/step-3'] },
    ]);
    assert.equal(checkpointer.best(), 'checkpoints/step-2');
    assert.equal(checkpointer.newest(), 'step-7');
  });

  it('adds no checkpoint at the end when the last step was just saved, and names a stop as such', async () => {
    const parts = trainee([1, 2]);
    const start = { progress: { step: 0, epoch: 0, position: { epoch: 0, batchIndex: 0 }, examplesSeen: 0 }, resumed: false };
    const atInterval = checkpointerIn(workspace.path('run-b'), parts, start);
    for (let n = 1; n <= 3; n++) await step(parts, atInterval.checkpointer, n);
    await atInterval.checkpointer.onTrainEnd({ reason: 'stopped' });
    assert.deepEqual(
      atInterval.saved().map((s) => s.reason),
      ['interval'],
    );
    const between = checkpointerIn(workspace.path('run-c'), parts, start);
    for (let n = 1; n <= 4; n++) await step(parts, between.checkpointer, n);
    await between.checkpointer.onTrainEnd({ reason: 'stopped' });
    assert.deepEqual(
      between.saved().map((s) => [s.step, s.reason]),
      [
        [3, 'interval'],
        [4, 'stop'],
      ],
    );
  });

  it('restores the weights, the optimizer step and moments, and the state of a saved checkpoint; a resumed run does not save it again', async () => {
    const parts = trainee([1, 2]);
    const { checkpointer } = checkpointerIn(workspace.path('run-d'), parts, {
      progress: { step: 0, epoch: 0, position: { epoch: 0, batchIndex: 0 }, examplesSeen: 0 },
      resumed: false,
    });
    for (let n = 1; n <= 3; n++) await step(parts, checkpointer, n);
    const fresh = trainee([0, 0]);
    const lines: string[] = [];
    const state = restoreCheckpoint(join(workspace.path('run-d'), 'checkpoints', 'step-3'), fresh.trainee, 'hash', (line) =>
      lines.push(line),
    );
    assert.deepEqual(Array.from(fresh.w.dataSync()), Array.from(parts.w.dataSync()));
    assert.equal(fresh.optimizer.step, 3);
    assert.deepEqual((await fresh.optimizer.state()).moments.get('w')!.m, (await parts.optimizer.state()).moments.get('w')!.m);
    assert.deepEqual(
      [state.step, state.position, state.examplesSeen, state.tracker],
      [3, { epoch: 0, batchIndex: 3 }, 6, { best: 0.5, evaluationsWithoutImprovement: 0 }],
    );
    assert.match(lines.at(-1)!, /resuming from .*step-3 at step 3/);
    const resumed = checkpointerIn(workspace.path('run-d'), fresh, {
      progress: { step: 3, epoch: 0.3, position: state.position, examplesSeen: 6 },
      resumed: true,
    });
    await resumed.checkpointer.onTrainEnd({ reason: 'completed' });
    assert.deepEqual(resumed.saved(), []);
  });
});

describe('the checkpointer and early stopping in one callback list, in the run’s order', () => {
  it('saves a checkpoint at the step that early stopping marks as a new best, and only there', async () => {
    const parts = trainee([1, 2]);
    const { checkpointer, saved } = checkpointerIn(workspace.path('run-list'), parts, {
      progress: { step: 0, epoch: 0, position: { epoch: 0, batchIndex: 0 }, examplesSeen: 0 },
      resumed: false,
    });
    const earlyStopping = new EarlyStopping(
      { metric: 'f1', mode: 'max', minDelta: 0, patience: 5 },
      { write: () => undefined },
      () => undefined,
    );
    // As trainingRun orders them: the checkpointer before early stopping, which decides isBest during onEvaluate.
    const list = new CallbackList([checkpointer, earlyStopping]);
    const scores = [0.4, 0.3, 0.6, 0.5];
    for (let n = 1; n <= scores.length; n++) {
      parts.optimizer.apply(new Map([['w', tf.tensor1d([0.5, -0.5])]]), 0.1);
      await list.evaluated({
        step: n,
        epoch: n / 10,
        metrics: { f1: scores[n - 1]! },
        primary: { name: 'f1', value: scores[n - 1]! },
        isBest: false,
      });
      await list.onStepEnd(logs(n));
    }
    assert.deepEqual(
      saved().map((s) => [s.step, s.best]),
      [
        [1, true],
        [3, true],
      ],
    );
    assert.equal(checkpointer.best(), 'checkpoints/step-3');
  });
});
