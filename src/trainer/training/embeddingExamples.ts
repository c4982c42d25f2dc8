import type { ExampleByKind, ExampleKind } from '../data/trainingExamples';
import type { TextBatch } from './gradientStep';

/** The example kinds the embedding losses train on; classification heads and CRFs are separate trainers. */
export const EMBEDDING_KINDS: readonly ExampleKind[] = [
  'pair',
  'triplet',
  'n-tuple',
  'scored-pair',
  'contrastive-pair',
] satisfies EmbeddingKind[];

/** The example kinds a classification head trains on: texts with labels, or labelled pairs (SoftmaxLoss). */
export const CLASSIFICATION_KINDS: readonly ExampleKind[] = ['text-label', 'labeled-pair'] satisfies ClassificationKind[];

export type EmbeddingKind = 'pair' | 'triplet' | 'n-tuple' | 'scored-pair' | 'contrastive-pair';
export type ClassificationKind = 'text-label' | 'labeled-pair';
export type EmbeddingExample = ExampleByKind[EmbeddingKind];

/**
 * A batch of examples as texts by role, with the targets its loss reads. An n-tuple batch's negatives are its
 * negative columns one after another (every row's first negative, then every row's second, …), the candidates
 * sentence-transformers' MNRL scores after the positives; the loss scores them all, whatever their number.
 */
export function toTextBatch(examples: readonly EmbeddingExample[]): TextBatch {
  const every = <V>(values: V[]): V[] | undefined => (examples.length > 0 && values.length === examples.length ? values : undefined);
  const negative = every(examples.flatMap((row) => ('negative' in row ? [row.negative] : []))) ?? negativeColumnsOf(examples);
  const scores = every(examples.flatMap((row) => ('score' in row ? [row.score] : [])));
  const labels = every(examples.flatMap((row) => ('label' in row ? [row.label] : [])));
  return {
    anchor: examples.map((row) => row.anchor),
    positive: examples.map((row) => row.positive),
    ...(negative ? { negative } : {}),
    targets: {
      ...(scores ? { scores: Float32Array.from(scores) } : {}),
      ...(labels ? { labels: Float32Array.from(labels) } : {}),
    },
  };
}

/** The negatives of an n-tuple batch, column by column; undefined unless every row has the same number of them. */
function negativeColumnsOf(examples: readonly EmbeddingExample[]): string[] | undefined {
  const tuples = examples.flatMap((row) => ('negatives' in row ? [row.negatives] : []));
  const count = tuples[0]?.length ?? 0;
  if (count === 0 || tuples.length !== examples.length || tuples.some((negatives) => negatives.length !== count)) return undefined;
  return Array.from({ length: count }, (_, column) => tuples.map((negatives) => negatives[column]!)).flat();
}
