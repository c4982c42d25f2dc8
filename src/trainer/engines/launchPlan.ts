import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { EmbedTuneConfig, ResolvedConfig } from '../../shared/config/configTypes';
import { rowsLeftOutPerEpoch } from '../../shared/config/runPlan';
import type { DatasetCounts } from '../../shared/events/runEvents';
import { ACCELERATE_DIR } from '../../shared/run/runFolder';
import type { TrainingData } from '../data/loadTrainingData';
import type { LocatedModel } from '../model/modelLocator';
import type { PreparedRun } from '../run/prepareRun';
import type { RunDirectory } from '../training/runDirectory';
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

/** `<run>/accelerate/launch.json`; `runPath` may be a placeholder such as `<output_dir>/<run-id>`. */
export function launchPlanPath(runPath: string): string {
  return join(runPath, ACCELERATE_DIR, 'launch.json');
}

/** What a launch plan is made of: the run as prepared for both engines, and what only this launch knows. */
export interface LaunchPlanInputs {
  readonly prepared: PreparedRun;
  readonly run: RunDirectory;
  readonly model: PlannedModel;
  /** The checkpoint folder to resume from, absolute: Python runs in the config's folder. */
  readonly resumeFrom: string | undefined;
  readonly eventsToStdout: boolean;
}

/** Writes the prepared rows and the plan into `<run>/accelerate/`, and returns the plan's path. */
export function writeLaunchPlan(inputs: LaunchPlanInputs): string {
  const rows = writePreparedRows(join(inputs.run.path, ACCELERATE_DIR), inputs.prepared.data);
  const path = launchPlanPath(inputs.run.path);
  writeFileSync(path, `${JSON.stringify(launchPlanOf(inputs, rows), null, 2)}\n`);
  return path;
}

export function launchPlanOf(
  { prepared, run, model, resumeFrom, eventsToStdout }: LaunchPlanInputs,
  rows: { train: string; validation: string | null },
): LaunchPlan {
  const { config, data } = prepared;
  return {
    format: PLAN_FORMAT,
    run_id: run.runId,
    run_dir: run.path,
    events_path: run.eventsPath,
    config_path: prepared.configPath,
    config_hash: run.configHash,
    config,
    model,
    data: {
      kind: data.kind,
      train: rows.train,
      validation: rows.validation,
      counts: data.summary.dataset,
      preprocess: data.summary.preprocess,
    },
    evaluation_on: prepared.schedule.evaluates,
    early_stopping_on: prepared.schedule.stopsEarly,
    dropout: prepared.dropout,
    resume_from: resumeFrom ?? null,
    resumed_from: resumeFrom ? relative(run.path, resumeFrom) : null,
    supervisor_pid: process.pid,
    events_to_stdout: eventsToStdout,
    warnings: distributedWarnings(config, data.train.length),
  };
}

/** What training on several processes changes, said before the run starts (Python logs each as a warning event). */
export function distributedWarnings(config: ResolvedConfig, trainRows: number): string[] {
  const warnings: string[] = [];
  // accelerate counts num_processes over all machines.
  const processes = config.engine.num_processes;
  const batch = config.training.batch_size;
  if (processes > 1 && ['mnrl', 'cached_mnrl'].includes(config.loss.type)) {
    warnings.push(
      `With ${processes} processes, ${config.loss.type} takes its in-batch negatives from each process's own batch of ${batch}.`,
    );
  }
  const leftOut = rowsLeftOutPerEpoch(trainRows, batch, processes);
  if (leftOut > 0) {
    warnings.push(
      `Under DistributedDataParallel each of the ${processes} processes trains only full batches, dealt out in whole rounds: ${leftOut} of the ${trainRows} training rows are left out of each epoch (a multiple of batch_size × num_processes = ${batch * processes} avoids it).`,
    );
  }
  return warnings;
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
