import type * as tf from '@tensorflow/tfjs-core';
import type { Batch, BatchPosition } from '../data/batchIterator';
import type { TrainingExample, TrainingObjective } from '../objectives/objective';
import { clipByGlobalNorm } from './adamW';
import type { CallbackList, TrainEndReason } from './callbacks/callbackList';
import { accumulate, disposeGradients, scaleGradients } from './gradientStep';

export interface TrainingLoop<T extends TrainingExample> {
  /** Seeded batches from a position on (see BatchIterator). */
  readonly batches: {
    batches(from: BatchPosition, epochs: number): Iterable<Batch<T>>;
    progressAt(position: BatchPosition): number;
  };
  readonly epochs: number;
  /** Micro-batches per optimizer step; an epoch's last step takes what is left. */
  readonly accumulation: number;
  readonly objective: Pick<TrainingObjective<T>, 'gradients'>;
  readonly optimizer: { apply(gradients: ReadonlyMap<string, tf.Tensor>, learningRate: number): void };
  readonly learningRate: (step: number) => number;
  readonly maxGradNorm: number;
  /** `training.seed`: with the step and micro-batch, it fixes each pass's dropout masks. */
  readonly seed: number;
  /** Where to start: step 0 at the first batch, or where a checkpoint left off. */
  readonly start: { readonly step: number; readonly position: BatchPosition; readonly examplesSeen: number };
  readonly callbacks: CallbackList;
  /** The error to stop with when the loss is not finite. */
  readonly diverged: (step: number, loss: number) => Error;
}

/**
 * Runs optimizer steps until the epochs are done or a callback stops the run. Each step averages the gradients of
 * its micro-batches, clips them, applies them, and hands the step's logs to the callbacks.
 */
export async function runTrainingLoop<T extends TrainingExample>(loop: TrainingLoop<T>): Promise<{ reason: TrainEndReason; step: number }> {
  const { batches, callbacks } = loop;
  let { step, position, examplesSeen } = loop.start;
  await callbacks.onTrainBegin();
  const pending: Batch<T>[] = [];
  for (const batch of batches.batches(position, loop.epochs)) {
    pending.push(batch);
    const epochEnds = batch.next.epoch !== batch.position.epoch;
    if (pending.length < loop.accumulation && !epochEnds) continue;

    const { loss, gradNorm, lr, examples } = optimizerStep(loop, step, pending);
    step++;
    position = batch.next;
    examplesSeen += examples;
    pending.length = 0;
    await callbacks.onStepEnd({
      step,
      epoch: batches.progressAt(position),
      position,
      epochEnds,
      loss,
      lr,
      gradNorm,
      examples,
      examplesSeen,
    });
    if (callbacks.stopReason) break;
  }
  const reason = callbacks.stopReason ?? 'completed';
  await callbacks.onTrainEnd({ reason, step });
  return { reason, step };
}

function optimizerStep<T extends TrainingExample>(loop: TrainingLoop<T>, step: number, microBatches: readonly Batch<T>[]) {
  const total = new Map<string, tf.Tensor>();
  let lossSum = 0;
  let examples = 0;
  microBatches.forEach((micro, index) => {
    const coordinates = { seed: loop.seed, step, microBatch: index, epoch: micro.position.epoch };
    const { loss, gradients } = loop.objective.gradients(micro.examples, coordinates);
    accumulate(total, gradients);
    lossSum += loss;
    examples += micro.examples.length;
  });
  const loss = lossSum / microBatches.length;
  if (!Number.isFinite(loss)) {
    disposeGradients(total);
    throw loop.diverged(step, loss);
  }
  scaleGradients(total, 1 / microBatches.length);
  const gradNorm = clipByGlobalNorm(total, loop.maxGradNorm);
  const lr = loop.learningRate(step);
  loop.optimizer.apply(total, lr);
  disposeGradients(total);
  return { loss, gradNorm, lr, examples };
}
