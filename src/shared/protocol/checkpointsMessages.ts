import type { MetricValues } from '../events/runEvents';
import {
  arrayOf,
  hasFields,
  isBoolean,
  isFiniteNumber,
  isMetricValues,
  isNonEmptyString,
  isRecord,
  isString,
  nullable,
  oneOf,
  type Guard,
} from './messageGuards';
import { isRunListEntry, type RunListEntry } from './runListEntry';
import { CHECKPOINT_NAME } from '../run/runFolder';

/** Messages between the extension and the checkpoints webview, declared once for both sides and checked on receipt. */

/** `embedtune eval` of a checkpoint on a data file the user picked (its eval_results.json). */
export interface CheckpointEvaluation {
  /** The data file, as the user picked it. */
  readonly data: string;
  readonly examples: number;
  readonly metrics: MetricValues;
}

/** One checkpoint folder of a run, as the table shows it. */
export interface CheckpointRow {
  /** The folder name, e.g. `step-40`: how the webview names a checkpoint in messages. */
  readonly name: string;
  readonly step: number;
  readonly epoch: number | null;
  /** When it was saved (ISO 8601). */
  readonly time: string | null;
  readonly sizeBytes: number | null;
  /** The run's evaluation metrics at this checkpoint. */
  readonly metrics: MetricValues;
  readonly isBest: boolean;
  /** Why it was saved: interval, epoch, stop or final. */
  readonly reason: string | null;
  readonly evaluation: CheckpointEvaluation | null;
}

export const CHECKPOINT_ACTIONS = ['evaluate', 'resume', 'export', 'lab', 'reveal', 'delete'] as const;
export type CheckpointAction = (typeof CHECKPOINT_ACTIONS)[number];

export type ToCheckpoints =
  | { readonly command: 'runs'; readonly runs: RunListEntry[] }
  /** The run's checkpoints; `primary` is the metric that picks the best one. */
  | { readonly command: 'checkpoints'; readonly run: RunListEntry; readonly rows: CheckpointRow[]; readonly primary: string | null }
  /** An action is under way on a checkpoint (e.g. evaluating), or none when `checkpoint` is null. */
  | { readonly command: 'busy'; readonly checkpoint: string | null; readonly action: CheckpointAction | null };

export type FromCheckpoints =
  | { readonly command: 'ready'; readonly key: string | null }
  | { readonly command: 'selectRun'; readonly key: string }
  | { readonly command: CheckpointAction; readonly key: string; readonly checkpoint: string };

// A checkpoint folder name as the engine writes it; nothing else is accepted, so a message can never name another path.
export { CHECKPOINT_NAME };

const isAction = oneOf(CHECKPOINT_ACTIONS);
const isEvaluation: Guard<CheckpointEvaluation> = (value): value is CheckpointEvaluation =>
  hasFields<CheckpointEvaluation>(value, { data: isString, examples: isFiniteNumber, metrics: isMetricValues });

export const isCheckpointRow: Guard<CheckpointRow> = (value): value is CheckpointRow =>
  hasFields<CheckpointRow>(value, {
    name: isNonEmptyString,
    step: isFiniteNumber,
    epoch: nullable(isFiniteNumber),
    time: nullable(isString),
    sizeBytes: nullable(isFiniteNumber),
    metrics: isMetricValues,
    isBest: isBoolean,
    reason: nullable(isString),
    evaluation: nullable(isEvaluation),
  });

export function parseFromCheckpoints(value: unknown): FromCheckpoints | undefined {
  if (!isRecord(value)) return undefined;
  if (value.command === 'ready')
    return value.key === null || isNonEmptyString(value.key) ? { command: 'ready', key: value.key } : undefined;
  if (value.command === 'selectRun') return isNonEmptyString(value.key) ? { command: 'selectRun', key: value.key } : undefined;
  if (isAction(value.command) && isNonEmptyString(value.key) && isString(value.checkpoint) && CHECKPOINT_NAME.test(value.checkpoint)) {
    return { command: value.command, key: value.key, checkpoint: value.checkpoint };
  }
  return undefined;
}

export function parseToCheckpoints(value: unknown): ToCheckpoints | undefined {
  if (!isRecord(value)) return undefined;
  switch (value.command) {
    case 'runs':
      return arrayOf(isRunListEntry)(value.runs) ? (value as unknown as ToCheckpoints) : undefined;
    case 'checkpoints':
      return isRunListEntry(value.run) && arrayOf(isCheckpointRow)(value.rows) && nullable(isString)(value.primary)
        ? (value as unknown as ToCheckpoints)
        : undefined;
    case 'busy':
      return nullable(isString)(value.checkpoint) && nullable(isAction)(value.action) ? (value as unknown as ToCheckpoints) : undefined;
    default:
      return undefined;
  }
}
