/**
 * Average precision (AP) of one class's scores, and its mean over classes (mAP), computed as scikit-learn's
 * `average_precision_score` does: the area under the precision-recall step function, without interpolation,
 * AP = Σₖ (Rₖ − Rₖ₋₁) · Pₖ over the distinct score thresholds from highest to lowest.
 *
 * Examples with equal scores form one threshold, so their order never matters: a tie between a positive and a
 * negative counts as both being retrieved at once, as sklearn's `_binary_clf_curve` groups them.
 *
 * AP ranks one class's column across examples, so logits and softmax probabilities can give different APs (the
 * softmax divides each row by its own normalizer). Pass whatever the model's reported scores are; the evaluator should
 * pass probabilities, as image-classification pipelines report.
 */

/** Scores per example: `scores[i][c]` is example i's score for class c (a logit or a probability). */
export type ClassScoreRows = readonly (readonly number[])[];

/**
 * AP of one class: `relevant[i]` says whether example i belongs to it. Null when no example does: the curve's recall
 * is then undefined, and sklearn answers 0 with a warning, which would read as a worst-possible ranking.
 */
export function averagePrecision(relevant: readonly boolean[], scores: readonly number[]): number | null {
  if (relevant.length !== scores.length)
    throw new RangeError(`Cannot rank ${scores.length} scores against ${relevant.length} relevance flags.`);
  const positives = relevant.filter(Boolean).length;
  if (positives === 0) return null;
  // Descending by score; ties are grouped below, so their order inside a group cannot change the result.
  const order = scores.map((_, i) => i).sort((a, b) => compareDescending(scores[a]!, scores[b]!));
  let truePositives = 0;
  let retrieved = 0;
  let previousRecall = 0;
  let sum = 0;
  order.forEach((example, rank) => {
    retrieved++;
    if (relevant[example]) truePositives++;
    const next = order[rank + 1];
    if (next !== undefined && scores[next] === scores[example]) return;
    const recall = truePositives / positives;
    sum += (recall - previousRecall) * (truePositives / retrieved);
    previousRecall = recall;
  });
  return sum;
}

/**
 * One-vs-rest AP of every class (column) of `scores`, with `gold[i]` the index of example i's true class. A class
 * with no example gets null (see `averagePrecision`).
 */
export function perClassAveragePrecision(gold: readonly number[], scores: ClassScoreRows, classCount: number): (number | null)[] {
  checkScores(gold, scores, classCount);
  return Array.from({ length: classCount }, (_, c) =>
    averagePrecision(
      gold.map((label) => label === c),
      scores.map((row) => row[c]!),
    ),
  );
}

/**
 * mAP: the mean AP over the classes that have at least one example (the non-null entries); null when none does.
 * sklearn's `average='macro'` would count an absent class as 0 instead; the two agree when every class is present.
 */
export function meanAveragePrecision(perClass: readonly (number | null)[]): number | null {
  const defined = perClass.filter((ap): ap is number => ap !== null);
  return defined.length === 0 ? null : defined.reduce((sum, ap) => sum + ap, 0) / defined.length;
}

function compareDescending(a: number, b: number): number {
  return a > b ? -1 : a < b ? 1 : 0;
}

function checkScores(gold: readonly number[], scores: ClassScoreRows, classCount: number): void {
  if (gold.length !== scores.length)
    throw new RangeError(`Cannot score ${scores.length} rows of class scores against ${gold.length} gold labels.`);
  gold.forEach((label, i) => {
    if (!Number.isInteger(label) || label < 0 || label >= classCount)
      throw new RangeError(`Gold label ${label} of example ${i} is not a class index from 0 to ${classCount - 1}.`);
  });
  scores.forEach((row, i) => {
    if (row.length !== classCount) throw new RangeError(`Example ${i} has ${row.length} class scores, not ${classCount}.`);
    if (row.some(Number.isNaN)) throw new RangeError(`Example ${i} has a NaN class score.`);
  });
}
