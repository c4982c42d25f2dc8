import type { ExampleByKind, ExampleKind } from '../data/trainingExamples';
import type { TextBatch } from './gradientStep';

/** The example kinds the embedding losses train on; classification heads and CRFs are separate trainers. */
export const EMBEDDING_KINDS: readonly ExampleKind[] = ['pair', 'triplet', 'scored-pair', 'contrastive-pair'] satisfies EmbeddingKind[];

/** The example kinds a classification head trains on: texts with labels, or labelled pairs (SoftmaxLoss). */
export const CLASSIFICATION_KINDS: readonly ExampleKind[] = ['text-label', 'labeled-pair'] satisfies ClassificationKind[];

export type EmbeddingKind = 'pair' | 'triplet' | 'scored-pair' | 'contrastive-pair';
export type ClassificationKind = 'text-label' | 'labeled-pair';
export type EmbeddingExample = ExampleByKind[EmbeddingKind];

/** A batch of examples as texts by role, with the targets its loss reads. */
export function toTextBatch(examples: readonly EmbeddingExample[]): TextBatch {
  const every = <V>(values: V[]): V[] | undefined => (examples.length > 0 && values.length === examples.length ? values : undefined);
  const negative = every(examples.flatMap((row) => ('negative' in row ? [row.negative] : [])));
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
