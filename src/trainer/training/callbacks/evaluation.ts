// Counterpart: EmbedTuneRunCallback.on_evaluate in run_callback.py (there the Trainer decides when to evaluate).
import type { MetricValues, RunEventInput } from '../../../shared/events/runEvents';
import type { TrainingObjective } from '../../objectives/objective';
import type { EvaluationLogs, StepLogs, TrainingCallback, TrainingControl } from './callbackList';
import { isDue } from './interval';

export interface EvaluationOptions {
  /** `evaluation.every`: a step count or `epoch`. */
  readonly every: number | 'epoch';
  /** `evaluation.primary`: the metric that decides the best checkpoint and early stopping. */
  readonly primary: string;
  readonly batchSize: number;
}

/**
 * Evaluates the objective on the validation rows on `evaluation.every`, tells the other callbacks (onEvaluate), and
 * writes the eval event and line. It remembers the evaluation before training (the baseline) and the latest one,
 * which checkpoints save and the exported model card quotes.
 */
export class Evaluation implements TrainingCallback {
  baseline: MetricValues | null;
  latest: MetricValues | null;

  constructor(
    private readonly objective: Pick<TrainingObjective, 'evaluate'>,
    private readonly options: EvaluationOptions,
    private readonly events: { write(event: RunEventInput): unknown },
    private readonly log: (line: string) => void,
    restored: { readonly baseline: MetricValues | null; readonly latest: MetricValues | null } = { baseline: null, latest: null },
  ) {
    this.baseline = restored.baseline;
    this.latest = restored.latest;
  }

  /** The evaluation before the first step, at step 0; it never counts as a best. */
  async evaluateBaseline(): Promise<void> {
    const evaluation = await this.evaluate(0, 0);
    this.report(evaluation);
    this.baseline = evaluation.metrics;
  }

  async onStepEnd(logs: StepLogs, control: TrainingControl): Promise<void> {
    if (!isDue(this.options.every, logs.step, logs.epochEnds)) return;
    const evaluation = await this.evaluate(logs.step, logs.epoch);
    await control.evaluated(evaluation);
    this.report(evaluation);
    this.latest = evaluation.metrics;
  }

  private async evaluate(step: number, epoch: number): Promise<EvaluationLogs> {
    const { metrics, confusionMatrix, perClass, misclassified } = await this.objective.evaluate(this.options.batchSize);
    const primary = { name: this.options.primary, value: metrics[this.options.primary] ?? null };
    return {
      step,
      epoch,
      metrics,
      primary,
      isBest: false,
      ...(confusionMatrix && perClass ? { confusionMatrix, perClass } : {}),
      ...(misclassified ? { misclassified } : {}),
    };
  }

  private report(evaluation: EvaluationLogs): void {
    const { step, epoch, metrics, primary, isBest, confusionMatrix, perClass, misclassified } = evaluation;
    this.events.write({
      type: 'eval',
      step,
      epoch,
      metrics,
      primary,
      is_best: isBest,
      ...(confusionMatrix && perClass ? { confusion_matrix: confusionMatrix, per_class: perClass } : {}),
      ...(misclassified ? { misclassified } : {}),
    });
    const values = Object.entries(metrics).map(([name, value]) => `${name} ${value === null ? 'n/a' : value.toFixed(4)}`);
    this.log(`eval at step ${step}: ${values.join(' · ')}${isBest ? ' (best)' : ''}`);
  }
}
