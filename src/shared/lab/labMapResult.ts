import { arrayOf, hasFields, isNonEmptyString, isString, oneOf, type Guard } from '../protocol/messageGuards';
import { isLabComparedHit, isLabHit, type LabComparedHit, type LabHit } from './labSearchResult';

/** How the map places the corpus in 2D. */
export type LabProjectionMethod = 'pca' | 'umap';
export const LAB_PROJECTION_METHODS: readonly LabProjectionMethod[] = ['pca', 'umap'];

/** More points than this never cross the webview boundary (the guard refuses them). */
export const MAX_MAP_POINTS = 100_000;
/** A colouring has at most this many named categories; the rest share the last one, "other". */
export const MAX_COLOUR_CATEGORIES = 12;

/** What `embedtune lab-map --json` prints: the corpus projected in 2D under both models, with ways to colour it. */
export interface LabMapResult {
  readonly corpus: { readonly file: string; readonly entries: number; readonly sha256: string };
  readonly method: LabProjectionMethod;
  readonly seed: number;
  /** The corpus texts, index for index with each model's coordinates. */
  readonly texts: readonly string[];
  readonly models: readonly [LabMapModel, LabMapModel];
  /** Ways to colour the points: each model's clusters, then the corpus columns that look like labels. */
  readonly colourings: readonly LabColouring[];
}

export interface LabMapModel {
  readonly model: string;
  /** `hit` when the corpus embeddings came from the Lab's cache, `miss` when they were encoded (and stored). */
  readonly cache: 'hit' | 'miss';
  readonly x: readonly number[];
  readonly y: readonly number[];
}

export interface LabColouring {
  readonly name: string;
  readonly categories: readonly string[];
  /** Each point's category, an index into `categories`. */
  readonly codes: readonly number[];
}

/** What `embedtune lab-neighbours --json` prints: a corpus entry's nearest entries under both models. */
export interface LabNeighboursResult {
  readonly index: number;
  readonly text: string;
  readonly k: number;
  readonly first: readonly LabHit[];
  /** The second model's neighbours marked against the first's, then the first's that it dropped. */
  readonly second: readonly LabComparedHit[];
}

/** A plain array of finite numbers of exactly `length` entries, checked with a loop (10,000s of them). */
function isNumbers(value: unknown, length: number, isValid: (n: number) => boolean = Number.isFinite): boolean {
  if (!Array.isArray(value) || value.length !== length) return false;
  for (const item of value) if (typeof item !== 'number' || !isValid(item)) return false;
  return true;
}

function isMapModel(value: unknown, length: number): value is LabMapModel {
  return (
    hasFields<Pick<LabMapModel, 'model' | 'cache'>>(value, { model: isNonEmptyString, cache: oneOf(['hit', 'miss'] as const) }) &&
    isNumbers((value as { x?: unknown }).x, length) &&
    isNumbers((value as { y?: unknown }).y, length)
  );
}

function isColouring(value: unknown, length: number): value is LabColouring {
  if (
    !hasFields<Pick<LabColouring, 'name' | 'categories'>>(value, {
      name: isString,
      categories: arrayOf(isString, MAX_COLOUR_CATEGORIES + 1),
    })
  )
    return false;
  const categories = value.categories.length;
  return isNumbers((value as { codes?: unknown }).codes, length, (code) => Number.isInteger(code) && code >= 0 && code < categories);
}

export const isLabMapResult: Guard<LabMapResult> = (value): value is LabMapResult => {
  if (
    !hasFields<Pick<LabMapResult, 'corpus' | 'method' | 'seed' | 'texts'>>(value, {
      corpus: (corpus): corpus is LabMapResult['corpus'] =>
        hasFields<LabMapResult['corpus']>(corpus, { file: isString, entries: Number.isInteger as Guard<number>, sha256: isString }),
      method: oneOf(LAB_PROJECTION_METHODS),
      seed: Number.isInteger as Guard<number>,
      texts: arrayOf(isString, MAX_MAP_POINTS),
    })
  )
    return false;
  const { models, colourings } = value as { models?: unknown; colourings?: unknown };
  const length = value.texts.length;
  return (
    Array.isArray(models) &&
    models.length === 2 &&
    models.every((model) => isMapModel(model, length)) &&
    Array.isArray(colourings) &&
    colourings.length <= 16 &&
    colourings.every((colouring) => isColouring(colouring, length))
  );
};

export const isLabNeighboursResult: Guard<LabNeighboursResult> = (value): value is LabNeighboursResult =>
  hasFields<LabNeighboursResult>(value, {
    index: (index): index is number => Number.isInteger(index) && (index as number) >= 0,
    text: isString,
    k: (k): k is number => Number.isInteger(k) && (k as number) >= 1,
    first: arrayOf(isLabHit, 100),
    second: arrayOf(isLabComparedHit, 200),
  });
