import type { BaselineNotBeatenEvent } from '../events/runEvents';

export type BaselineComparison = Pick<BaselineNotBeatenEvent, 'metric' | 'baseline' | 'best' | 'mode'>;

/**
 * Whether training failed to beat the base model: the best primary metric after a training step is no better than
 * the one before training. Undefined when either is unknown (no evaluation, or a metric that was never defined).
 */
export function baselineNotBeaten(
  metric: string,
  baseline: number | null | undefined,
  best: number | null,
  mode: 'max' | 'min',
): BaselineComparison | undefined {
  if (baseline === null || baseline === undefined || best === null || !Number.isFinite(baseline) || !Number.isFinite(best))
    return undefined;
  const beaten = mode === 'max' ? best > baseline : best < baseline;
  return beaten ? undefined : { metric, baseline, best, mode };
}

/** The warning as the trainer's log, the CLI summary and the dashboard word it. */
export function describeBaselineNotBeaten(comparison: BaselineComparison): string {
  const relation = comparison.best === comparison.baseline ? 'no better than' : comparison.mode === 'max' ? 'below' : 'above';
  return (
    `No trained checkpoint beat the base model: the best ${comparison.metric} after training is ${comparison.best.toFixed(4)}, ` +
    `${relation} ${comparison.baseline.toFixed(4)} before training. The exported model is that best trained checkpoint; ` +
    'lower training.learning_rate, train on more data, or keep the base model.'
  );
}
