import type * as tf from '@tensorflow/tfjs-core';
import type { ClassScores, ConfusionMatrix, MetricValues, MisclassifiedImage } from '../../shared/events/runEvents';
import type { ImageExample } from '../data/imageDataExample';
import type { Example } from '../data/trainingExamples';
import type { TrainedModel } from '../model/trainedModel';
import type { PassCoordinates, StepGradients } from '../training/gradientStep';
import type { TaskHead } from '../training/savedTaskHead';

/** What one evaluation on the validation rows found; classifiers and taggers add what the dashboard's matrix shows. */
export interface ObjectiveEvaluation {
  readonly metrics: MetricValues;
  readonly confusionMatrix?: ConfusionMatrix;
  readonly perClass?: Record<string, ClassScores>;
  /** Image classification: the most confident mistakes, with thumbnails. */
  readonly misclassified?: MisclassifiedImage[];
}

/** An example of any task: a text task's row, or a labelled image. */
export type TrainingExample = Example | ImageExample;

/**
 * One task's way of training its model: the loss and gradients of a micro-batch of its examples, its evaluation,
 * and what it adds to the exported model. The training loop, the callbacks and the run setup know no task; a new
 * task kind is one more implementation of this.
 */
export interface TrainingObjective<T extends TrainingExample = TrainingExample> {
  /** The model the run trains, checkpoints and exports: the sentence encoder, or the ResNet for images. */
  readonly model: TrainedModel;
  /** The training examples, in file order; the batch iterator shuffles them. */
  readonly examples: readonly T[];
  /** The task head trained beside the model, saved with it in checkpoints; undefined when the model is all there is. */
  readonly head: TaskHead | undefined;
  /** The variables the optimizer updates: the model's trainable ones and the head's, by checkpoint name. */
  readonly trainable: ReadonlyMap<string, tf.Variable>;
  /**
   * The texts of an example that no other example of its batch may contain (the in-batch-negative losses);
   * undefined when batches may repeat texts.
   */
  distinctTexts?(example: T): readonly string[];
  /** Warnings about the training data, written once before the first step. */
  warnings(): string[];
  /**
   * Loss and gradients of one micro-batch; dropout masks (and image augmentations) derive from `coordinates`, so a
   * resumed run replays them.
   */
  gradients(examples: readonly T[], coordinates: PassCoordinates): StepGradients;
  /** The configured metrics on the validation rows, without dropout. */
  evaluate(batchSize: number): Promise<ObjectiveEvaluation>;
  /** Writes what the task adds to the exported model's folder (a classifier or tagger head); nothing when the model is all. */
  exportTo(folder: string): Promise<void>;
}

/** The model's trainable variables and the head's, by the names checkpoints and the optimizer use. */
export function trainableVariables(model: Pick<TrainedModel, 'variables'>, head: TaskHead | undefined): ReadonlyMap<string, tf.Variable> {
  return new Map([...model.variables, ...(head?.variables ?? [])].filter(([, variable]) => variable.trainable));
}

/** The variables that learn at training.head_learning_rate: a separate head's, or the head built into the model. */
export function headVariableNames(objective: Pick<TrainingObjective, 'model' | 'head'>): ReadonlySet<string> {
  return new Set([...(objective.head?.variables.keys() ?? []), ...objective.model.headNames]);
}
