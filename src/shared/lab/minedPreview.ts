import { arrayOf, hasFields, isFiniteNumber, isString, nullable, type Guard } from '../protocol/messageGuards';

/** Mined triplets grouped as the Lab previews them: each (anchor, positive) with its negatives and their scores. */
export interface MinedPreview {
  /** Where Write puts the file, as the config will name it (relative to the config's folder when it is relative). */
  readonly target: string;
  /** Triplet rows mined in all. */
  readonly rows: number;
  /** Distinct (anchor, positive) pairs that got a negative. */
  readonly pairs: number;
  /** The first pairs, in the mined file's order. */
  readonly shown: readonly MinedPair[];
}

export interface MinedPair {
  readonly anchor: string;
  readonly positive: string;
  /** The anchor's cosine with its positive under the mining model, when the miner wrote scores. */
  readonly positiveScore: number | null;
  readonly negatives: readonly { readonly text: string; readonly score: number | null }[];
}

/** A mined row with its columns already picked out; `scores` is the miner's [positive, negative] list, if any. */
export interface MinedRow {
  readonly anchor: string;
  readonly positive: string;
  readonly negative: string;
  readonly scores?: readonly number[];
}

/** At most this many pairs are previewed. */
export const MAX_PREVIEW_PAIRS = 100;

/** Triplet rows (one per negative) grouped by their (anchor, positive), the first `limit` pairs, in file order. */
export function groupMinedRows(rows: readonly MinedRow[], limit = MAX_PREVIEW_PAIRS): { pairs: number; shown: MinedPair[] } {
  const groups = new Map<
    string,
    { anchor: string; positive: string; positiveScore: number | null; negatives: { text: string; score: number | null }[] }
  >();
  for (const row of rows) {
    const key = JSON.stringify([row.anchor, row.positive]);
    let group = groups.get(key);
    if (!group) {
      group = { anchor: row.anchor, positive: row.positive, positiveScore: finiteOrNull(row.scores?.[0]), negatives: [] };
      groups.set(key, group);
    }
    group.negatives.push({ text: row.negative, score: finiteOrNull(row.scores?.[1]) });
  }
  return { pairs: groups.size, shown: [...groups.values()].slice(0, limit) };
}

function finiteOrNull(value: number | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

const isCount: Guard<number> = (value): value is number => Number.isInteger(value) && (value as number) >= 0;

const isPair: Guard<MinedPair> = (value): value is MinedPair =>
  hasFields<MinedPair>(value, {
    anchor: isString,
    positive: isString,
    positiveScore: nullable(isFiniteNumber),
    negatives: arrayOf(
      (negative): negative is MinedPair['negatives'][number] =>
        hasFields<MinedPair['negatives'][number]>(negative, { text: isString, score: nullable(isFiniteNumber) }),
      1000,
    ),
  });

export const isMinedPreview: Guard<MinedPreview> = (value): value is MinedPreview =>
  hasFields<MinedPreview>(value, { target: isString, rows: isCount, pairs: isCount, shown: arrayOf(isPair, MAX_PREVIEW_PAIRS) });
