import type { ConfigView } from './configView';
import { trainingRowCount, type DatasetFacts } from './datasetFacts';

/** The dry-run summary: what a run of this config would do, computed without training. */
export interface RunPlan {
  readonly task: string;
  readonly loss: string;
  readonly strategy: string;
  readonly engine: string;
  readonly trainRows?: number;
  readonly validationRows?: number;
  /** Examples per optimizer step: batch size × accumulation × processes. */
  readonly effectiveBatchSize: number;
  readonly epochs: number;
  readonly stepsPerEpoch?: number;
  readonly totalSteps?: number;
  readonly warmupSteps?: number;
  /** Why row-dependent numbers are missing, when they are. */
  readonly note?: string;
}

function processCount(view: ConfigView): number {
  return view.string(['engine', 'type']) === 'accelerate' ? (view.number(['engine', 'num_processes']) ?? 1) : 1;
}

export function effectiveBatchSize(view: ConfigView): number {
  const batch = view.number(['training', 'batch_size']) ?? 32;
  const accumulation = view.number(['training', 'gradient_accumulation_steps']) ?? 1;
  return batch * accumulation * processCount(view);
}

/** Each process draws `batch_size` rows per micro-batch; a partial last batch still trains, and so does a partial accumulation. */
export function optimizerStepsPerEpoch(view: ConfigView, rows: number): number {
  const batch = view.number(['training', 'batch_size']) ?? 32;
  const accumulation = view.number(['training', 'gradient_accumulation_steps']) ?? 1;
  const microBatches = Math.ceil(rows / (batch * processCount(view)));
  return Math.max(1, Math.ceil(microBatches / accumulation));
}

/** A warmup below 1 is a ratio of the total steps; 1 and above is a step count. */
export function warmupSteps(warmup: number, totalSteps: number): number {
  return warmup < 1 ? Math.ceil(warmup * totalSteps) : Math.min(Math.round(warmup), totalSteps);
}

export function planRun(view: ConfigView, dataset: DatasetFacts): RunPlan {
  const epochs = view.number(['training', 'epochs']) ?? 1;
  const base = {
    task: view.string(['task']) ?? 'embedding',
    loss: view.string(['loss', 'type']) ?? 'mnrl',
    strategy: view.string(['strategy', 'type']) ?? 'full',
    engine: view.string(['engine', 'type']) ?? 'tfjs',
    effectiveBatchSize: effectiveBatchSize(view),
    epochs,
  };
  const trainRows = trainingRowCount(view, dataset);
  if (trainRows === undefined) {
    return { ...base, note: dataset.train ? `the training file could not be read` : 'the config is not saved, or names no training file' };
  }
  const validationSummary = dataset.validation?.summary;
  const totalTrainFileRows = dataset.train?.summary?.ok ? dataset.train.summary.rows : trainRows;
  const validationRows = validationSummary?.ok ? validationSummary.rows : dataset.validation ? undefined : totalTrainFileRows - trainRows;
  const stepsPerEpoch = optimizerStepsPerEpoch(view, trainRows);
  const totalSteps = stepsPerEpoch * epochs;
  return {
    ...base,
    trainRows,
    ...(validationRows !== undefined ? { validationRows } : {}),
    stepsPerEpoch,
    totalSteps,
    warmupSteps: warmupSteps(view.number(['training', 'warmup']) ?? 0.1, totalSteps),
  };
}

export function formatRunPlan(plan: RunPlan): string[] {
  const lines = [
    `task ${plan.task} · loss ${plan.loss} · strategy ${plan.strategy} · engine ${plan.engine}`,
    `effective batch size ${plan.effectiveBatchSize} · epochs ${plan.epochs}`,
  ];
  if (plan.trainRows === undefined) {
    lines.push(`rows and steps unknown: ${plan.note ?? 'no data'}`);
  } else {
    lines.push(
      `rows ${plan.trainRows} train${plan.validationRows !== undefined ? ` · ${plan.validationRows} validation` : ''} (before cleaning and dedupe)`,
      `steps ${plan.stepsPerEpoch} per epoch · ${plan.totalSteps} total · ${plan.warmupSteps} warmup`,
    );
  }
  return lines;
}
