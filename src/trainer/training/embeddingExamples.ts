import type { Example, ExampleKind } from '../data/trainingExamples';
import type { TextBatch } from './gradientStep';

/** The example kinds the embedding losses train on; classification heads and CRFs are separate trainers. */
export const EMBEDDING_KINDS: readonly ExampleKind[] = ['pair', 'triplet', 'scored-pair', 'contrastive-pair'];

/** The example kinds a classification head trains on: texts with labels, or labelled pairs (SoftmaxLoss). */
export const CLASSIFICATION_KINDS: readonly ExampleKind[] = ['text-label', 'labeled-pair'];

/** A batch of examples as texts by role, with the targets its loss reads. */
export function toTextBatch(examples: readonly Example[]): TextBatch {
  const rows = examples as readonly { anchor: string; positive: string; negative?: string; score?: number; label?: number | string }[];
  const hasNegative = rows.length > 0 && rows.every((row) => typeof row.negative === 'string');
  const hasScore = rows.length > 0 && rows.every((row) => typeof row.score === 'number');
  const hasLabel = rows.length > 0 && rows.every((row) => typeof row.label === 'number');
  return {
    anchor: rows.map((row) => row.anchor),
    positive: rows.map((row) => row.positive),
    ...(hasNegative ? { negative: rows.map((row) => row.negative!) } : {}),
    targets: {
      ...(hasScore ? { scores: Float32Array.from(rows, (row) => row.score!) } : {}),
      ...(hasLabel ? { labels: Float32Array.from(rows, (row) => Number(row.label)) } : {}),
    },
  };
}
