/** One corpus entry in a model's top-k: its index in the corpus and its cosine similarity to the query. */
export interface RankedHit {
  readonly index: number;
  readonly score: number;
}

/**
 * How an entry moved from the first model's top-k to the second's: `up`/`down` by `by` places, `same`, `new` (only
 * in the second's top-k) or `dropped` (only in the first's).
 */
export type RankChange = { readonly kind: 'up' | 'down'; readonly by: number } | { readonly kind: 'same' | 'new' | 'dropped' };

/** An entry of the second model's top-k, or one the first model had that fell out of it (`rank` null). */
export interface ComparedHit extends RankedHit {
  /** 1-based rank under the second model, or null when dropped. */
  readonly rank: number | null;
  /** 1-based rank under the first model, or null when new. */
  readonly previousRank: number | null;
  readonly change: RankChange;
}

/**
 * The `k` highest scores, best first. Ties keep corpus order, so that the same scores always rank the same way and
 * a rank change is never an artefact of sorting.
 */
export function topK(scores: ArrayLike<number>, k: number): RankedHit[] {
  const hits: RankedHit[] = [];
  for (let index = 0; index < scores.length; index++) {
    const score = scores[index]!;
    if (Number.isNaN(score)) continue;
    if (hits.length === k && !better({ index, score }, hits[k - 1]!)) continue;
    let at = hits.length;
    while (at > 0 && better({ index, score }, hits[at - 1]!)) at--;
    hits.splice(at, 0, { index, score });
    if (hits.length > k) hits.pop();
  }
  return hits;
}

function better(a: RankedHit, b: RankedHit): boolean {
  return a.score > b.score || (a.score === b.score && a.index < b.index);
}

/**
 * The second model's top-k marked against the first's, followed by the first's entries that fell out of it, in
 * their old order.
 */
export function compareRankings(first: readonly RankedHit[], second: readonly RankedHit[]): ComparedHit[] {
  const firstRank = new Map(first.map((hit, i) => [hit.index, i + 1]));
  const secondIndices = new Set(second.map((hit) => hit.index));
  const kept = second.map((hit, i): ComparedHit => {
    const rank = i + 1;
    const previousRank = firstRank.get(hit.index) ?? null;
    return { ...hit, rank, previousRank, change: changeBetween(previousRank, rank) };
  });
  const dropped = first.flatMap((hit, i): ComparedHit[] =>
    secondIndices.has(hit.index) ? [] : [{ ...hit, rank: null, previousRank: i + 1, change: { kind: 'dropped' } }],
  );
  return [...kept, ...dropped];
}

function changeBetween(previousRank: number | null, rank: number): RankChange {
  if (previousRank === null) return { kind: 'new' };
  if (previousRank === rank) return { kind: 'same' };
  return previousRank > rank ? { kind: 'up', by: previousRank - rank } : { kind: 'down', by: rank - previousRank };
}

/** The mark shown beside a result: ↑3, ↓5, new, dropped, or = when it kept its place. */
export function rankChangeLabel(change: RankChange): string {
  switch (change.kind) {
    case 'up':
      return `↑${change.by}`;
    case 'down':
      return `↓${change.by}`;
    case 'same':
      return '=';
    default:
      return change.kind;
  }
}
