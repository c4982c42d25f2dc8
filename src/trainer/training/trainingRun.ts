import { relative } from 'node:path';
import type { ResolvedConfig } from '../../shared/config/configTypes';
import { formatEvaluationPlan } from '../../shared/config/evaluationSchedule';
import { warmupSteps } from '../../shared/config/runPlan';
import type { EventLogWriter } from '../../shared/events/eventLogWriter';
import type { MetricValues, RunFinishReason } from '../../shared/events/runEvents';
import { baselineNotBeaten } from '../../shared/monitor/baselineWarning';
import { encoderOpsFor } from '../backend/encoderOpsFor';
import { selectBackend, type SelectedBackend } from '../backend/selectBackend';
import { BatchIterator } from '../data/batchIterator';
import { exampleKindFor } from '../data/trainingExamples';
import { loadEmbedder, type LoadedEmbedder } from '../model/loadEmbedder';
import type { TrainingObjective } from '../objectives/objective';
import { objectiveFor } from '../objectives/objectiveFor';
import { openRunFolder, prepareRun, readRunConfig, type OpenedRun, type PreparedRun, type RunConfig } from '../run/prepareRun';
import { AdamW, DEFAULT_ADAMW } from './adamW';
import { CallbackList } from './callbacks/callbackList';
import { Checkpointer, restoreCheckpoint } from './callbacks/checkpointer';
import { EarlyStopping } from './callbacks/earlyStopping';
import { Evaluation } from './callbacks/evaluation';
import { ProgressReporter } from './callbacks/progressReporter';
import { StopSignal } from './callbacks/stopSignal';
import { CheckpointStore, type TrainerState } from './checkpointStore';
import { DivergedError } from './divergedError';
import { CLASSIFICATION_KINDS, EMBEDDING_KINDS } from './embeddingExamples';
import { exportFinalModel } from './exportFinalModel';
import { decideGradientCheckpointing, microBatchShapeOf } from './gradientCheckpointing';
import { learningRateAt } from './learningRateSchedule';
import { runTrainingLoop } from './loop';
import { RunClock } from './runClock';
import { trainingStrategy } from './trainingStrategy';

export { ConfigErrors } from '../run/configErrors';
export { DivergedError } from './divergedError';

export interface TrainOptions {
  readonly configPath: string;
  /** The config as `embedtune train` already read it; without it, the file is read here. */
  readonly runConfig?: RunConfig;
  /** A checkpoint folder, a run folder, or `latest`. */
  readonly resume?: string;
  /** Mirror every event to stdout, one JSON line each. */
  readonly eventsToStdout?: boolean;
  /** Human-readable progress lines (stderr in the CLI). */
  readonly log: (line: string) => void;
  /** Set when the user asks to stop: the run finishes its step, checkpoints and returns. */
  readonly stop: { requested: boolean };
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface TrainOutcome {
  readonly reason: RunFinishReason;
  readonly runDir: string;
  readonly step: number;
  readonly bestCheckpoint: string | null;
  readonly exportedModel: string | null;
  readonly baseline: MetricValues | null;
  readonly final: MetricValues | null;
}

/**
 * Fine-tunes the config's model on its data with the tfjs engine, writing everything it does to the run's
 * events.jsonl. Resuming from a checkpoint continues exactly: the same batches, dropout masks, learning rates and
 * optimizer moments as a run that was never stopped.
 */
export async function train(options: TrainOptions): Promise<TrainOutcome> {
  const runConfig = options.runConfig ?? readRunConfig(options.configPath);
  requireTfjsTask(runConfig.config);
  const backend = await selectBackend(runConfig.config.engine.backend);
  options.log(`backend: ${backend.name} (${backend.reason})`);
  const prepared = await prepareRun({ configPath: options.configPath, runConfig, ...(options.resume ? { resume: options.resume } : {}) });
  const { config } = prepared;
  const loaded = await loadModel(prepared, backend, options);
  const objective = objectiveFor(prepared.data, loaded.embedder, config);
  const optimizer = optimizerFor(objective, config, options.log);
  const run = openRunFolder(prepared);
  const events = run.openEvents(options.eventsToStdout ? { mirror: process.stdout } : {});
  const store = new CheckpointStore(run.directory.path, config.checkpoints.keep, config.checkpoints.keep_best);
  const distinctTexts = objective.distinctTexts?.bind(objective);
  const batches = new BatchIterator(objective.examples, {
    batchSize: config.training.batch_size,
    seed: config.training.seed,
    ...(distinctTexts ? { distinctTexts } : {}),
  });
  const steps = stepPlan(batches.batchesPerEpoch, config);
  const trainee = { encoder: loaded.embedder.encoder, head: objective.head, optimizer };
  const resumed = prepared.resumeFrom ? restoreCheckpoint(prepared.resumeFrom, trainee, run.directory.configHash, options.log) : undefined;
  announceRun({ prepared, run, events, backend, objective, steps, log: options.log });

  const clock = new RunClock(resumed?.elapsedSeconds ?? 0);
  const evaluation = new Evaluation(
    objective,
    { every: config.evaluation.every, primary: config.evaluation.primary, batchSize: config.training.batch_size },
    events,
    options.log,
    { baseline: resumed?.baseline ?? null, latest: resumed?.metrics ?? null },
  );
  const earlyStopping = new EarlyStopping(
    {
      metric: config.evaluation.primary,
      mode: config.early_stopping.mode,
      minDelta: config.early_stopping.min_delta,
      patience: prepared.schedule.stopsEarly ? config.early_stopping.patience : null,
    },
    events,
    options.log,
    resumed?.tracker,
  );
  const start = startOf(resumed, batches);
  const checkpointer = new Checkpointer(
    store,
    trainee,
    {
      every: config.checkpoints.every,
      seed: config.training.seed,
      configHash: run.directory.configHash,
      model: { hfConfigJson: loaded.hfConfigJson, tokenizer: loaded.embedder.tokenizer },
    },
    () => ({ tracker: earlyStopping.state(), metrics: evaluation.latest, baseline: evaluation.baseline }),
    clock,
    events,
    { progress: start, bestCheckpoint: resumed?.bestCheckpoint ?? null, resumed: resumed !== undefined },
  );
  const callbacks = new CallbackList([
    new ProgressReporter(steps.total, backend.name, clock, events, options.log),
    ...(prepared.schedule.evaluates ? [evaluation] : []),
    checkpointer,
    earlyStopping,
    new StopSignal(options.stop),
  ]);
  if (prepared.schedule.evaluates && !resumed) await evaluation.evaluateBaseline();

  const finishWith = (reason: RunFinishReason, step: number) => {
    const best = earlyStopping.best;
    events.write({
      type: 'run_finished',
      reason,
      step,
      best_checkpoint: store.bestPath(),
      best_metric: best === null ? null : { name: config.evaluation.primary, value: best },
      duration_seconds: clock.elapsed(),
    });
    run.finish();
    events.close();
  };
  let end: { reason: Exclude<RunFinishReason, 'failed'>; step: number };
  try {
    end = await runTrainingLoop({
      batches,
      epochs: config.training.epochs,
      accumulation: config.training.gradient_accumulation_steps,
      objective,
      optimizer,
      learningRate: (step) => learningRateAt(step, config.training.learning_rate, steps.warmup, steps.total, config.training.scheduler),
      maxGradNorm: config.training.max_grad_norm,
      seed: config.training.seed,
      start,
      callbacks,
      diverged: (step, loss) => new DivergedError(step, loss, checkpointer.newest(), checkpointer.best()),
    });
  } catch (error) {
    events.write({
      type: 'error',
      message: error instanceof Error ? error.message : String(error),
      where: { phase: 'training' },
      ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
    });
    finishWith('failed', callbacks.step ?? start.step);
    throw error;
  }

  const exportedModel =
    end.reason === 'stopped'
      ? null
      : await exportFinalModel({
          runDir: run.directory.path,
          best: store.bestPath(),
          loaded,
          objective,
          prepared,
          metrics: evaluation.latest,
          events,
        });
  const notBeaten = baselineNotBeaten(
    config.evaluation.primary,
    evaluation.baseline?.[config.evaluation.primary],
    earlyStopping.best,
    config.early_stopping.mode,
  );
  // The CLI's summary and the dashboard word it (describeBaselineNotBeaten) from this event, for both engines.
  if (notBeaten) events.write({ type: 'baseline_not_beaten', ...notBeaten });
  finishWith(end.reason, end.step);
  return {
    reason: end.reason,
    runDir: run.directory.path,
    step: end.step,
    bestCheckpoint: store.bestPath(),
    exportedModel,
    baseline: evaluation.baseline,
    final: evaluation.latest,
  };
}

/** Refuses configs the tfjs engine does not train, before any data is read. */
function requireTfjsTask(config: ResolvedConfig): void {
  if (config.engine.type !== 'tfjs') throw new Error(`engine.type ${config.engine.type} is not run by the built-in tfjs engine.`);
  const kind = exampleKindFor(config.task, config.loss.type);
  if (!EMBEDDING_KINDS.includes(kind) && !CLASSIFICATION_KINDS.includes(kind) && kind !== 'token-tags') {
    throw new Error(`The tfjs engine does not train task ${config.task} with loss ${config.loss.type}.`);
  }
}

/** The base model with the strategy's trainable variables and extensions, and activation checkpointing decided. */
async function loadModel(prepared: PreparedRun, backend: SelectedBackend, options: TrainOptions): Promise<LoadedEmbedder> {
  const { config, written } = prepared;
  const strategy = trainingStrategy(config);
  const loaded = await loadEmbedder({
    base: config.model.base,
    baseDir: prepared.configDir,
    written: written.model,
    resolved: config.model,
    ops: encoderOpsFor(backend.name),
    trainable: strategy.trainable,
    extensions: strategy.extensions,
    env: options.env,
    ...(prepared.dropout !== null ? { dropout: prepared.dropout } : {}),
  });
  const { encoder, settings } = loaded.embedder;
  const checkpointing = decideGradientCheckpointing(config.training.gradient_checkpointing, {
    backend: backend.name,
    config: encoder.config,
    parameters: encoder.parameterCount(),
    microBatch: microBatchShapeOf({
      kind: prepared.data.kind,
      batchSize: config.training.batch_size,
      loss: config.loss.type,
      miniBatchSize: config.loss.mini_batch_size,
      maxSeqLength: settings.maxSeqLength,
    }),
  });
  encoder.gradientCheckpointing = checkpointing.on;
  options.log(`gradient checkpointing: ${checkpointing.on ? 'on' : 'off'} (${checkpointing.reason})`);
  return loaded;
}

/** AdamW over the objective's variables; a task head may learn at its own rate (training.head_learning_rate). */
function optimizerFor(objective: TrainingObjective, config: ResolvedConfig, log: (line: string) => void): AdamW {
  const headScale = config.training.head_learning_rate / config.training.learning_rate;
  const headNames = new Set(objective.head?.variables.keys() ?? []);
  const optimizer = new AdamW(objective.trainable, {
    ...DEFAULT_ADAMW,
    weightDecay: config.training.weight_decay,
    ...(headNames.size > 0 && headScale !== 1 ? { learningRateScale: (name: string) => (headNames.has(name) ? headScale : 1) } : {}),
  });
  if (headNames.size > 0)
    log(
      `task head learning rate: ${config.training.head_learning_rate} (${headScale === 1 ? 'as the encoder' : `${Number(headScale.toPrecision(3))}× learning_rate`})`,
    );
  return optimizer;
}

interface StepPlan {
  readonly perEpoch: number;
  readonly total: number;
  readonly warmup: number;
}

function stepPlan(batchesPerEpoch: number, config: ResolvedConfig): StepPlan {
  const perEpoch = Math.max(1, Math.ceil(batchesPerEpoch / config.training.gradient_accumulation_steps));
  const total = perEpoch * config.training.epochs;
  return { perEpoch, total, warmup: warmupSteps(config.training.warmup, total) };
}

function startOf(resumed: TrainerState | undefined, batches: Pick<BatchIterator<never>, 'progressAt'>) {
  const position = resumed?.position ?? { epoch: 0, batchIndex: 0 };
  return { step: resumed?.step ?? 0, epoch: batches.progressAt(position), position, examplesSeen: resumed?.examplesSeen ?? 0 };
}

/** run_started, the objective's warnings about the data, and the plan in the dry run's words. */
function announceRun(context: {
  prepared: PreparedRun;
  run: OpenedRun;
  events: EventLogWriter;
  backend: SelectedBackend;
  objective: TrainingObjective;
  steps: StepPlan;
  log: (line: string) => void;
}): void {
  const { prepared, run, events, backend, objective, steps, log } = context;
  const { config, data } = prepared;
  const encoder = objective.embedder.encoder;
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
    trainable_parameters: encoder.parameterCount((variable) => variable.trainable) + headParameters,
    total_parameters: encoder.parameterCount() + headParameters,
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
    `data: ${counts.rows_read} rows read, ${counts.rows_skipped} skipped, ${counts.rows_deduplicated} duplicates dropped, ${counts.rows_augmented} augmented copies added`,
  );
}
