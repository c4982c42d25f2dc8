/** A summary of many similarity scores, as sentence-transformers prints after mining. */
export interface ScoreDistribution {
  readonly count: number;
  /** The rest are absent when there are no scores. */
  readonly mean?: number;
  readonly std?: number;
  readonly min?: number;
  readonly p25?: number;
  readonly median?: number;
  readonly p75?: number;
  readonly max?: number;
}

/** Count, mean, sample standard deviation, and quartiles by linear interpolation (numpy's and torch's default). */
export function describeScores(scores: readonly number[]): ScoreDistribution {
  const count = scores.length;
  if (count === 0) return { count };
  const sorted = [...scores].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, score) => sum + score, 0) / count;
  const variance = count > 1 ? sorted.reduce((sum, score) => sum + (score - mean) ** 2, 0) / (count - 1) : 0;
  return {
    count,
    mean,
    std: Math.sqrt(variance),
    min: sorted[0]!,
    p25: quantile(sorted, 0.25),
    median: quantile(sorted, 0.5),
    p75: quantile(sorted, 0.75),
    max: sorted[count - 1]!,
  };
}

function quantile(sorted: readonly number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}
