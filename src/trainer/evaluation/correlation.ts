/**
 * Correlations between predicted similarities and gold scores, computed as scipy.stats does.
 * Where scipy returns NaN, so do these: a NaN among the values, or a constant input (its spread
 * is zero, so the correlation is undefined rather than 0). Fewer than two values, which scipy
 * refuses with an error, also give NaN, so that a tiny validation set cannot crash a run. An
 * eval event writes NaN as null.
 */

/** Pearson's r. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  requireSameLength(x, y);
  const n = x.length;
  if (n < 2) return Number.NaN;
  const meanX = mean(x);
  const meanY = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - meanX;
    const dy = y[i]! - meanY;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (Number.isNaN(sxy) || sxx === 0 || syy === 0) return Number.NaN;
  // Rounding can push |r| a hair past 1; scipy clips it too.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** Spearman's rho: Pearson's r of the ranks, with tied values sharing their average rank. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  requireSameLength(x, y);
  if (hasNaN(x) || hasNaN(y)) return Number.NaN;
  return pearson(averageRanks(x), averageRanks(y));
}

/** 1-based ranks, ties averaged: [10, 20, 20, 30] → [1, 2.5, 2.5, 4]. */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) end++;
    // Positions start..end-1 hold equal values: ranks start+1..end, averaged.
    const rank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) ranks[order[i]!] = rank;
    start = end;
  }
  return ranks;
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

function hasNaN(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) return true;
  return false;
}

function requireSameLength(x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length) throw new RangeError(`Cannot correlate ${x.length} predictions with ${y.length} gold scores.`);
}
