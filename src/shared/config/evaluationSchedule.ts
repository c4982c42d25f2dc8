import type { ConfigView } from './configView';
import type { Interval } from './configTypes';

/**
 * Whether a run evaluates and stops early. Both engines (the tfjs loop, and the launch plan the accelerate engine's
 * Python reads) and the dry run ask this one function, so that none of them can run a default the others do not.
 */
export interface EvaluationSchedule {
  readonly evaluates: boolean;
  readonly stopsEarly: boolean;
  /** Why evaluation or early stopping is off, when one is. */
  readonly why?: string;
}

/** The resolved keys the decision reads; a `ResolvedConfig` is one. */
export interface EvaluationSwitches {
  readonly evaluation: { readonly enabled: boolean };
  readonly early_stopping: { readonly enabled: boolean };
}

/**
 * Evaluation is on by default and runs wherever there are validation rows (a validation file, or the
 * `data.validation_split` held out of the training rows); `evaluation.enabled: false` turns it off. Early stopping
 * is on by default too and runs wherever evaluation does, unless `early_stopping.enabled` is false.
 * `validationRows` is undefined when the rows are not known yet (the dry run of an unsaved config).
 */
export function evaluationSchedule(config: EvaluationSwitches, validationRows: number | undefined): EvaluationSchedule {
  if (!config.evaluation.enabled) return { evaluates: false, stopsEarly: false, why: 'evaluation.enabled is false' };
  if (validationRows === 0) return { evaluates: false, stopsEarly: false, why: 'there are no validation rows' };
  if (!config.early_stopping.enabled) return { evaluates: true, stopsEarly: false, why: 'early_stopping.enabled is false' };
  return { evaluates: true, stopsEarly: true };
}

/** The switches of a config that may be partly invalid, read with their defaults. */
export function evaluationSwitchesOf(view: ConfigView): EvaluationSwitches {
  return {
    evaluation: { enabled: view.booleanOrDefault(['evaluation', 'enabled']) },
    early_stopping: { enabled: view.booleanOrDefault(['early_stopping', 'enabled']) },
  };
}

/** What the dry run says about evaluation: when, which metrics, and whether it stops early. */
export interface EvaluationPlan extends EvaluationSchedule {
  readonly every: Interval;
  readonly metrics: readonly string[];
  readonly primary: string;
  readonly patience: number;
}

export function evaluationPlanOf(view: ConfigView, validationRows: number | undefined): EvaluationPlan {
  const metrics = view.evaluationMetrics();
  return {
    ...evaluationSchedule(evaluationSwitchesOf(view), validationRows),
    every: view.intervalOrDefault(['evaluation', 'every']),
    metrics,
    primary: view.string(['evaluation', 'primary']) ?? metrics[0] ?? '',
    patience: view.numberOrDefault(['early_stopping', 'patience']),
  };
}

/** One line for the dry run, e.g. `evaluation every epoch on f1, accuracy (primary f1) · early stopping, patience 3`. */
export function formatEvaluationPlan(plan: EvaluationPlan): string {
  if (!plan.evaluates) return `evaluation off (${plan.why ?? 'disabled'}) · no early stopping · the final weights are exported`;
  const every = plan.every === 'epoch' ? 'every epoch' : `every ${plan.every} steps`;
  const stopping = plan.stopsEarly
    ? `early stopping after ${plan.patience} evaluations without improvement`
    : 'no early stopping (early_stopping.enabled is false)';
  return `evaluation before training and ${every} on ${plan.metrics.join(', ')} (primary ${plan.primary}) · ${stopping}`;
}
