import { arrayOf, hasFields, isNonEmptyString, isString, oneOf, type Guard } from '../protocol/messageGuards';

/** What `embedtune lab-wins --json` prints: the run's evaluation replayed under two models, and what changed. */
export type LabWinsResult = LabRetrievalWins | LabClassificationWins;

export interface LabWinsModel {
  readonly model: string;
  readonly description: string;
  /** `hit` when every embedding came from the on-disk cache. */
  readonly cache: 'hit' | 'miss';
}

/** A validation query and where its best positive ranked among the validation documents under each model. */
export interface LabQueryMove {
  readonly query: string;
  /** The positive whose rank is given under the second model (its best-ranked one). */
  readonly positive: string;
  readonly firstRank: number;
  readonly secondRank: number;
}

export interface LabRetrievalWins {
  readonly task: 'retrieval';
  readonly k: number;
  readonly queries: number;
  readonly documents: number;
  readonly models: readonly [LabWinsModel, LabWinsModel];
  readonly improved: number;
  readonly worsened: number;
  readonly unchanged: number;
  readonly wins: readonly LabQueryMove[];
  readonly losses: readonly LabQueryMove[];
  /** In the first model's top-k, not in the second's. */
  readonly fellOut: readonly LabQueryMove[];
}

/** A validation example whose predicted label changed between the two classifiers. */
export interface LabLabelChange {
  readonly text: string;
  /** The second text of a pair-classification example. */
  readonly pair: string | null;
  readonly label: string;
  readonly first: string;
  readonly second: string;
}

export interface LabClassificationWins {
  readonly task: 'classification';
  readonly examples: number;
  readonly models: readonly [LabWinsModel, LabWinsModel];
  readonly fixed: readonly LabLabelChange[];
  readonly broken: readonly LabLabelChange[];
  readonly otherChanges: readonly LabLabelChange[];
}

/** At most this many entries per list cross the webview boundary. */
export const MAX_WINS_LIST = 200;

const isCount: Guard<number> = (value): value is number => Number.isInteger(value) && (value as number) >= 0;
const isRank: Guard<number> = (value): value is number => Number.isInteger(value) && (value as number) >= 1;

const isModel: Guard<LabWinsModel> = (value): value is LabWinsModel =>
  hasFields<LabWinsModel>(value, { model: isNonEmptyString, description: isString, cache: oneOf(['hit', 'miss'] as const) });
const isModels = (value: unknown): value is readonly [LabWinsModel, LabWinsModel] => arrayOf(isModel, 2)(value) && value.length === 2;

const isMove: Guard<LabQueryMove> = (value): value is LabQueryMove =>
  hasFields<LabQueryMove>(value, { query: isString, positive: isString, firstRank: isRank, secondRank: isRank });

const isChange: Guard<LabLabelChange> = (value): value is LabLabelChange =>
  hasFields<LabLabelChange>(value, {
    text: isString,
    pair: (pair): pair is string | null => pair === null || isString(pair),
    label: isString,
    first: isString,
    second: isString,
  });

export const isLabWinsResult: Guard<LabWinsResult> = (value): value is LabWinsResult =>
  hasFields<LabRetrievalWins>(value, {
    task: oneOf(['retrieval'] as const),
    k: isRank,
    queries: isCount,
    documents: isCount,
    models: isModels,
    improved: isCount,
    worsened: isCount,
    unchanged: isCount,
    wins: arrayOf(isMove, MAX_WINS_LIST),
    losses: arrayOf(isMove, MAX_WINS_LIST),
    fellOut: arrayOf(isMove, MAX_WINS_LIST),
  }) ||
  hasFields<LabClassificationWins>(value, {
    task: oneOf(['classification'] as const),
    examples: isCount,
    models: isModels,
    fixed: arrayOf(isChange, MAX_WINS_LIST),
    broken: arrayOf(isChange, MAX_WINS_LIST),
    otherChanges: arrayOf(isChange, MAX_WINS_LIST),
  });
