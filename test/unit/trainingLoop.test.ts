import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { BatchIterator } from '../../src/trainer/data/batchIterator';
import type { TextLabelExample } from '../../src/trainer/data/trainingExamples';
import { CallbackList, type TrainingCallback } from '../../src/trainer/training/callbacks/callbackList';
import type { PassCoordinates, StepGradients } from '../../src/trainer/training/gradientStep';
import { runTrainingLoop, type TrainingLoop } from '../../src/trainer/training/loop';

before(async () => {
  await tf.setBackend('cpu');
});

/** Ten rows: with batch size 2 an epoch is five batches, so accumulation 2 gives steps of 2, 2 and 1 micro-batches. */
const ROWS: TextLabelExample[] = Array.from({ length: 10 }, (_, i) => ({ text: `row ${i}`, label: 'a' }));

/** A test double of an objective: it records each call, and its gradient of `w` is the micro-batch index plus one. */
class RecordingObjective {
  constructor(
    private readonly calls: string[],
    private readonly lossAt: (coordinates: PassCoordinates) => number = () => 0.5,
  ) {}

  gradients(examples: readonly TextLabelExample[], coordinates: PassCoordinates): StepGradients {
    this.calls.push(`gradients step ${coordinates.step} micro ${coordinates.microBatch} (${examples.length} rows)`);
    return { loss: this.lossAt(coordinates), gradients: new Map([['w', tf.fill([2], coordinates.microBatch + 1)]]) };
  }
}

function loopWith(calls: string[], extra: Partial<TrainingLoop<TextLabelExample>> = {}, callbacks: TrainingCallback[] = []) {
  const recorder: TrainingCallback = {
    onTrainBegin: () => void calls.push('onTrainBegin'),
    onStepEnd: (logs) =>
      void calls.push(`onStepEnd ${logs.step} epoch ${logs.epoch}${logs.epochEnds ? ' (epoch end)' : ''} loss ${logs.loss}`),
    onTrainEnd: (end) => void calls.push(`onTrainEnd ${end.reason} at ${end.step}`),
  };
  const loop: TrainingLoop<TextLabelExample> = {
    batches: new BatchIterator(ROWS, { batchSize: 2, seed: 7 }),
    epochs: 2,
    accumulation: 2,
    objective: new RecordingObjective(calls),
    optimizer: {
      apply: (gradients, lr) => calls.push(`apply lr ${lr} w ${Array.from(gradients.get('w')!.dataSync()).join(',')}`),
    },
    learningRate: (step) => 0.1 * (step + 1),
    maxGradNorm: 100,
    seed: 7,
    start: { step: 0, position: { epoch: 0, batchIndex: 0 }, examplesSeen: 0 },
    callbacks: new CallbackList([recorder, ...callbacks]),
    diverged: (step, loss) => new Error(`diverged at ${step} with ${loss}`),
    ...extra,
  };
  return loop;
}

describe('the training loop', () => {
  it('accumulates micro-batches into one averaged optimizer step, and tells the callbacks after each step', async () => {
    const calls: string[] = [];
    const end = await runTrainingLoop(loopWith(calls));
    assert.deepEqual(end, { reason: 'completed', step: 6 });
    assert.deepEqual(calls.slice(0, 13), [
      'onTrainBegin',
      'gradients step 0 micro 0 (2 rows)',
      'gradients step 0 micro 1 (2 rows)',
      'apply lr 0.1 w 1.5,1.5',
      'onStepEnd 1 epoch 0.4 loss 0.5',
      'gradients step 1 micro 0 (2 rows)',
      'gradients step 1 micro 1 (2 rows)',
      'apply lr 0.2 w 1.5,1.5',
      'onStepEnd 2 epoch 0.8 loss 0.5',
      // The epoch's fifth batch is a step of its own: accumulation never spans an epoch end.
      'gradients step 2 micro 0 (2 rows)',
      'apply lr 0.30000000000000004 w 1,1',
      'onStepEnd 3 epoch 1 (epoch end) loss 0.5',
      'gradients step 3 micro 0 (2 rows)',
    ]);
    assert.equal(calls.at(-1), 'onTrainEnd completed at 6');
    assert.equal(calls.filter((call) => call.startsWith('apply')).length, 6);
  });

  it('ends after the step in which a callback asked to stop, and reports that reason to onTrainEnd', async () => {
    const calls: string[] = [];
    const stopper: TrainingCallback = { onStepEnd: (logs, control) => (logs.step === 2 ? control.stop('stopped') : undefined) };
    const end = await runTrainingLoop(loopWith(calls, {}, [stopper]));
    assert.deepEqual(end, { reason: 'stopped', step: 2 });
    assert.deepEqual(calls.slice(-2), ['onStepEnd 2 epoch 0.8 loss 0.5', 'onTrainEnd stopped at 2']);
  });

  it('starts at a resumed position, with the step numbers that fix dropout masks continuing from it', async () => {
    const calls: string[] = [];
    const start = { step: 4, position: { epoch: 1, batchIndex: 2 }, examplesSeen: 12 };
    const end = await runTrainingLoop(loopWith(calls, { start }));
    assert.deepEqual(end, { reason: 'completed', step: 6 });
    assert.deepEqual(calls.slice(1, 3), ['gradients step 4 micro 0 (2 rows)', 'gradients step 4 micro 1 (2 rows)']);
  });

  it('stops with the diverged error, and applies nothing, when a loss is not finite', async () => {
    const calls: string[] = [];
    const objective = new RecordingObjective(calls, ({ step, microBatch }) => (step === 1 && microBatch === 1 ? Number.NaN : 0.5));
    await assert.rejects(runTrainingLoop(loopWith(calls, { objective })), /diverged at 1 with NaN/);
    assert.equal(calls.filter((call) => call.startsWith('apply')).length, 1);
    assert.ok(!calls.some((call) => call.startsWith('onTrainEnd')));
  });
});
