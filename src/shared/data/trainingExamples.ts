import { IN_BATCH_NEGATIVE_LOSSES, requiredRoles, type DataRole } from '../config/taskRequirements';

/** `data.columns.negative`: one column, or a list of them (an n-tuple: mnrl and cached_mnrl score every one). */
export interface NegativeColumnSetting {
  readonly negative?: string | readonly string[];
}

/** The negative columns in order: the list, or the one column. */
export function negativeColumns(columns: NegativeColumnSetting): readonly string[] {
  const negative = columns.negative ?? 'negative';
  return typeof negative === 'string' ? [negative] : negative;
}

/** Two texts that belong together: a query and its answer, or two paraphrases (mnrl, cached_mnrl). */
export interface PairExample {
  anchor: string;
  positive: string;
}

/** A pair plus a text that must end up further from the anchor than the positive (triplet). */
export interface TripletExample {
  anchor: string;
  positive: string;
  negative: string;
}

/** A pair with several hard negatives, one per negative column in order (mnrl, cached_mnrl on n-tuples). */
export interface NTupleExample {
  anchor: string;
  positive: string;
  negatives: string[];
}

/** A pair with a gold similarity score, usually 0 to 1 (cosent, cosine). */
export interface ScoredPairExample {
  anchor: string;
  positive: string;
  score: number;
}

/** A pair marked similar (1) or dissimilar (0) (contrastive). */
export interface ContrastivePairExample {
  anchor: string;
  positive: string;
  label: 0 | 1;
}

/** A pair with a class label, e.g. NLI's entailment / neutral / contradiction (softmax on pairs). */
export interface LabeledPairExample {
  anchor: string;
  positive: string;
  label: string;
}

/** A text and its class; numeric labels are kept as strings so that every class is a string. */
export interface TextLabelExample {
  text: string;
  label: string;
}

/** A tokenized sentence with one tag per token, e.g. BIO tags for named entities. */
export interface TokenTagsExample {
  tokens: string[];
  tags: string[];
}

/** Which example shape a task and loss train on. */
export type ExampleKind =
  | 'pair'
  | 'triplet'
  | 'n-tuple'
  | 'scored-pair'
  | 'contrastive-pair'
  | 'labeled-pair'
  | 'text-label'
  | 'token-tags';

export interface ExampleByKind {
  pair: PairExample;
  triplet: TripletExample;
  'n-tuple': NTupleExample;
  'scored-pair': ScoredPairExample;
  'contrastive-pair': ContrastivePairExample;
  'labeled-pair': LabeledPairExample;
  'text-label': TextLabelExample;
  'token-tags': TokenTagsExample;
}

export type Example = ExampleByKind[ExampleKind];

/** The roles each kind reads from a row, in the order they appear in the example. */
export const ROLES_BY_KIND: { readonly [K in ExampleKind]: readonly DataRole[] } = {
  pair: ['anchor', 'positive'],
  triplet: ['anchor', 'positive', 'negative'],
  'n-tuple': ['anchor', 'positive', 'negative'],
  'scored-pair': ['anchor', 'positive', 'score'],
  'contrastive-pair': ['anchor', 'positive', 'label'],
  'labeled-pair': ['anchor', 'positive', 'label'],
  'text-label': ['text', 'label'],
  'token-tags': ['tokens', 'tags'],
};

/**
 * The example shape for a task and loss, derived from the roles the loss needs (see
 * `requiredRoles`), so that the data loader and the config checks cannot disagree.
 * `label` with an anchor is 0/1 for contrastive and a class name for softmax. A list of negative columns makes
 * mnrl and cached_mnrl train on n-tuples, as sentence-transformers' MNRL takes (anchor, positive, negative_1, …).
 */
export function exampleKindFor(task: string, loss: string, columns?: NegativeColumnSetting): ExampleKind {
  const roles = requiredRoles(task, loss);
  if (!roles) throw new Error(`Loss "${loss}" cannot train task "${task}"; pick a loss listed for the task in the schema.`);
  if (IN_BATCH_NEGATIVE_LOSSES.includes(loss) && Array.isArray(columns?.negative)) return 'n-tuple';
  if (roles.includes('tokens')) return 'token-tags';
  if (roles.includes('text')) return 'text-label';
  if (roles.includes('negative')) return 'triplet';
  if (roles.includes('score')) return 'scored-pair';
  if (roles.includes('label')) return loss === 'contrastive' ? 'contrastive-pair' : 'labeled-pair';
  return 'pair';
}
