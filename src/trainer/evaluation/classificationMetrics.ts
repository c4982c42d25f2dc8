import type { ClassScores, ConfusionMatrix } from '../../shared/events/runEvents';

export interface ClassificationReport {
  readonly accuracy: number;
  /** Macro-averaged: the unweighted mean over classes, so a rare class counts as much as a common one. */
  readonly f1: number;
  readonly precision: number;
  readonly recall: number;
  /** Micro-averaged F1; with one label per row it equals accuracy. */
  readonly microF1: number;
  readonly perClass: Record<string, ClassScores>;
  readonly confusionMatrix: ConfusionMatrix;
  /** The values by the names used in `evaluation.metrics`: accuracy, f1, precision, recall. */
  readonly metrics: Record<'accuracy' | 'f1' | 'precision' | 'recall', number>;
}

/**
 * Scores single-label predictions as scikit-learn's `classification_report` and
 * `precision_recall_fscore_support(average='macro', zero_division=0)` do: the classes are the
 * sorted union of gold and predicted labels, and a ratio with a zero denominator (a class never
 * predicted, or never present) is 0. With no rows at all, every score is NaN.
 */
export function classificationReport(gold: readonly string[], predicted: readonly string[]): ClassificationReport {
  if (gold.length !== predicted.length)
    throw new RangeError(`Cannot score ${predicted.length} predictions against ${gold.length} gold labels.`);
  const labels = [...new Set([...gold, ...predicted])].sort();
  const index = new Map(labels.map((label, i) => [label, i]));
  const matrix = labels.map(() => new Array<number>(labels.length).fill(0));
  gold.forEach((label, i) => matrix[index.get(label)!]![index.get(predicted[i]!)!]!++);

  const perClass: Record<string, ClassScores> = {};
  let correct = 0;
  labels.forEach((label, c) => {
    const truePositives = matrix[c]![c]!;
    const support = matrix[c]!.reduce((sum, count) => sum + count, 0);
    const predictedCount = matrix.reduce((sum, row) => sum + row[c]!, 0);
    const precision = ratio(truePositives, predictedCount);
    const recall = ratio(truePositives, support);
    perClass[label] = { precision, recall, f1: harmonicMean(precision, recall), support };
    correct += truePositives;
  });

  const macro = (key: 'precision' | 'recall' | 'f1') =>
    labels.length === 0 ? Number.NaN : labels.reduce((sum, label) => sum + perClass[label]![key], 0) / labels.length;
  const accuracy = gold.length === 0 ? Number.NaN : correct / gold.length;
  const report = { accuracy, f1: macro('f1'), precision: macro('precision'), recall: macro('recall') };
  return { ...report, microF1: accuracy, perClass, confusionMatrix: { labels, matrix }, metrics: report };
}

/** A ratio that is 0 when its denominator is, as with scikit-learn's zero_division=0. */
export function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

/** F1 from precision and recall; 0 when both are 0. */
export function harmonicMean(precision: number, recall: number): number {
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}
