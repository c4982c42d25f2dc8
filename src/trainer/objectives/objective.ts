import type * as tf from '@tensorflow/tfjs-core';
import type { ClassScores, ConfusionMatrix, MetricValues } from '../../shared/events/runEvents';
import type { Example } from '../data/trainingExamples';
import type { SentenceEmbedder } from '../model/sentenceEmbedder';
import type { PassCoordinates, StepGradients } from '../training/gradientStep';
import type { TaskHead } from '../training/savedTaskHead';

/** What one evaluation on the validation rows found; classifiers and taggers add what the dashboard's matrix shows. */
export interface ObjectiveEvaluation {
  readonly metrics: MetricValues;
  readonly confusionMatrix?: ConfusionMatrix;
  readonly perClass?: Record<string, ClassScores>;
}

/**
 * One task's way of training the encoder: the loss and gradients of a micro-batch of its examples, its evaluation,
 * and what it adds to the exported model. The training loop, the callbacks and the run setup know no task; a new
 * task kind is one more implementation of this.
 */
export interface TrainingObjective<T extends Example = Example> {
  readonly embedder: SentenceEmbedder;
  /** The training examples, in file order; the batch iterator shuffles them. */
  readonly examples: readonly T[];
  /** The task head trained with the encoder, saved beside it in checkpoints; undefined when the encoder is the model. */
  readonly head: TaskHead | undefined;
  /** The variables the optimizer updates: the encoder's trainable ones and the head's, by checkpoint name. */
  readonly trainable: ReadonlyMap<string, tf.Variable>;
  /**
   * The texts of an example that no other example of its batch may contain (the in-batch-negative losses);
   * undefined when batches may repeat texts.
   */
  distinctTexts?(example: T): readonly string[];
  /** Warnings about the training data, written once before the first step. */
  warnings(): string[];
  /** Loss and gradients of one micro-batch; dropout masks derive from `coordinates`, so a resumed run replays them. */
  gradients(examples: readonly T[], coordinates: PassCoordinates): StepGradients;
  /** The configured metrics on the validation rows, without dropout. */
  evaluate(batchSize: number): Promise<ObjectiveEvaluation>;
  /** Writes what the task adds to the exported sentence-transformers folder (a classifier or tagger head). */
  exportTo(folder: string): Promise<void>;
}

/** The encoder's trainable variables and the head's, by the names checkpoints and the optimizer use. */
export function trainableVariables(embedder: SentenceEmbedder, head: TaskHead | undefined): ReadonlyMap<string, tf.Variable> {
  return new Map([...embedder.encoder.variables, ...(head?.variables ?? [])].filter(([, variable]) => variable.trainable));
}
