import type { LabNeighboursResult } from '../../shared/lab/labMapResult';
import { compareRankings, topK, type RankedHit } from '../../shared/lab/rankChanges';
import type { LabCorpus } from './labCorpus';
import type { CorpusVectors } from './labCorpusVectors';

/**
 * A corpus entry's k nearest entries (cosine similarity of the unit vectors, itself left out) under both models,
 * the second marked against the first as in a search: what clicking a point of the map shows.
 */
export function labNeighbours(
  corpus: LabCorpus,
  vectors: readonly [CorpusVectors, CorpusVectors],
  index: number,
  k: number,
): LabNeighboursResult {
  const [first, second] = vectors.map((model) => nearest(model.vectors, index, k));
  return {
    index,
    text: corpus.texts[index]!,
    k,
    first: first!.map((hit) => ({ ...hit, text: corpus.texts[hit.index]! })),
    second: compareRankings(first!, second!).map((hit) => ({ ...hit, text: corpus.texts[hit.index]! })),
  };
}

function nearest(vectors: readonly Float32Array[], index: number, k: number): RankedHit[] {
  const anchor = vectors[index]!;
  const scores = Float32Array.from(vectors, (vector) => {
    let sum = 0;
    for (let j = 0; j < vector.length; j++) sum += vector[j]! * anchor[j]!;
    return sum;
  });
  // The entry itself would always come first; -Infinity ranks it last, and k + 1 leaves room to drop it.
  scores[index] = Number.NEGATIVE_INFINITY;
  return topK(scores, k + 1)
    .filter((hit) => hit.index !== index)
    .slice(0, k);
}
