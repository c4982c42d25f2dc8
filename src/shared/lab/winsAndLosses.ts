/**
 * Wins and losses between two models on the run's evaluation: which queries' positives rose or fell most in rank,
 * which fell out of the top-k, and for a classifier which examples' predicted labels were fixed or broken.
 * Pure functions, so that the child process and the tests compute them the same way.
 */

/**
 * The 1-based rank of a query's best-ranked positive among all documents, as `topK` orders them: a document ranks
 * before another when it scores higher, or the same with a lower corpus index. NaN scores rank last.
 */
export function positiveRank(scores: ArrayLike<number>, positives: readonly number[]): number {
  let best: number | undefined;
  for (const index of positives) if (best === undefined || before(scores, index, best)) best = index;
  if (best === undefined) throw new Error('positiveRank: a query with no positive has no rank');
  let rank = 1;
  for (let index = 0; index < scores.length; index++) if (index !== best && before(scores, index, best)) rank++;
  return rank;
}

function before(scores: ArrayLike<number>, a: number, b: number): boolean {
  const sa = scores[a]!;
  const sb = scores[b]!;
  if (Number.isNaN(sa)) return Number.isNaN(sb) && a < b;
  if (Number.isNaN(sb)) return true;
  return sa > sb || (sa === sb && a < b);
}

/** A query's positive under each model. */
export interface QueryRanks {
  /** The query's index in the evaluation's query list. */
  readonly query: number;
  readonly firstRank: number;
  readonly secondRank: number;
}

export interface RankMovements {
  /** Rose in rank, the largest rise first. */
  readonly wins: readonly QueryRanks[];
  /** Fell in rank, the largest fall first. */
  readonly losses: readonly QueryRanks[];
  /** In the first model's top-k and not in the second's, the furthest fallen first. */
  readonly fellOut: readonly QueryRanks[];
  readonly improved: number;
  readonly worsened: number;
  readonly unchanged: number;
}

/** At most `limit` of each list; ties keep query order, so the same ranks always give the same lists. */
export function rankMovements(ranks: readonly QueryRanks[], k: number, limit: number): RankMovements {
  const moved = (q: QueryRanks) => q.firstRank - q.secondRank;
  const byMove = (sign: 1 | -1) => (a: QueryRanks, b: QueryRanks) => sign * (moved(b) - moved(a)) || a.query - b.query;
  const wins = ranks.filter((q) => moved(q) > 0).sort(byMove(1));
  const losses = ranks.filter((q) => moved(q) < 0).sort(byMove(-1));
  const fellOut = losses.filter((q) => q.firstRank <= k && q.secondRank > k);
  return {
    wins: wins.slice(0, limit),
    losses: losses.slice(0, limit),
    fellOut: fellOut.slice(0, limit),
    improved: wins.length,
    worsened: losses.length,
    unchanged: ranks.length - wins.length - losses.length,
  };
}

/** An example's gold label and what each model's classifier predicts for it. */
export interface LabelledPrediction {
  readonly gold: string;
  readonly first: string;
  readonly second: string;
}

export interface LabelChanges {
  /** Indices of examples the first model got wrong and the second right. */
  readonly fixed: readonly number[];
  /** Indices of examples the first model got right and the second wrong. */
  readonly broken: readonly number[];
  /** Indices of examples whose prediction changed from one wrong label to another. */
  readonly otherChanges: readonly number[];
}

/** The examples whose predicted label changed, in example order. */
export function labelChanges(predictions: readonly LabelledPrediction[]): LabelChanges {
  const fixed: number[] = [];
  const broken: number[] = [];
  const otherChanges: number[] = [];
  predictions.forEach((p, i) => {
    if (p.first === p.second) return;
    if (p.second === p.gold) fixed.push(i);
    else if (p.first === p.gold) broken.push(i);
    else otherChanges.push(i);
  });
  return { fixed, broken, otherChanges };
}
