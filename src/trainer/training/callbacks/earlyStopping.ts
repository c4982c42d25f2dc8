// Counterpart: PrimaryMetricEarlyStopping.on_evaluate and EmbedTuneRunCallback.early_stop (with its MetricTracker) in run_callback.py.
import type { RunEventInput } from '../../../shared/events/runEvents';
import { MetricTracker } from '../metricTracker';
import type { EvaluationLogs, StepLogs, TrainingCallback, TrainingControl } from './callbackList';

export interface EarlyStoppingOptions {
  readonly metric: string;
  readonly mode: 'max' | 'min';
  readonly minDelta: number;
  /** Evaluations without a new best before training stops; null tracks the best without ever stopping. */
  readonly patience: number | null;
}

export type TrackerState = ReturnType<MetricTracker['state']>;

/**
 * Tracks the primary metric over the evaluations during training (the one before training does not count): it marks
 * each new best, which the checkpointer keeps, and stops the run once `patience` evaluations in a row found none.
 * The stop takes effect at the end of the step, after that step's checkpoint.
 */
export class EarlyStopping implements TrainingCallback {
  private readonly tracker: MetricTracker;
  /** The patience that ran out at this step's evaluation; the stop waits for the end of the step. */
  private exhaustedPatience: number | null = null;

  constructor(
    private readonly options: EarlyStoppingOptions,
    private readonly events: { write(event: RunEventInput): unknown },
    private readonly log: (line: string) => void,
    restored?: TrackerState,
  ) {
    this.tracker = new MetricTracker(options.mode, options.minDelta, restored);
  }

  /** The best value so far; null before the first finite one. */
  get best(): number | null {
    return this.tracker.best;
  }

  /** What a checkpoint saves, so that a resumed run keeps counting where this one was. */
  state(): TrackerState {
    return this.tracker.state();
  }

  onEvaluate(evaluation: EvaluationLogs): void {
    evaluation.isBest = this.tracker.record(evaluation.primary.value).improved;
    const { patience } = this.options;
    this.exhaustedPatience = patience !== null && this.tracker.exhausted(patience) ? patience : null;
  }

  onStepEnd(logs: StepLogs, control: TrainingControl): void {
    const patience = this.exhaustedPatience;
    if (patience === null) return;
    this.exhaustedPatience = null;
    const { metric } = this.options;
    this.events.write({ type: 'early_stop', step: logs.step, metric, best: this.tracker.best ?? Number.NaN, patience });
    this.log(`early stop at step ${logs.step}: ${metric} did not improve for ${patience} evaluations`);
    control.stop('early_stopped');
  }
}
