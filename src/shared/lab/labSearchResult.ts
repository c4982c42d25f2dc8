import {
  arrayOf,
  hasFields,
  isFiniteNumber,
  isNonEmptyString,
  isRecord,
  isString,
  nullable,
  oneOf,
  type Guard,
} from '../protocol/messageGuards';
import type { ComparedHit, RankChange, RankedHit } from './rankChanges';

/** What `embedtune lab-search --json` prints: a query's top-k under two models, the second marked against the first. */
export interface LabSearchResult {
  readonly query: string;
  readonly k: number;
  readonly corpus: { readonly file: string; readonly entries: number; readonly sha256: string };
  /** The model ranked first (usually the base model), then the one compared with it (usually the fine-tuned one). */
  readonly models: readonly [LabModelInfo, LabModelInfo];
  readonly first: readonly LabHit[];
  /** The second model's top-k with rank changes, then the first's entries that it dropped. */
  readonly second: readonly LabComparedHit[];
  /** For one of the run's evaluation queries: the corpus indices of its known positives (absent for other queries). */
  readonly knownPositives?: readonly number[];
}

export interface LabModelInfo {
  readonly model: string;
  readonly description: string;
  /** `hit` when the corpus embeddings came from the on-disk cache, `miss` when they were computed (and stored). */
  readonly cache: 'hit' | 'miss';
  readonly cacheFile: string;
}

export interface LabHit extends RankedHit {
  readonly text: string;
}

export interface LabComparedHit extends ComparedHit {
  readonly text: string;
}

const isIndex: Guard<number> = (value): value is number => Number.isInteger(value) && (value as number) >= 0;
const isRank: Guard<number> = (value): value is number => Number.isInteger(value) && (value as number) >= 1;

export const isRankChange: Guard<RankChange> = (value): value is RankChange => {
  if (hasFields<{ kind: 'up' | 'down'; by: number }>(value, { kind: oneOf(['up', 'down'] as const), by: isRank })) return true;
  return hasFields<{ kind: string }>(value, { kind: oneOf(['same', 'new', 'dropped'] as const) });
};

export const isLabHit: Guard<LabHit> = (value): value is LabHit =>
  hasFields<LabHit>(value, { index: isIndex, score: isFiniteNumber, text: isString });

export const isLabComparedHit: Guard<LabComparedHit> = (value): value is LabComparedHit =>
  hasFields<LabComparedHit>(value, {
    index: isIndex,
    score: isFiniteNumber,
    text: isString,
    rank: nullable(isRank),
    previousRank: nullable(isRank),
    change: isRankChange,
  });

const isModelInfo: Guard<LabModelInfo> = (value): value is LabModelInfo =>
  hasFields<LabModelInfo>(value, {
    model: isNonEmptyString,
    description: isString,
    cache: oneOf(['hit', 'miss'] as const),
    cacheFile: isString,
  });

/** At most this many results per column cross the webview boundary. */
export const MAX_LAB_K = 100;

export const isLabSearchResult: Guard<LabSearchResult> = (value): value is LabSearchResult =>
  (!isRecord(value) || value.knownPositives === undefined || arrayOf(isIndex, MAX_LAB_K)(value.knownPositives)) &&
  hasFields<LabSearchResult>(value, {
    query: isString,
    k: isRank,
    corpus: (corpus): corpus is LabSearchResult['corpus'] =>
      hasFields<LabSearchResult['corpus']>(corpus, { file: isString, entries: isFiniteNumber, sha256: isString }),
    models: (models): models is LabSearchResult['models'] => arrayOf(isModelInfo, 2)(models) && models.length === 2,
    first: arrayOf(isLabHit, MAX_LAB_K),
    second: arrayOf(isLabComparedHit, 2 * MAX_LAB_K),
  });
