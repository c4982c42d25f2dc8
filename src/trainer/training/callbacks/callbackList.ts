// The tfjs-layers CallbackList shape; python/embedtune_accelerate/run_callback.py's TrainerCallback is its counterpart.
import type { ClassScores, ConfusionMatrix, MetricValues, MisclassifiedImage, RunFinishReason } from '../../../shared/events/runEvents';
import type { BatchPosition } from '../../data/batchIterator';

/** What the loop knows at the end of an optimizer step. */
export interface StepLogs {
  /** Optimizer steps done, this one included. */
  readonly step: number;
  /** Epochs done, as a fraction. */
  readonly epoch: number;
  /** The next batch: where a checkpoint saved now resumes. */
  readonly position: BatchPosition;
  /** This step took the last batch of an epoch. */
  readonly epochEnds: boolean;
  /** Mean loss over the step's micro-batches. */
  readonly loss: number;
  readonly lr: number;
  /** Global gradient norm before clipping. */
  readonly gradNorm: number;
  /** Examples in this step, and in every step so far. */
  readonly examples: number;
  readonly examplesSeen: number;
}

/** One evaluation on the validation rows during training. */
export interface EvaluationLogs {
  readonly step: number;
  readonly epoch: number;
  readonly metrics: MetricValues;
  readonly primary: { readonly name: string; readonly value: number | null };
  readonly confusionMatrix?: ConfusionMatrix;
  readonly perClass?: Record<string, ClassScores>;
  /** Image classification: the most confident mistakes, with thumbnails. */
  readonly misclassified?: MisclassifiedImage[];
  /**
   * A new best by more than min_delta. The early-stopping callback, which tracks the best value, sets it while
   * onEvaluate goes round; it is final once onEvaluate has returned from every callback.
   */
  isBest: boolean;
}

export type StopReason = Extract<RunFinishReason, 'stopped' | 'early_stopped'>;
export type TrainEndReason = Extract<RunFinishReason, 'completed' | 'stopped' | 'early_stopped'>;

/** What a callback may ask of the run, as Keras' `model.stopTraining` and the Trainer's `TrainerControl`. */
export interface TrainingControl {
  /** Ends training after this step; the first reason given is the one reported. */
  stop(reason: StopReason): void;
  readonly stopReason: StopReason | undefined;
  /** Tells every callback about an evaluation (onEvaluate), in list order. */
  evaluated(evaluation: EvaluationLogs): Promise<void>;
}

/** One concern of a training run. Every hook is optional; the list calls them in its order. */
export interface TrainingCallback {
  onTrainBegin?(control: TrainingControl): Promise<void> | void;
  onStepEnd?(logs: StepLogs, control: TrainingControl): Promise<void> | void;
  onEvaluate?(evaluation: EvaluationLogs, control: TrainingControl): Promise<void> | void;
  onTrainEnd?(end: { readonly reason: TrainEndReason; readonly step: number }, control: TrainingControl): Promise<void> | void;
}

/** The run's callbacks, called in order, each hook awaited before the next callback's. */
export class CallbackList implements TrainingControl {
  private reason: StopReason | undefined;
  /** The step the latest onStepEnd was for; undefined before the first. */
  step: number | undefined;

  constructor(private readonly callbacks: readonly TrainingCallback[]) {}

  get stopReason(): StopReason | undefined {
    return this.reason;
  }

  stop(reason: StopReason): void {
    this.reason ??= reason;
  }

  async onTrainBegin(): Promise<void> {
    for (const callback of this.callbacks) await callback.onTrainBegin?.(this);
  }

  async onStepEnd(logs: StepLogs): Promise<void> {
    this.step = logs.step;
    for (const callback of this.callbacks) await callback.onStepEnd?.(logs, this);
  }

  async evaluated(evaluation: EvaluationLogs): Promise<void> {
    for (const callback of this.callbacks) await callback.onEvaluate?.(evaluation, this);
  }

  async onTrainEnd(end: { readonly reason: TrainEndReason; readonly step: number }): Promise<void> {
    for (const callback of this.callbacks) await callback.onTrainEnd?.(end, this);
  }
}
