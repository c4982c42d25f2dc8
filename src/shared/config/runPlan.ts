import type { ConfigView } from './configView';
import { fileRowCount, trainingRowCount, type DatasetFacts } from './datasetFacts';
import { evaluationPlanOf, formatEvaluationPlan, type EvaluationPlan } from './evaluationSchedule';

/** The dry-run summary: what a run of this config would do, computed without training. */
export interface RunPlan {
  readonly task: string;
  readonly loss: string;
  readonly strategy: string;
  readonly engine: string;
  /** Training rows after the validation split, before augmentation. */
  readonly trainRows?: number;
  /**
   * The most augmented copies `preprocess.augment` adds to the training rows: each operation's `count` per row.
   * The trainer drops a copy that cannot differ from its row (one word to delete, no word with a synonym, no
   * `O` token to change) or that repeats another row, so a run may train on fewer.
   */
  readonly augmentedCopies?: number;
  readonly validationRows?: number;
  /** Examples per optimizer step: batch size × accumulation × processes. */
  readonly effectiveBatchSize: number;
  readonly epochs: number;
  readonly stepsPerEpoch?: number;
  readonly totalSteps?: number;
  readonly warmupSteps?: number;
  /**
   * Training rows each epoch leaves out: under DistributedDataParallel (the accelerate engine with several
   * processes) every process trains only full batches, in whole rounds over the processes.
   */
  readonly rowsLeftOutPerEpoch?: number;
  /** True when augmentation is on, so the step counts assume every copy is kept and are an upper estimate. */
  readonly approximate?: boolean;
  /** Why row-dependent numbers are missing, when they are. */
  readonly note?: string;
  /** Whether and when the run evaluates and stops early, as both engines decide it. */
  readonly evaluation: EvaluationPlan;
}

function processCount(view: ConfigView): number {
  return view.string(['engine', 'type']) === 'accelerate' ? view.numberOrDefault(['engine', 'num_processes']) : 1;
}

export function effectiveBatchSize(view: ConfigView): number {
  const batch = view.numberOrDefault(['training', 'batch_size']);
  const accumulation = view.numberOrDefault(['training', 'gradient_accumulation_steps']);
  return batch * accumulation * processCount(view);
}

/**
 * Micro-batches each process trains per epoch. One process (either engine) trains a partial last batch. Several
 * processes (the accelerate engine) train under DistributedDataParallel, where sentence-transformers keeps only full
 * batches (python/embedtune_accelerate/train.py sets dataloader_drop_last) and accelerate deals them out in whole
 * rounds, one batch per process: floor(floor(rows / batch) / processes) = floor(rows / (batch × processes)).
 */
export function microBatchesPerProcess(rows: number, batchSize: number, processes: number): number {
  return processes > 1 ? Math.floor(rows / (batchSize * processes)) : Math.ceil(rows / batchSize);
}

/** Training rows an epoch leaves out: under DistributedDataParallel, the rows past the last full round of batches. */
export function rowsLeftOutPerEpoch(rows: number, batchSize: number, processes: number): number {
  return processes > 1 ? rows - microBatchesPerProcess(rows, batchSize, processes) * batchSize * processes : 0;
}

/**
 * Optimizer steps per epoch, as both engines count them: a partial accumulation still takes a step (transformers'
 * Trainer rounds up too). One process always takes at least one step; under DistributedDataParallel an epoch with no
 * full round of batches trains nothing, and the accelerate engine refuses to start.
 */
export function stepsPerEpochOf(rows: number, batchSize: number, accumulation: number, processes: number): number {
  const steps = Math.ceil(microBatchesPerProcess(rows, batchSize, processes) / accumulation);
  return processes > 1 ? steps : Math.max(1, steps);
}

export function optimizerStepsPerEpoch(view: ConfigView, rows: number): number {
  const batch = view.numberOrDefault(['training', 'batch_size']);
  const accumulation = view.numberOrDefault(['training', 'gradient_accumulation_steps']);
  return stepsPerEpochOf(rows, batch, accumulation, processCount(view));
}

/** A warmup below 1 is a ratio of the total steps; 1 and above is a step count. */
export function warmupSteps(warmup: number, totalSteps: number): number {
  return warmup < 1 ? Math.ceil(warmup * totalSteps) : Math.min(Math.round(warmup), totalSteps);
}

const AUGMENT_OPERATIONS = ['synonym_replacement', 'random_swap', 'random_deletion'] as const;

/** Copies per training row that `preprocess.augment` asks for; an operation that is written without a count makes one, as the trainer resolves it. */
export function augmentedCopiesPerRow(view: ConfigView): number {
  return AUGMENT_OPERATIONS.reduce((sum, operation) => {
    const path = ['preprocess', 'augment', operation];
    return view.isSet(path) ? sum + Math.max(0, view.numberOrDefault([...path, 'count'])) : sum;
  }, 0);
}

/** Rows an epoch trains on when every augmented copy is kept: the upper estimate that the dry run and the checks plan with. */
export function plannedTrainingRows(view: ConfigView, rows: number): number {
  return rows * (1 + augmentedCopiesPerRow(view));
}

export function planRun(view: ConfigView, dataset: DatasetFacts): RunPlan {
  const epochs = view.numberOrDefault(['training', 'epochs']);
  const base = {
    task: view.task(),
    loss: view.lossType(),
    strategy: view.stringOrDefault(['strategy', 'type']),
    engine: view.stringOrDefault(['engine', 'type']),
    effectiveBatchSize: effectiveBatchSize(view),
    epochs,
  };
  const trainRows = trainingRowCount(view, dataset);
  if (trainRows === undefined) {
    return {
      ...base,
      evaluation: evaluationPlanOf(view, undefined),
      note: dataset.train ? `the training file could not be read` : 'the config is not saved, or names no training file',
    };
  }
  const totalTrainFileRows = fileRowCount(dataset.train) ?? trainRows;
  const validationRows = fileRowCount(dataset.validation) ?? (dataset.validation ? undefined : totalTrainFileRows - trainRows);
  const augmentedCopies = plannedTrainingRows(view, trainRows) - trainRows;
  const stepsPerEpoch = optimizerStepsPerEpoch(view, trainRows + augmentedCopies);
  const leftOut = rowsLeftOutPerEpoch(trainRows + augmentedCopies, view.numberOrDefault(['training', 'batch_size']), processCount(view));
  const totalSteps = stepsPerEpoch * epochs;
  return {
    ...base,
    trainRows,
    ...(augmentedCopies > 0 ? { augmentedCopies, approximate: true } : {}),
    ...(validationRows !== undefined ? { validationRows } : {}),
    evaluation: evaluationPlanOf(view, validationRows),
    stepsPerEpoch,
    totalSteps,
    warmupSteps: warmupSteps(view.numberOrDefault(['training', 'warmup']), totalSteps),
    ...(leftOut > 0 ? { rowsLeftOutPerEpoch: leftOut } : {}),
  };
}

/** The plan on one line, as the dry-run code lens shows it. */
export function runPlanTitle(plan: RunPlan): string {
  if (plan.trainRows === undefined) return `Dry run: ${formatRunPlan(plan)[1]}`;
  const about = plan.approximate ? 'about ' : '';
  const unit = plan.task === 'image-classification' ? 'images' : 'rows';
  const rows = plan.augmentedCopies ? `${plan.trainRows} rows + up to ${plan.augmentedCopies} augmented` : `${plan.trainRows} ${unit}`;
  const leftOut = plan.rowsLeftOutPerEpoch ? ` · ${about}${plan.rowsLeftOutPerEpoch} rows/epoch left out` : '';
  return `Dry run: ${rows} · batch ${plan.effectiveBatchSize} · ${about}${plan.stepsPerEpoch} steps/epoch · ${about}${plan.totalSteps} total · ${plan.warmupSteps} warmup${leftOut}`;
}

export function formatRunPlan(plan: RunPlan): string[] {
  const lines = [
    `task ${plan.task} · loss ${plan.loss} · strategy ${plan.strategy} · engine ${plan.engine}`,
    `effective batch size ${plan.effectiveBatchSize} · epochs ${plan.epochs}`,
  ];
  if (plan.trainRows === undefined) {
    lines.push(`rows and steps unknown: ${plan.note ?? 'no data'}`);
  } else {
    const about = plan.approximate ? 'about ' : '';
    const augmented = plan.augmentedCopies
      ? ` + up to ${plan.augmentedCopies} augmented copies (about ${plan.trainRows + plan.augmentedCopies} training rows)`
      : '';
    const validation = plan.validationRows !== undefined ? ` · ${plan.validationRows} validation` : '';
    lines.push(
      // Images are neither cleaned nor deduplicated (augmentation redraws them each epoch instead of adding copies).
      plan.task === 'image-classification'
        ? `images ${plan.trainRows} train${validation}`
        : `rows ${plan.trainRows} train${augmented}${validation} (before cleaning and dedupe)`,
      `steps ${about}${plan.stepsPerEpoch} per epoch · ${about}${plan.totalSteps} total · ${plan.warmupSteps} warmup`,
    );
    if (plan.rowsLeftOutPerEpoch) {
      lines.push(
        `each epoch leaves out ${about}${plan.rowsLeftOutPerEpoch} training rows: under DistributedDataParallel every process trains only full batches, in whole rounds over the processes (a multiple of batch_size × num_processes rows avoids it)`,
      );
    }
  }
  lines.push(formatEvaluationPlan(plan.evaluation));
  return lines;
}
