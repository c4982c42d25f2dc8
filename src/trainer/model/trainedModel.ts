import type * as tf from '@tensorflow/tfjs-core';
import type { EmbedTuneConfig, ResolvedConfig } from '../../shared/config/configTypes';
import type { DatasetCounts, MetricValues } from '../../shared/events/runEvents';
import type { NamedTensors } from './namedTensors';

/** What the exported model's card and metadata may quote about the run. */
export interface ExportFacts {
  readonly config: ResolvedConfig;
  /** The config as the user wrote it. */
  readonly written: EmbedTuneConfig;
  readonly dataset: DatasetCounts;
  /** The latest evaluation's metrics; null when the run never evaluated. */
  readonly metrics: MetricValues | null;
}

/**
 * The model a run trains, as the run setup, the checkpoints and the final export see it: a sentence encoder for the
 * text tasks, a ResNet for images. The training loop never sees it; the task's objective computes with it.
 */
export interface TrainedModel {
  /** Every variable by checkpoint name, trainable or not (frozen layers, BatchNorm's running statistics). */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /**
   * The variables of a task head built into the model itself (a ResNet's new classifier), which learn at
   * `training.head_learning_rate`; empty when the task keeps its head apart (TrainingObjective.head).
   */
  readonly headNames: ReadonlySet<string>;
  /** Parameters (not buffers such as running statistics) that pass `filter`. */
  parameterCount(filter?: (variable: tf.Variable) => boolean): number;
  /** Every variable as the trainer holds it, for checkpoints that resume exactly. */
  snapshot(): Promise<NamedTensors>;
  /** Puts back values saved by `snapshot`, by name. */
  restore(weights: NamedTensors): void;
  /**
   * Writes `weights` (a `snapshot`, the head's values added) into a checkpoint folder, with what makes the folder
   * load as a model; trainer_state.json and the optimizer's moments are the store's.
   */
  writeCheckpointFolder(folder: string, weights: NamedTensors): Promise<void>;
  /** Reads back the weights `writeCheckpointFolder` wrote, by the names `snapshot` gives. */
  readCheckpointWeights(folder: string): NamedTensors;
  /** Why the trained model cannot be exported, as the warning the run writes; undefined when it can. */
  exportProblem(): string | undefined;
  /** Writes the model as its library loads it into `folder`; returns what it wrote, in words, for the log. */
  exportTo(folder: string, facts: ExportFacts): Promise<string>;
}
