import type { ResolvedMiningOptions } from './miningOptions';

/** Why a candidate in the window was not allowed to be a negative. */
export type SkipReason = 'absolute_margin' | 'relative_margin' | 'max_score' | 'min_score';

export const SKIP_REASONS: readonly SkipReason[] = ['absolute_margin', 'relative_margin', 'max_score', 'min_score'];

export interface MinedNegative {
  /** The corpus index of the negative. */
  readonly index: number;
  /** Its similarity to the anchor. */
  readonly score: number;
}

/** What mining found for one anchor. */
export interface AnchorSelection {
  /** Best first; fewer than `numNegatives` when too few candidates passed the filters. */
  readonly negatives: readonly MinedNegative[];
  /** The anchor's similarity to each of its positives, in the order given. */
  readonly positiveScores: readonly number[];
  /** Candidates dropped by each filter, each counted under the first filter that dropped it. */
  readonly skipped: Readonly<Record<SkipReason, number>>;
  /** Candidates looked at: the top `rangeMax + maxPositives`, less the anchor's positives. */
  readonly candidates: number;
}

/**
 * The corpus indices of the `count` highest scores of one row, best first. Equal scores keep corpus order, so a
 * run is repeatable; NaN never counts as a candidate. One pass with a small sorted list: `count` is tens, the row
 * can be the whole corpus.
 */
export function topCandidates(row: ArrayLike<number>, count: number): number[] {
  const best: number[] = [];
  if (count <= 0) return best;
  for (let index = 0; index < row.length; index++) {
    const score = row[index]!;
    if (Number.isNaN(score)) continue;
    if (best.length === count && !(score > row[best[count - 1]!]!)) continue;
    // Insert after every entry that scores at least as high, which keeps ties in corpus order.
    let at = best.length;
    while (at > 0 && row[best[at - 1]!]! < score) at--;
    best.splice(at, 0, index);
    if (best.length > count) best.pop();
  }
  return best;
}

/**
 * Picks one anchor's negatives from its row of similarities to the corpus, as sentence-transformers'
 * `mine_hard_negatives` does:
 * 1. take the `rangeMax + maxPositives` best-scoring corpus entries, and drop the anchor's positives;
 * 2. drop those within the margin of the anchor's lowest positive score, above `maxScore` or below `minScore`;
 * 3. of the rest (best first), keep ranks `rangeMin` to `rangeMax` as the window;
 * 4. take the first `numNegatives` of the window (`top`), or draw that many from it (`random`), best first.
 * The ranks in step 3 count only candidates that survived step 2, as in sentence-transformers.
 */
export function selectNegatives(
  row: ArrayLike<number>,
  positives: readonly number[],
  options: ResolvedMiningOptions,
  random: () => number,
): AnchorSelection {
  const positiveScores = positives.map((index) => row[index]!);
  const lowestPositive = Math.min(...positiveScores);
  const skipped: Record<SkipReason, number> = { absolute_margin: 0, relative_margin: 0, max_score: 0, min_score: 0 };
  const eligible: number[] = [];
  let candidates = 0;
  for (const index of topCandidates(row, options.rangeMax + options.maxPositives)) {
    if (positives.includes(index)) continue;
    candidates++;
    const reason = skipReason(row[index]!, lowestPositive, options);
    if (reason) skipped[reason]++;
    else eligible.push(index);
  }
  const window = eligible.slice(options.rangeMin, options.rangeMax);
  const chosen = options.sampling === 'top' ? window.slice(0, options.numNegatives) : drawInOrder(window, options.numNegatives, random);
  return { negatives: chosen.map((index) => ({ index, score: row[index]! })), positiveScores, skipped, candidates };
}

/** The first filter that rejects a candidate of this score, or undefined when it may be a negative. */
function skipReason(score: number, lowestPositive: number, options: ResolvedMiningOptions): SkipReason | undefined {
  const { absoluteMargin, relativeMargin, maxScore, minScore } = options;
  if (absoluteMargin !== undefined && score + absoluteMargin > lowestPositive) return 'absolute_margin';
  // Subtracting |positive| × margin, not multiplying by (1 − margin), keeps the threshold below a negative positive score.
  if (relativeMargin !== undefined && score > lowestPositive - Math.abs(lowestPositive) * relativeMargin) return 'relative_margin';
  if (maxScore !== undefined && score > maxScore) return 'max_score';
  if (minScore !== undefined && score < minScore) return 'min_score';
  return undefined;
}

/** `count` entries drawn without replacement, kept in their original (best-first) order; all of them when too few. */
function drawInOrder(window: readonly number[], count: number, random: () => number): number[] {
  if (window.length <= count) return [...window];
  const positions = window.map((_, i) => i);
  // A partial Fisher–Yates: the first `count` positions end up a uniform draw.
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (positions.length - i));
    [positions[i], positions[j]] = [positions[j]!, positions[i]!];
  }
  return positions
    .slice(0, count)
    .sort((a, b) => a - b)
    .map((position) => window[position]!);
}
