import { UMAP } from 'umap-js';
import { createRandom } from '../data/seededRandom';

/** UMAP's usual settings (umap-learn's defaults), spelled out so that the map does not change with a library default. */
export const UMAP_NEIGHBOURS = 15;
export const UMAP_MIN_DIST = 0.1;

/**
 * A 2D UMAP layout of the rows with umap-js, whose every random choice (the neighbour-descent trees, the initial
 * layout and the negative samples) comes from the `random` it is given: with a seeded generator the same rows and
 * seed give the same layout. `onEpoch` reports how far the optimization is, for a progress line.
 */
export function umapProjection(
  rows: readonly Float32Array[],
  seed: number,
  onEpoch: (done: number, total: number) => void = () => undefined,
): [Float64Array, Float64Array] {
  const n = rows.length;
  // UMAP needs more points than neighbours; a tiny corpus gets fewer neighbours rather than an error.
  const nNeighbors = Math.max(2, Math.min(UMAP_NEIGHBOURS, n - 1));
  if (n < 3) return [Float64Array.from(rows, (_, i) => i), new Float64Array(n)];
  const umap = new UMAP({ nComponents: 2, nNeighbors, minDist: UMAP_MIN_DIST, random: createRandom(seed) });
  const total = umap.initializeFit(rows.map((row) => Array.from(row)));
  for (let epoch = 0; epoch < total; epoch++) {
    umap.step();
    if (epoch % 20 === 0 || epoch === total - 1) onEpoch(epoch + 1, total);
  }
  const embedding = umap.getEmbedding();
  return [Float64Array.from(embedding, (point) => point[0]!), Float64Array.from(embedding, (point) => point[1]!)];
}
