import type {
  CheckpointEvent,
  CheckpointReason,
  DatasetCounts,
  ErrorLocation,
  LogLevel,
  MetricValues,
  NamedMetric,
  RunEvent,
  RunFinishReason,
  RunStartedEvent,
} from '../events/runEvents';
import { describeBaselineNotBeaten, type BaselineComparison } from './baselineWarning';

/** What the run said about itself when it started: the engine, the model and the size of the job. */
export interface RunSetup {
  readonly runId: string;
  readonly configPath: string;
  readonly engine: string;
  readonly backend: string;
  readonly backendReason: string;
  readonly device: string;
  readonly threads: number | null;
  readonly task: string;
  readonly model: string;
  readonly strategy: string;
  readonly trainableParameters: number;
  readonly totalParameters: number;
  readonly dataset: DatasetCounts;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  readonly effectiveBatchSize: number;
  readonly resumedFrom: string | null;
  readonly pid: number;
  readonly startedAt: string;
}

export interface CheckpointSummary {
  /** Relative to the run folder, e.g. `checkpoints/step-40`. */
  readonly path: string;
  readonly step: number;
  readonly epoch: number;
  readonly time: string;
  readonly sizeBytes: number;
  readonly metrics: MetricValues | null;
  readonly isBest: boolean;
  readonly reason: CheckpointReason;
}

export interface LogLine {
  readonly time: string;
  readonly level: LogLevel;
  readonly message: string;
}

export interface RunError {
  readonly time: string;
  readonly message: string;
  readonly where: ErrorLocation | null;
}

export interface BestMetric {
  readonly metric: NamedMetric;
  readonly step: number;
}

/** Where a run stands according to its own events: `finished` only once `run_finished` was written. */
export type RunPhase = 'waiting' | 'running' | 'finished';

const LOG_TAIL = 200;

/**
 * Folds a run's events into what the status bar and the dashboard show: progress, speed, ETA, the latest and best
 * metric, the checkpoints still on disk, the last error and a log tail. Events are applied in order with `add`; a
 * resumed run's second `run_started` continues the same run. It keeps no per-step history (see RunSeries for that),
 * so it stays small for any length of run.
 */
export class RunProgress {
  private setupValue: RunSetup | null = null;
  private phaseValue: RunPhase = 'waiting';
  private finishValue: {
    reason: RunFinishReason;
    bestCheckpoint: string | null;
    bestMetric: NamedMetric | null;
    durationSeconds: number;
    time: string;
  } | null = null;
  private stepValue = 0;
  private epochValue = 0;
  private lossValue: number | null = null;
  private lrValue: number | null = null;
  private speed: number | null = null;
  private eta: { seconds: number; at: string } | null = null;
  private latestEvalValue: { step: number; metrics: MetricValues; primary: NamedMetric } | null = null;
  private bestValue: BestMetric | null = null;
  private bestCheckpointValue: string | null = null;
  private readonly checkpointMap = new Map<string, CheckpointSummary>();
  private errorValue: RunError | null = null;
  private readonly logs: LogLine[] = [];
  private earlyStopValue: { step: number; metric: string; best: number; patience: number } | null = null;
  private baselineWarningValue: BaselineComparison | null = null;
  private lastTime: string | null = null;
  private countValue = 0;

  add(events: readonly RunEvent[]): this {
    for (const event of events) this.apply(event);
    return this;
  }

  private apply(event: RunEvent): void {
    this.countValue++;
    this.lastTime = event.time;
    switch (event.type) {
      case 'run_started':
        this.setupValue = setupOf(event);
        this.phaseValue = 'running';
        this.finishValue = null;
        this.errorValue = null;
        this.earlyStopValue = null;
        this.baselineWarningValue = null;
        this.eta = null;
        break;
      case 'progress':
        this.stepValue = event.step;
        this.epochValue = event.epoch;
        this.lossValue = event.loss;
        this.lrValue = event.lr;
        this.speed = event.examples_per_second;
        this.eta = event.eta_seconds === null ? null : { seconds: event.eta_seconds, at: event.time };
        break;
      case 'eval':
        this.latestEvalValue = { step: event.step, metrics: event.metrics, primary: event.primary };
        if (event.is_best) this.bestValue = { metric: event.primary, step: event.step };
        break;
      case 'checkpoint':
        this.addCheckpoint(event);
        break;
      case 'early_stop':
        this.earlyStopValue = { step: event.step, metric: event.metric, best: event.best, patience: event.patience };
        break;
      case 'baseline_not_beaten':
        this.baselineWarningValue = { metric: event.metric, baseline: event.baseline, best: event.best, mode: event.mode };
        this.pushLog({ time: event.time, level: 'warning', message: describeBaselineNotBeaten(this.baselineWarningValue) });
        break;
      case 'log':
        this.pushLog({ time: event.time, level: event.level, message: event.message });
        break;
      case 'error':
        this.errorValue = { time: event.time, message: event.message, where: event.where ?? null };
        this.pushLog({ time: event.time, level: 'error', message: event.message });
        break;
      case 'run_finished':
        this.phaseValue = 'finished';
        this.stepValue = Math.max(this.stepValue, event.step);
        this.finishValue = {
          reason: event.reason,
          bestCheckpoint: event.best_checkpoint,
          bestMetric: event.best_metric,
          durationSeconds: event.duration_seconds,
          time: event.time,
        };
        if (event.best_checkpoint) this.bestCheckpointValue = event.best_checkpoint;
        if (
          event.best_metric &&
          (!this.bestValue ||
            this.bestValue.metric.name !== event.best_metric.name ||
            this.bestValue.metric.value !== event.best_metric.value)
        ) {
          this.bestValue = { metric: event.best_metric, step: this.bestValue?.step ?? event.step };
        }
        this.eta = null;
        break;
    }
  }

  private addCheckpoint(event: CheckpointEvent): void {
    for (const deleted of event.deleted) this.checkpointMap.delete(deleted);
    if (event.is_best) {
      this.bestCheckpointValue = event.path;
      for (const [path, summary] of this.checkpointMap) if (summary.isBest) this.checkpointMap.set(path, { ...summary, isBest: false });
    }
    this.checkpointMap.set(event.path, {
      path: event.path,
      step: event.step,
      epoch: event.epoch,
      time: event.time,
      sizeBytes: event.size_bytes,
      metrics: event.metrics ?? null,
      isBest: event.is_best,
      reason: event.reason,
    });
  }

  private pushLog(line: LogLine): void {
    this.logs.push(line);
    if (this.logs.length > LOG_TAIL) this.logs.splice(0, this.logs.length - LOG_TAIL);
  }

  get setup(): RunSetup | null {
    return this.setupValue;
  }
  get phase(): RunPhase {
    return this.phaseValue;
  }
  get finish() {
    return this.finishValue;
  }
  get step(): number {
    return this.stepValue;
  }
  get totalSteps(): number | null {
    return this.setupValue?.totalSteps ?? null;
  }
  /** Fractional epochs done, e.g. 1.5. */
  get epoch(): number {
    return this.epochValue;
  }
  /** The epoch being trained, 1-based, as a person counts them: `epoch 2/5`. */
  get currentEpoch(): number {
    const epochs = this.setupValue?.epochs ?? Number.POSITIVE_INFINITY;
    return Math.min(Math.floor(this.epochValue) + 1, epochs);
  }
  /** 0 to 1. */
  get fraction(): number {
    const total = this.totalSteps;
    if (this.finishValue?.reason === 'completed') return 1;
    if (!total) return 0;
    return Math.min(1, this.stepValue / total);
  }
  get loss(): number | null {
    return this.lossValue;
  }
  get learningRate(): number | null {
    return this.lrValue;
  }
  get examplesPerSecond(): number | null {
    return this.speed;
  }
  /** Seconds left: the engine's estimate, less the time since it gave it. Null when unknown or finished. */
  etaSeconds(now: number = Date.now()): number | null {
    if (!this.eta || this.phaseValue === 'finished') return null;
    const since = (now - Date.parse(this.eta.at)) / 1000;
    return Math.max(0, this.eta.seconds - Math.max(0, since));
  }
  get latestEval() {
    return this.latestEvalValue;
  }
  get best(): BestMetric | null {
    return this.bestValue;
  }
  get bestCheckpoint(): string | null {
    return this.bestCheckpointValue;
  }
  /** Checkpoints the events say are on disk (those pruned by `keep` are gone), oldest first. */
  get checkpoints(): CheckpointSummary[] {
    return [...this.checkpointMap.values()].sort((a, b) => a.step - b.step);
  }
  get error(): RunError | null {
    return this.errorValue;
  }
  get log(): readonly LogLine[] {
    return this.logs;
  }
  get earlyStop() {
    return this.earlyStopValue;
  }
  /** Set when the run ended without any trained evaluation beating the one before training on the primary metric. */
  get baselineWarning(): BaselineComparison | null {
    return this.baselineWarningValue;
  }
  get lastEventTime(): string | null {
    return this.lastTime;
  }
  get eventCount(): number {
    return this.countValue;
  }
}

function setupOf(event: RunStartedEvent): RunSetup {
  return {
    runId: event.run_id,
    configPath: event.config_path,
    engine: event.engine,
    backend: event.backend,
    backendReason: event.backend_reason,
    device: event.device,
    threads: event.threads ?? null,
    task: event.task,
    model: event.model,
    strategy: event.strategy,
    trainableParameters: event.trainable_parameters,
    totalParameters: event.total_parameters,
    dataset: event.dataset,
    epochs: event.epochs,
    stepsPerEpoch: event.steps_per_epoch,
    totalSteps: event.total_steps,
    effectiveBatchSize: event.effective_batch_size,
    resumedFrom: event.resumed_from ?? null,
    pid: event.pid,
    startedAt: event.time,
  };
}
