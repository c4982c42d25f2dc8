import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmbedTuneConfig, ResolvedConfig } from '../../shared/config/configTypes';
import type { DatasetCounts } from '../../shared/events/runEvents';
import type { TrainingData } from '../data/loadTrainingData';
import type { LocatedModel } from '../model/modelLocator';
import { readSentenceTransformersSettings } from '../model/sentenceTransformersFolder';

export const PLAN_FORMAT = 'embedtune-accelerate-launch/1';

/** The model as the tfjs engine would build it: written settings first, then the model's own modules, then defaults. */
export interface PlannedModel {
  readonly folder: string;
  readonly pooling: string;
  readonly normalize: boolean;
  readonly max_seq_length: number;
}

/** What `python -m embedtune_accelerate.train --plan` reads (python/embedtune_accelerate/launch_plan.py). */
export interface LaunchPlan {
  readonly format: typeof PLAN_FORMAT;
  readonly run_id: string;
  readonly run_dir: string;
  readonly events_path: string;
  readonly config_path: string;
  readonly config_hash: string;
  /** The resolved config, the same object config.resolved.yaml holds. */
  readonly config: ResolvedConfig;
  readonly model: PlannedModel;
  readonly data: {
    readonly kind: string;
    readonly train: string;
    readonly validation: string | null;
    readonly counts: DatasetCounts;
    /** The data preparation report of run_started, when the loader gives one. */
    readonly preprocess?: unknown;
  };
  readonly evaluation_on: boolean;
  readonly early_stopping_on: boolean;
  readonly dropout: number | null;
  readonly resume_from: string | null;
  readonly resumed_from: string | null;
  readonly supervisor_pid: number;
  readonly events_to_stdout: boolean;
  readonly warnings: string[];
}

export function planModel(
  located: LocatedModel,
  written: EmbedTuneConfig['model'] | undefined,
  resolved: ResolvedConfig['model'],
): PlannedModel {
  const own = readSentenceTransformersSettings(located.rootFolder);
  const positions = maxPositions(located.folder);
  const length = written?.max_seq_length ?? own?.maxSeqLength ?? resolved.max_seq_length;
  return {
    folder: located.folder,
    pooling: written?.pooling ?? own?.pooling ?? resolved.pooling,
    normalize: written?.normalize ?? own?.normalize ?? resolved.normalize,
    max_seq_length: positions === undefined ? length : Math.min(length, positions),
  };
}

function maxPositions(folder: string): number | undefined {
  try {
    const json = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as { max_position_embeddings?: unknown };
    return typeof json.max_position_embeddings === 'number' ? json.max_position_embeddings : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes the prepared rows as JSON Lines into `<run>/accelerate/`: the Python side trains on exactly what the CLI's
 * loader produced (column mapping, bad-row policy, cleaning, dedupe, validation split, augmentation).
 */
export function writePreparedRows(folder: string, data: TrainingData): { train: string; validation: string | null } {
  mkdirSync(folder, { recursive: true });
  const train = join(folder, 'train.jsonl');
  writeFileSync(train, jsonLines(data.train));
  let validation: string | null = null;
  if (data.validation.length > 0) {
    validation = join(folder, 'validation.jsonl');
    writeFileSync(validation, jsonLines(data.validation));
  }
  return { train, validation };
}

function jsonLines(rows: readonly unknown[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}
