import { createRandom, seededPermutation } from '../data/seededRandom';

const MAX_ITERATIONS = 30;
/** Rows the centres are fitted on; a larger corpus is sampled. */
export const FIT_SAMPLE = 2000;

/**
 * k-means clusters of the rows (squared Euclidean distance, k-means++ seeding from a seeded generator, then
 * Lloyd's iterations until no row moves), for colouring the map by cluster. Clusters are numbered by size, largest
 * first, so that the same data gives the same numbers and colours.
 */
export function kMeans(rows: readonly Float32Array[], k: number, seed: number): Int32Array {
  const n = rows.length;
  const count = Math.max(1, Math.min(k, n));
  const random = createRandom(seed);
  // The centres are fitted on a seeded sample, then every row goes to its nearest: for colouring a map, a sample of
  // a few thousand finds the same clusters at a fraction of the cost (10,000 rows × 384 dimensions: 5 times less).
  const sample =
    n <= FIT_SAMPLE
      ? rows
      : seededPermutation(n, Math.floor(random() * 2 ** 32))
          .slice(0, FIT_SAMPLE)
          .map((i) => rows[i]!);
  const centres = seedCentres(sample, count, random);
  const fitted = new Int32Array(sample.length).fill(-1);
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    let moved = 0;
    sample.forEach((row, i) => {
      const nearest = nearestCentre(row, centres).index;
      if (nearest !== fitted[i]) moved++;
      fitted[i] = nearest;
    });
    if (moved === 0) break;
    updateCentres(sample, fitted, centres);
  }
  const assignment = sample === rows ? fitted : Int32Array.from(rows, (row) => nearestCentre(row, centres).index);
  return renumberBySize(assignment, count);
}

function seedCentres(rows: readonly Float32Array[], count: number, random: () => number): Float64Array[] {
  const centres = [Float64Array.from(rows[Math.floor(random() * rows.length)]!)];
  const distances = Float64Array.from(rows, (row) => squaredDistance(row, centres[0]!));
  while (centres.length < count) {
    let total = 0;
    for (const distance of distances) total += distance;
    let target = random() * total;
    let chosen = distances.findIndex((distance) => (target -= distance) <= 0);
    // All remaining rows sit on a centre already (repeated vectors): any row will do.
    if (chosen < 0 || total === 0) chosen = centres.length % rows.length;
    const centre = Float64Array.from(rows[chosen]!);
    centres.push(centre);
    rows.forEach((row, i) => (distances[i] = Math.min(distances[i]!, squaredDistance(row, centre))));
  }
  return centres;
}

function nearestCentre(row: Float32Array, centres: readonly Float64Array[]): { index: number; distance: number } {
  let best = { index: 0, distance: Number.POSITIVE_INFINITY };
  centres.forEach((centre, index) => {
    const distance = squaredDistance(row, centre);
    if (distance < best.distance) best = { index, distance };
  });
  return best;
}

/** Each centre becomes the mean of its rows; an emptied centre keeps its place. */
function updateCentres(rows: readonly Float32Array[], assignment: Int32Array, centres: Float64Array[]): void {
  const sums = centres.map((centre) => new Float64Array(centre.length));
  const sizes = new Int32Array(centres.length);
  rows.forEach((row, i) => {
    const sum = sums[assignment[i]!]!;
    for (let j = 0; j < row.length; j++) sum[j]! += row[j]!;
    sizes[assignment[i]!]!++;
  });
  centres.forEach((centre, c) => {
    if (sizes[c] === 0) return;
    for (let j = 0; j < centre.length; j++) centre[j] = sums[c]![j]! / sizes[c]!;
  });
}

function renumberBySize(assignment: Int32Array, count: number): Int32Array {
  const sizes = new Array<number>(count).fill(0);
  for (const cluster of assignment) sizes[cluster]!++;
  const order = sizes.map((_, c) => c).sort((a, b) => sizes[b]! - sizes[a]! || a - b);
  const renamed = new Int32Array(count);
  order.forEach((cluster, rank) => (renamed[cluster] = rank));
  return assignment.map((cluster) => renamed[cluster]!);
}

function squaredDistance(row: Float32Array, centre: Float64Array): number {
  let sum = 0;
  for (let j = 0; j < row.length; j++) {
    const difference = row[j]! - centre[j]!;
    sum += difference * difference;
  }
  return sum;
}
