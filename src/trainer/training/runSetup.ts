import { relative } from 'node:path';
import type { ResolvedConfig } from '../../shared/config/configTypes';
import { formatEvaluationPlan } from '../../shared/config/evaluationSchedule';
import { warmupSteps } from '../../shared/config/runPlan';
import type { EventLogWriter } from '../../shared/events/eventLogWriter';
import { selectBackend, type SelectedBackend } from '../backend/selectBackend';
import { BatchIterator, type BatchPosition } from '../data/batchIterator';
import type { TrainedModel } from '../model/trainedModel';
import { headVariableNames, type TrainingExample, type TrainingObjective } from '../objectives/objective';
import { objectiveFor } from '../objectives/objectiveFor';
import { openRunFolder, prepareRun, readRunConfig, type OpenedRun, type PreparedRun } from '../run/prepareRun';
import type { RunRequest } from '../run/runRequest';
import { AdamW, DEFAULT_ADAMW } from './adamW';
import { restoreCheckpoint, type Trainee, type TrainingProgress } from './callbacks/checkpointer';
import { CheckpointStore, type TrainerState } from './checkpointStore';
import { configHash } from './runDirectory';
import { loadRunModel } from './runModel';

export type SetupOptions = Omit<RunRequest, 'stop'>;

/** Everything a tfjs run trains with, set up and announced; the loop and its callbacks come next. */
export interface RunSetup {
  readonly prepared: PreparedRun;
  readonly backend: SelectedBackend;
  readonly model: TrainedModel;
  readonly objective: TrainingObjective;
  readonly trainee: Trainee & { readonly optimizer: AdamW };
  readonly run: OpenedRun;
  readonly events: EventLogWriter;
  readonly store: CheckpointStore;
  readonly batches: BatchIterator<TrainingExample>;
  readonly steps: StepPlan;
  /** Where training starts: step 0, or where the resumed checkpoint left off. */
  readonly start: TrainingProgress;
  /** The resumed checkpoint's state; undefined for a new run. */
  readonly resumed: TrainerState | undefined;
}

/**
 * The run setup both engines share (prepareRun), then the tfjs engine's own: the backend, the model, the task's
 * objective and optimizer, the run folder and its event log, the batches, and the resumed checkpoint's values.
 * Ends with run_started and the plan in words.
 */
export async function setUpRun(options: SetupOptions): Promise<RunSetup> {
  const runConfig = options.runConfig ?? readRunConfig(options.configPath);
  requireTfjsEngine(runConfig.config);
  const backend = await selectBackend(runConfig.config.engine.backend);
  options.log(`backend: ${backend.name} (${backend.reason})`);
  const prepared = await prepareRun({ configPath: options.configPath, runConfig, ...(options.resume ? { resume: options.resume } : {}) });
  const { config } = prepared;
  const model = await loadRunModel(prepared, backend, options);
  const objective = objectiveFor(prepared.data, model, config, prepared.configDir);
  const trainee = { model, head: objective.head, optimizer: optimizerFor(objective, config, options.log) };
  // Restored before the run folder opens, so that an unreadable checkpoint fails the request and leaves its run as it was.
  const resumed = prepared.resumeFrom ? restoreCheckpoint(prepared.resumeFrom, trainee, configHash(config), options.log) : undefined;
  const distinctTexts = objective.distinctTexts?.bind(objective);
  const batches = new BatchIterator(objective.examples, {
    batchSize: config.training.batch_size,
    seed: config.training.seed,
    ...(distinctTexts ? { distinctTexts } : {}),
  });
  const steps = stepPlan(batches.batchesPerEpoch, config);
  const run = openRunFolder(prepared);
  const events = run.openEvents(options.eventsToStdout ? { mirror: process.stdout } : {});
  const store = new CheckpointStore(run.directory.path, config.checkpoints.keep, config.checkpoints.keep_best);
  const setup = { prepared, backend, model, objective, trainee, run, events, store, batches, steps, resumed };
  const start = startOf(resumed, batches);
  try {
    announceRun(setup, options.log);
  } catch (error) {
    failOpenedRun(setup, error, { step: start.step, durationSeconds: resumed?.elapsedSeconds ?? 0, bestMetric: null });
    throw error;
  }
  return { ...setup, start };
}

/**
 * Once the run folder is open, every failure reaches it: the error as an event, then run_finished with reason failed,
 * and run.json no longer says running. The editor words the failure from these events.
 */
export function failOpenedRun(
  setup: Pick<RunSetup, 'events' | 'run' | 'store'>,
  error: unknown,
  at: { step: number; durationSeconds: number; bestMetric: { name: string; value: number } | null },
): void {
  setup.events.write({
    type: 'error',
    message: error instanceof Error ? error.message : String(error),
    where: { phase: 'training' },
    ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
  });
  setup.events.write({
    type: 'run_finished',
    reason: 'failed',
    step: at.step,
    best_checkpoint: setup.store.bestPath(),
    best_metric: at.bestMetric,
    duration_seconds: at.durationSeconds,
  });
  setup.run.finish();
  setup.events.close();
}

/** Refuses a config for the other engine before any data is read; every task kind has an objective (objectiveFor). */
function requireTfjsEngine(config: ResolvedConfig): void {
  if (config.engine.type !== 'tfjs') throw new Error(`engine.type ${config.engine.type} is not run by the built-in tfjs engine.`);
}

/** AdamW over the objective's variables; a task head may learn at its own rate (training.head_learning_rate). */
function optimizerFor(objective: TrainingObjective, config: ResolvedConfig, log: (line: string) => void): AdamW {
  const headScale = config.training.head_learning_rate / config.training.learning_rate;
  const headNames = headVariableNames(objective);
  const optimizer = new AdamW(objective.trainable, {
    ...DEFAULT_ADAMW,
    weightDecay: config.training.weight_decay,
    ...(headNames.size > 0 && headScale !== 1 ? { learningRateScale: (name: string) => (headNames.has(name) ? headScale : 1) } : {}),
  });
  if (headNames.size > 0)
    log(
      `task head learning rate: ${config.training.head_learning_rate} (${headScale === 1 ? `as the ${config.task === 'image-classification' ? 'backbone' : 'encoder'}` : `${Number(headScale.toPrecision(3))}× learning_rate`})`,
    );
  return optimizer;
}

export interface StepPlan {
  readonly perEpoch: number;
  readonly total: number;
  readonly warmup: number;
}

function stepPlan(batchesPerEpoch: number, config: ResolvedConfig): StepPlan {
  const perEpoch = Math.max(1, Math.ceil(batchesPerEpoch / config.training.gradient_accumulation_steps));
  const total = perEpoch * config.training.epochs;
  return { perEpoch, total, warmup: warmupSteps(config.training.warmup, total) };
}

function startOf(resumed: TrainerState | undefined, batches: Pick<BatchIterator<never>, 'progressAt'>): TrainingProgress {
  const position: BatchPosition = resumed?.position ?? { epoch: 0, batchIndex: 0 };
  return { step: resumed?.step ?? 0, epoch: batches.progressAt(position), position, examplesSeen: resumed?.examplesSeen ?? 0 };
}

/** run_started, the objective's warnings about the data, and the plan in the dry run's words. */
function announceRun(setup: Omit<RunSetup, 'start'>, log: (line: string) => void): void {
  const { prepared, run, events, backend, objective, steps } = setup;
  const { config, data } = prepared;
  const { model } = objective;
  const headParameters = [...(objective.head?.variables.values() ?? [])].reduce((sum, variable) => sum + variable.size, 0);
  events.write({
    type: 'run_started',
    config_hash: run.directory.configHash,
    config_path: prepared.configPath,
    engine: 'tfjs',
    backend: backend.name,
    backend_reason: backend.reason,
    device: backend.device,
    ...(backend.threads !== undefined ? { threads: backend.threads } : {}),
    task: config.task,
    model: config.model.base,
    strategy: config.strategy.type,
    trainable_parameters: model.parameterCount((variable) => variable.trainable) + headParameters,
    total_parameters: model.parameterCount() + headParameters,
    dataset: data.summary.dataset,
    preprocess: data.summary.preprocess,
    epochs: config.training.epochs,
    steps_per_epoch: steps.perEpoch,
    total_steps: steps.total,
    effective_batch_size: config.training.batch_size * config.training.gradient_accumulation_steps,
    ...(prepared.resumeFrom ? { resumed_from: relative(run.directory.path, prepared.resumeFrom) } : {}),
    pid: process.pid,
  });
  for (const message of objective.warnings()) {
    events.write({ type: 'log', level: 'warning', message });
    log(`warning: ${message}`);
  }
  log(`run ${run.directory.runId}: ${data.train.length} training and ${data.validation.length} validation examples, ${steps.total} steps`);
  // The dry run's own words, so that the plan and the run say the same.
  log(
    formatEvaluationPlan({
      ...prepared.schedule,
      every: config.evaluation.every,
      metrics: config.evaluation.metrics,
      primary: config.evaluation.primary,
      patience: config.early_stopping.patience,
    }),
  );
  const counts = data.summary.preprocess;
  log(
    // Images are not deduplicated, and their augmentation is redrawn each epoch rather than added as copies.
    config.task === 'image-classification'
      ? `data: ${counts.rows_read} images read, ${counts.rows_skipped} skipped (unreadable or bad rows)`
      : `data: ${counts.rows_read} rows read, ${counts.rows_skipped} skipped, ${counts.rows_deduplicated} duplicates dropped, ${counts.rows_augmented} augmented copies added`,
  );
}
