import type { MetricValues } from '../events/runEvents';

/**
 * The layout of a run folder, `<output_dir>/<run-id>/`, declared once. Both engines write it (the tfjs engine
 * through src/trainer/training/runDirectory.ts and checkpointStore.ts, the accelerate engine through
 * python/embedtune_accelerate/run_folder.py, whose names a test keeps equal to these) and the editor reads it
 * (src/extension/runs). Names and types only, no I/O and no node imports, so that a webview may import it too.
 *
 * ```
 * <run-id>/
 *   run.json              who trains it (pid, config) and whether it has finished, so that an editor can reattach
 *   events.jsonl          the run's events, one JSON object a line (schemas/events.schema.json)
 *   config.resolved.yaml  the config with every default filled in
 *   checkpoints/step-N/   one folder per checkpoint; the tfjs engine's hold trainer_state.json, encoder.safetensors,
 *                         optimizer.safetensors, config.json and the tokenizer
 *   best                  one line: the best checkpoint relative to the run folder, e.g. checkpoints/step-40
 *   model/                the exported sentence-transformers model, written at the end
 *   accelerate/           the accelerate engine's launch plan, prepared data and per-rank traces
 * ```
 */
export const RUN_INFO_FILE = 'run.json';
export const EVENTS_FILE = 'events.jsonl';
export const RESOLVED_CONFIG_FILE = 'config.resolved.yaml';
export const CHECKPOINTS_DIR = 'checkpoints';
export const BEST_POINTER_FILE = 'best';
export const EXPORTED_MODEL_DIR = 'model';
export const ACCELERATE_DIR = 'accelerate';

/** Files in a tfjs checkpoint folder that are not the model's own (config.json, tokenizer files). */
export const TRAINER_STATE_FILE = 'trainer_state.json';
export const ENCODER_WEIGHTS_FILE = 'encoder.safetensors';
export const OPTIMIZER_STATE_FILE = 'optimizer.safetensors';
/** What `embedtune eval` of a checkpoint leaves beside it. */
export const EVAL_RESULTS_FILE = 'eval_results.json';

/** The accelerate engine's own state file in its checkpoints, beside the Hugging Face Trainer's trainer_state.json. */
export const ACCELERATE_STATE_FILE = 'embedtune_state.json';

export const CHECKPOINT_PREFIX = 'step-';
/** A checkpoint folder's name; anything else under checkpoints/ (a `.tmp-` folder of a save in progress) is not one. */
export const CHECKPOINT_NAME = /^step-\d{1,12}$/;

/** `step-40`. */
export function checkpointName(step: number): string {
  return `${CHECKPOINT_PREFIX}${step}`;
}

/** The step of a checkpoint folder name, or undefined when the name is not one. */
export function checkpointStep(name: string): number | undefined {
  return CHECKPOINT_NAME.test(name) ? Number(name.slice(CHECKPOINT_PREFIX.length)) : undefined;
}

/**
 * `checkpoints/step-40`: how events, the `best` pointer and trainer_state.json name a checkpoint, relative to the run
 * folder and with `/` on every platform.
 */
export function checkpointRelativePath(step: number): string {
  return `${CHECKPOINTS_DIR}/${checkpointName(step)}`;
}

/** run.json. */
export interface RunInfo {
  readonly run_id: string;
  readonly pid: number;
  readonly configPath: string;
  readonly startedAt: string;
  readonly state: 'running' | 'finished';
}

/** run.json's text, or undefined when it is half-written or not one of ours. */
export function parseRunInfo(text: string): RunInfo | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const info = value as Partial<RunInfo> | null;
  if (
    !info ||
    typeof info.run_id !== 'string' ||
    typeof info.pid !== 'number' ||
    typeof info.configPath !== 'string' ||
    typeof info.startedAt !== 'string' ||
    (info.state !== 'running' && info.state !== 'finished')
  ) {
    return undefined;
  }
  return info as RunInfo;
}

export const TFJS_CHECKPOINT_FORMAT = 'embedtune-checkpoint/1';

/** The fields of a tfjs checkpoint's trainer_state.json that readers outside the engine use. */
export interface CheckpointStateSummary {
  readonly format: typeof TFJS_CHECKPOINT_FORMAT;
  readonly step: number;
  readonly epoch: number;
  /** The evaluation at this checkpoint's step, or the newest before it. */
  readonly metrics: MetricValues | null;
  /** The best checkpoint when this one was saved, relative to the run folder. */
  readonly bestCheckpoint: string | null;
}
