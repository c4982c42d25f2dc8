import Ajv2020 from 'ajv/dist/2020';
import eventsSchemaJson from '../../../schemas/events.schema.json';
import type { EngineType, StrategyType, TaskType, UnicodeNormalization } from '../config/configTypes';

/**
 * The events a training run writes to `<output_dir>/<run-id>/events.jsonl`, one JSON object
 * per line. The tfjs trainer, the Accelerate callback, the CLI and the extension all speak
 * this protocol, so it is declared once here and once as `schemas/events.schema.json`; the
 * unit tests keep the two in step. Keys are snake_case because Python writes them too.
 *
 * Numbers that can stop being finite (a diverging loss, the Spearman correlation of constant
 * predictions) are typed `number | null`: JSON has no NaN, and `JSON.stringify` writes it as null.
 */

/** The fields every event carries; the writer fills them in. */
export interface RunEventEnvelope {
  /** ISO 8601 timestamp of when the event was written. */
  time: string;
  run_id: string;
  /** 0 for the first event of a run, then +1 per event, also across a resume. */
  seq: number;
}

export interface DatasetCounts {
  train_rows: number;
  validation_rows: number;
  /** Bad rows dropped because `data.on_bad_row` is `skip`. */
  skipped_rows: number;
}

/** One augmentation operation as the run applied it: copies per training row and per-word probability. */
export interface AugmentOperationSettings {
  count: number;
  probability: number;
}

/** The `preprocess` settings a run applied, and what they did to its rows. */
export interface PreprocessReport {
  clean: {
    strip_html: boolean;
    lowercase: boolean;
    unicode_normalization: UnicodeNormalization;
    remove_special_characters: boolean;
    collapse_whitespace: boolean;
    spelling?: { enabled: boolean; min_frequency: number; protect: string[]; protect_file?: string };
  };
  dedupe: boolean;
  augment: {
    seed: number;
    synonym_replacement: AugmentOperationSettings;
    random_swap: AugmentOperationSettings;
    random_deletion: AugmentOperationSettings;
  };
  /** Data rows in the training and validation files, good or bad. */
  rows_read: number;
  /** Bad rows dropped because `data.on_bad_row` is `skip`, including rows that cleaning emptied. */
  rows_skipped: number;
  /** Rows whose text cleaning changed. */
  rows_cleaned: number;
  /** Rows that cleaning left with an empty text (counted in `rows_skipped`). */
  rows_emptied_by_cleaning: number;
  /** Exact duplicates dropped after cleaning, training and validation together. */
  rows_deduplicated: number;
  /** Augmented copies added to the training split. */
  rows_augmented: number;
  augmented_by_operation: { synonym_replacement: number; random_swap: number; random_deletion: number };
  /** Milliseconds spent opening WordNet, when synonym replacement ran. */
  wordnet_load_ms?: number;
  /** What spelling correction did, training and validation files together; only when `clean.spelling` ran. */
  spelling?: SpellingReport;
}

export interface SpellingReport {
  /** Word occurrences replaced. */
  words_corrected: number;
  /** Different misspellings replaced. */
  distinct_words_corrected: number;
  /** Unknown word occurrences kept because they are frequent in the training file or protected. */
  words_kept_as_vocabulary: number;
  /** Unknown word occurrences kept because no single dictionary word is one edit away. */
  words_left_ambiguous: number;
  /** Distinct words that count as vocabulary: frequent in the training file, or protected. */
  vocabulary_words: number;
}

export interface RunStartedEvent extends RunEventEnvelope {
  type: 'run_started';
  /** sha256 (hex) of the resolved config, to tell whether two runs trained the same thing. */
  config_hash: string;
  config_path: string;
  engine: EngineType;
  /** The backend actually used, e.g. 'tensorflow', 'wasm', 'cpu', 'cuda'. */
  backend: string;
  /** Why this backend was picked, including why faster ones were not. */
  backend_reason: string;
  device: string;
  threads?: number;
  task: TaskType;
  /** The base model's hub id or local path. */
  model: string;
  strategy: StrategyType;
  trainable_parameters: number;
  total_parameters: number;
  dataset: DatasetCounts;
  /** What data preparation did; absent in logs written before it was reported. */
  preprocess?: PreprocessReport;
  epochs: number;
  steps_per_epoch: number;
  total_steps: number;
  effective_batch_size: number;
  /** Training processes on all machines (accelerate engine); absent for the single-process tfjs engine. */
  num_processes?: number;
  /** The checkpoint this run continues from, when it is a resume. */
  resumed_from?: string;
  pid: number;
}

export interface MemoryUsage {
  /** Resident set size of the trainer process. */
  rss: number;
  /** Size of the WebAssembly heap, when the wasm backend is used. */
  wasm_heap?: number;
  /** Peak GPU memory allocated by the main training process's tensors so far, when it trains on CUDA (accelerate engine). */
  gpu?: number;
}

export interface ProgressEvent extends RunEventEnvelope {
  type: 'progress';
  /** Optimizer steps done so far. */
  step: number;
  /** Fractional epochs done so far, e.g. 1.5 halfway through the second epoch. */
  epoch: number;
  /** Null when the loss is not finite, i.e. training diverged. */
  loss: number | null;
  lr: number;
  examples_per_second: number;
  /** Null until the speed is known. */
  eta_seconds: number | null;
  memory_mb: MemoryUsage;
  grad_norm?: number | null;
}

export interface NamedMetric {
  name: string;
  /** Null when the metric is undefined for this evaluation (e.g. constant predictions). */
  value: number | null;
}

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
  /** Image classification: one-vs-rest average precision of the class's scores; null when no validation row is of it. */
  average_precision?: number | null;
}

/** A validation image the model got wrong, with a small thumbnail the dashboard draws from its bytes. */
export interface MisclassifiedImage {
  /** The image file, relative to the config's folder. */
  file: string;
  label: string;
  predicted: string;
  /** The predicted class's softmax probability. */
  confidence: number;
  thumbnail: ImageThumbnail;
}

/** Raw RGB pixels, row-major, 3 bytes per pixel, base64-encoded: drawn on a canvas, never used as a URL. */
export interface ImageThumbnail {
  width: number;
  height: number;
  rgb: string;
}

export interface ConfusionMatrix {
  /** Sorted class labels; they index both the rows (gold) and the columns (predicted). */
  labels: string[];
  matrix: number[][];
}

/** Metric name (e.g. `ndcg@10`) to value; null where the metric is undefined. */
export type MetricValues = Record<string, number | null>;

export interface EvalEvent extends RunEventEnvelope {
  type: 'eval';
  step: number;
  epoch: number;
  metrics: MetricValues;
  primary: NamedMetric;
  is_best: boolean;
  confusion_matrix?: ConfusionMatrix;
  per_class?: Record<string, ClassScores>;
  /** Image classification: up to 12 misclassified validation images, the most confident mistakes first. */
  misclassified?: MisclassifiedImage[];
}

export type CheckpointReason = 'interval' | 'epoch' | 'stop' | 'final';

export interface CheckpointEvent extends RunEventEnvelope {
  type: 'checkpoint';
  step: number;
  epoch: number;
  /** Relative to the run folder. */
  path: string;
  size_bytes: number;
  metrics?: MetricValues;
  is_best: boolean;
  reason: CheckpointReason;
  /** Checkpoints (relative paths) removed because of `checkpoints.keep`. */
  deleted: string[];
}

export interface EarlyStopEvent extends RunEventEnvelope {
  type: 'early_stop';
  step: number;
  metric: string;
  best: number;
  patience: number;
}

/**
 * A warning written before `run_finished` when no evaluation after a training step beat the one before training
 * (the base model) on the primary metric: the best checkpoint, which the run exports, is no better than the start.
 * The step-0 evaluation never counts as the best, which is right for picking a checkpoint, so this says what that
 * choice alone would hide.
 */
export interface BaselineNotBeatenEvent extends RunEventEnvelope {
  type: 'baseline_not_beaten';
  metric: string;
  /** The primary metric before training, at step 0. */
  baseline: number;
  /** Its best value after a training step: the best checkpoint's. */
  best: number;
  /** Whether higher (max) or lower (min) is better. */
  mode: 'max' | 'min';
}

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

export interface LogEvent extends RunEventEnvelope {
  type: 'log';
  level: LogLevel;
  message: string;
}

/** One training process of a distributed run: the rows and micro-batches it fed to the loss. */
export interface RankCounts {
  rank: number;
  examples: number;
  batches: number;
}

export type RunFinishReason = 'completed' | 'early_stopped' | 'stopped' | 'failed';

export interface RunFinishedEvent extends RunEventEnvelope {
  type: 'run_finished';
  reason: RunFinishReason;
  step: number;
  best_checkpoint: string | null;
  best_metric: NamedMetric | null;
  duration_seconds: number;
  /** What each training process fed to the loss (accelerate engine), to show that every rank trained. */
  ranks?: RankCounts[];
}

/** Where an error comes from, so that a front end can point at the config key or data line. */
export interface ErrorLocation {
  file?: string;
  /** 1-based. */
  line?: number;
  /** Dotted config key, e.g. `data.columns.anchor`. */
  key?: string;
  /** e.g. 'config', 'data', 'model', 'training'. */
  phase?: string;
}

/** One located problem of an error that has several, e.g. each error of a config. */
export interface ErrorProblem {
  message: string;
  file?: string;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  column?: number;
  /** Dotted config key, e.g. `training.batch_size`. */
  key?: string;
  /** The diagnostic code, as docs/diagnostics.md lists it. */
  code?: string;
}

export interface ErrorEvent extends RunEventEnvelope {
  type: 'error';
  message: string;
  where?: ErrorLocation;
  /** Each problem with its place, when there are several (a config's errors). */
  problems?: ErrorProblem[];
  stack?: string;
}

/**
 * The run_id of an error event that `embedtune train --events stdout` prints when it fails before it has made a run
 * folder (a config with errors, a bad --resume, missing data or model): there is no run yet, and no events.jsonl
 * holds the event. Run ids are folder names made of word characters, dots and dashes, so it names no real run.
 */
export const NO_RUN_FOLDER_ID = '(no run folder)';

export type RunEvent =
  | RunStartedEvent
  | ProgressEvent
  | EvalEvent
  | CheckpointEvent
  | EarlyStopEvent
  | BaselineNotBeatenEvent
  | LogEvent
  | RunFinishedEvent
  | ErrorEvent;

export type RunEventType = RunEvent['type'];

export { RUN_EVENT_TYPES } from './runEventTypes';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event as the trainer describes it; the writer adds the envelope. */
export type RunEventInput = DistributiveOmit<RunEvent, keyof RunEventEnvelope>;

/** The JSON Schema of one events.jsonl line, shipped as `schemas/events.schema.json`. */
export const runEventsSchema: object = eventsSchemaJson;

// Compiled once, on first use: the extension only pays for it when it reads a run.
let validateEvent: ((value: unknown) => boolean) | undefined;

function isRunEvent(value: unknown): value is RunEvent {
  validateEvent ??= new Ajv2020({ strict: true }).compile(runEventsSchema);
  return validateEvent(value);
}

/**
 * Parses one line of events.jsonl. Returns undefined, never throws, for a line that is not a
 * valid event: a truncated last line written by a run that was killed, a blank line, or an
 * event that does not match the schema. Validating against the schema means a returned event
 * really has the fields its type promises, whichever process wrote it.
 */
export function parseRunEventLine(line: string): RunEvent | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isRunEvent(value) ? value : undefined;
}
