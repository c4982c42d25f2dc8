import type { MetricValues, RunFinishReason } from '../../shared/events/runEvents';
import { baselineNotBeaten } from '../../shared/monitor/baselineWarning';
import type { TrainingExample } from '../objectives/objective';
import type { RunRequest } from '../run/runRequest';
import { CallbackList } from './callbacks/callbackList';
import { Checkpointer } from './callbacks/checkpointer';
import { EarlyStopping } from './callbacks/earlyStopping';
import { Evaluation } from './callbacks/evaluation';
import { ProgressReporter } from './callbacks/progressReporter';
import { StopSignal } from './callbacks/stopSignal';
import { DivergedError } from './divergedError';
import { exportFinalModel } from './exportFinalModel';
import { learningRateAt } from './learningRateSchedule';
import { runTrainingLoop, type TrainingLoop } from './loop';
import { RunClock } from './runClock';
import { failOpenedRun, setUpRun, type RunSetup } from './runSetup';

export { DivergedError } from './divergedError';

/** The tfjs engine takes the request both engines take. */
export type TrainOptions = RunRequest;

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
  const setup = await setUpRun(options);
  const callbacks = runCallbacks(setup, options);
  try {
    if (setup.prepared.schedule.evaluates && !setup.resumed) await callbacks.evaluation.evaluateBaseline();
    const end = await runTrainingLoop(loopOf(setup, callbacks));
    return await completeRun(setup, callbacks, end);
  } catch (error) {
    failRun(setup, callbacks, error);
    throw error;
  }
}

type LoopEnd = Awaited<ReturnType<typeof runTrainingLoop>>;

/** Exports the model unless the user stopped the run, says whether training beat the baseline, and finishes. */
async function completeRun(setup: RunSetup, callbacks: RunCallbacks, end: LoopEnd): Promise<TrainOutcome> {
  const { prepared, store, events } = setup;
  const { baseline, latest } = callbacks.evaluation;
  const runDir = setup.run.directory.path;
  const exportedModel =
    end.reason === 'stopped' ? null : await exportFinalModel({ ...setup, runDir, best: store.bestPath(), metrics: latest });
  const { primary } = prepared.config.evaluation;
  const notBeaten = baselineNotBeaten(primary, baseline?.[primary], callbacks.earlyStopping.best, prepared.config.early_stopping.mode);
  // The CLI's summary and the dashboard word it (describeBaselineNotBeaten) from this event, for both engines.
  if (notBeaten) events.write({ type: 'baseline_not_beaten', ...notBeaten });
  finishRun(setup, callbacks, end.reason, end.step);
  return { ...end, runDir, bestCheckpoint: store.bestPath(), exportedModel, baseline, final: latest };
}

/** The error as an event, then run_finished with reason failed, at the step the run had reached. */
function failRun(setup: RunSetup, { list, clock, earlyStopping }: RunCallbacks, error: unknown): void {
  const best = earlyStopping.best;
  failOpenedRun(setup, error, {
    step: list.step ?? setup.start.step,
    durationSeconds: clock.elapsed(),
    bestMetric: best === null ? null : { name: setup.prepared.config.evaluation.primary, value: best },
  });
}

/** The run's callbacks, in the order their hooks run, and the ones the run reads from afterwards. */
interface RunCallbacks {
  readonly list: CallbackList;
  readonly clock: RunClock;
  readonly evaluation: Evaluation;
  readonly earlyStopping: EarlyStopping;
  readonly checkpointer: Checkpointer;
}

function runCallbacks(setup: RunSetup, options: TrainOptions): RunCallbacks {
  const { prepared, events, resumed, run } = setup;
  const { config, schedule } = prepared;
  const clock = new RunClock(resumed?.elapsedSeconds ?? 0);
  const evaluation = new Evaluation(
    setup.objective,
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
      patience: schedule.stopsEarly ? config.early_stopping.patience : null,
    },
    events,
    options.log,
    resumed?.tracker,
  );
  const checkpointer = new Checkpointer(
    setup.store,
    setup.trainee,
    {
      every: config.checkpoints.every,
      seed: config.training.seed,
      configHash: run.directory.configHash,
    },
    () => ({ tracker: earlyStopping.state(), metrics: evaluation.latest, baseline: evaluation.baseline }),
    clock,
    events,
    { progress: setup.start, bestCheckpoint: resumed?.bestCheckpoint ?? null, resumed: resumed !== undefined },
  );
  const list = new CallbackList([
    new ProgressReporter(setup.steps.total, setup.backend.name, clock, events, options.log),
    ...(schedule.evaluates ? [evaluation] : []),
    checkpointer,
    earlyStopping,
    new StopSignal(options.stop),
  ]);
  return { list, clock, evaluation, earlyStopping, checkpointer };
}

function loopOf(setup: RunSetup, { list, checkpointer }: RunCallbacks): TrainingLoop<TrainingExample> {
  const { training } = setup.prepared.config;
  const { warmup, total } = setup.steps;
  return {
    batches: setup.batches,
    epochs: training.epochs,
    accumulation: training.gradient_accumulation_steps,
    objective: setup.objective,
    optimizer: setup.trainee.optimizer,
    learningRate: (step) => learningRateAt(step, training.learning_rate, warmup, total, training.scheduler),
    maxGradNorm: training.max_grad_norm,
    seed: training.seed,
    start: setup.start,
    callbacks: list,
    diverged: (step, loss) => new DivergedError(step, loss, checkpointer.newest(), checkpointer.best()),
  };
}

/** run_finished, with the best checkpoint and metric; then run.json says finished and the event log closes. */
function finishRun(setup: RunSetup, { clock, earlyStopping }: RunCallbacks, reason: RunFinishReason, step: number): void {
  const best = earlyStopping.best;
  setup.events.write({
    type: 'run_finished',
    reason,
    step,
    best_checkpoint: setup.store.bestPath(),
    best_metric: best === null ? null : { name: setup.prepared.config.evaluation.primary, value: best },
    duration_seconds: clock.elapsed(),
  });
  setup.run.finish();
  setup.events.close();
}
