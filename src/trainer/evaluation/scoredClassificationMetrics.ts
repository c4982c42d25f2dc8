import { type ClassScoreRows, meanAveragePrecision, perClassAveragePrecision } from './averagePrecision';
import { type ClassificationReport, classificationReport } from './classificationMetrics';

/** The metric names a scored classifier reports, as `evaluation.metrics` would name them. */
export type ScoredClassificationMetric = 'accuracy' | 'f1' | 'precision' | 'recall' | 'map';

export interface ScoredClassificationReport extends Omit<ClassificationReport, 'metrics'> {
  /** One-vs-rest AP by class name, null for a class with no example (see `averagePrecision`). */
  readonly averagePrecision: Record<string, number | null>;
  /** Mean AP over the classes with at least one example; null when there are none. */
  readonly map: number | null;
  readonly metrics: Record<ScoredClassificationMetric, number | null>;
}

/**
 * Scores an N-class classifier from its per-example class scores (logits or probabilities; column c is
 * `classNames[c]`) and the true class names. The prediction is the first highest score, as numpy's argmax picks, so
 * accuracy, F1 and the confusion matrix are the same for logits and probabilities; AP and mAP are not (see
 * `averagePrecision`).
 */
export function scoredClassificationReport(
  classNames: readonly string[],
  gold: readonly string[],
  scores: ClassScoreRows,
): ScoredClassificationReport {
  const index = new Map(classNames.map((name, c) => [name, c]));
  if (index.size !== classNames.length) throw new RangeError(`Class names repeat: ${classNames.join(', ')}.`);
  const goldIndices = gold.map((name, i) => {
    const c = index.get(name);
    if (c === undefined) throw new RangeError(`Gold label "${name}" of example ${i} is not one of the classes ${classNames.join(', ')}.`);
    return c;
  });
  const perClassAp = perClassAveragePrecision(goldIndices, scores, classNames.length);
  const predicted = scores.map((row) => classNames[argmax(row)]!);
  const report = classificationReport(gold, predicted);
  const map = meanAveragePrecision(perClassAp);
  const finite = (value: number) => (Number.isFinite(value) ? value : null);
  return {
    ...report,
    averagePrecision: Object.fromEntries(classNames.map((name, c) => [name, perClassAp[c]!])),
    map,
    metrics: {
      accuracy: finite(report.accuracy),
      f1: finite(report.f1),
      precision: finite(report.precision),
      recall: finite(report.recall),
      map,
    },
  };
}

/** Index of the first largest value. */
function argmax(row: readonly number[]): number {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c]! > row[best]!) best = c;
  return best;
}
