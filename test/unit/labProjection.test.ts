import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { createRandom } from '../../src/trainer/data/seededRandom';
import { FIT_SAMPLE, kMeans } from '../../src/trainer/lab/kMeans';
import { pca } from '../../src/trainer/lab/pca';
import { umapProjection } from '../../src/trainer/lab/umapProjection';
import { TEST_PYTHON } from '../helpers/pythonPeer';

/** Rows with a few strong directions and noise, like embeddings: `n` rows of `d` dimensions around `centres` centres. */
function clusteredRows(n: number, d: number, centres: number, seed: number): Float32Array[] {
  const random = createRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const middles = Array.from({ length: centres }, () => Array.from({ length: d }, () => 2 * gaussian()));
  return Array.from({ length: n }, (_, i) =>
    Float32Array.from({ length: d }, (_, j) => middles[i % centres]![j]! + gaussian() * (1 + j / d)),
  );
}

const REFERENCE = String.raw`
import json, sys
import numpy as np
from sklearn.decomposition import PCA
cases = json.load(sys.stdin)
out = []
for rows in cases:
    model = PCA(n_components=2, svd_solver="full")
    coordinates = model.fit_transform(np.array(rows, dtype=np.float64))
    out.append({"coordinates": coordinates.T.tolist(), "variance": model.explained_variance_.tolist()})
print(json.dumps(out))
`;

function sklearnUnavailable(): string | undefined {
  const probe = spawnSync(TEST_PYTHON, ['-c', 'import numpy, sklearn'], { encoding: 'utf8' });
  if (probe.error) return `${TEST_PYTHON} is not available (${probe.error.message})`;
  if (probe.status !== 0) return `${TEST_PYTHON} lacks numpy or scikit-learn`;
  return undefined;
}

test('PCA matches scikit-learn’s PCA up to the sign of each component', (t) => {
  const reason = sklearnUnavailable();
  if (reason) return t.skip(`cross-check skipped: ${reason}`);
  // Tall (many rows), wide (fewer rows than dimensions) and unit-length rows, as the Lab's cache holds.
  const unit = clusteredRows(300, 64, 6, 3).map((row) => {
    const norm = Math.hypot(...row);
    return row.map((value) => value / norm);
  });
  // Rank 3 in 8 dimensions: the block of the power iteration is wider than the data's rank.
  const lowRank = clusteredRows(60, 3, 2, 4).map((row) => Float32Array.from([...row, ...row, 0, row[0]! - row[1]!]));
  const cases = [clusteredRows(500, 40, 4, 1), clusteredRows(20, 50, 3, 2), unit, lowRank];
  const run = spawnSync(TEST_PYTHON, ['-c', REFERENCE], {
    input: JSON.stringify(cases.map((rows) => rows.map((row) => [...row]))),
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  const expected = JSON.parse(run.stdout) as { coordinates: number[][]; variance: number[] }[];
  cases.forEach((rows, c) => {
    const actual = pca(rows);
    const reference = expected[c]!;
    const scale = Math.sqrt(reference.variance[0]!);
    for (const component of [0, 1]) {
      const mine = actual.coordinates[component]!;
      const theirs = reference.coordinates[component]!;
      const sign = Math.sign(mine.reduce((sum, value, i) => sum + value * theirs[i]!, 0));
      const worst = Math.max(...theirs.map((value, i) => Math.abs(sign * mine[i]! - value)));
      assert.ok(worst < 1e-4 * scale, `case ${c}, component ${component}: off by ${worst} (scale ${scale})`);
      assert.ok(Math.abs(actual.explainedVariance[component]! - reference.variance[component]!) < 1e-6 * reference.variance[0]!);
    }
  });
});

test('PCA finds the direction of largest spread and orders the components by variance', () => {
  // Points along (1, 1, 0) with a little uncorrelated spread along (1, −1, 0): the first component is ±(1, 1, 0)/√2.
  const rows = Array.from({ length: 42 }, (_, i) => {
    const along = Math.floor(i / 2) - 10;
    const across = i % 2 === 0 ? 0.5 : -0.5;
    return Float32Array.from([along + across, along - across, 0]);
  });
  const result = pca(rows);
  assert.ok(Math.abs(Math.abs(result.components[0]![0]!) - Math.SQRT1_2) < 1e-7);
  assert.ok(Math.abs(Math.abs(result.components[0]![1]!) - Math.SQRT1_2) < 1e-7);
  assert.ok(result.explainedVariance[0]! > result.explainedVariance[1]!);
  assert.throws(() => pca([]), /at least one row/);
});

test('UMAP with a seed gives the same layout every time, and another seed another layout', () => {
  const rows = clusteredRows(120, 16, 3, 5);
  const [x1, y1] = umapProjection(rows, 42);
  const [x2, y2] = umapProjection(rows, 42);
  assert.deepEqual([...x1], [...x2]);
  assert.deepEqual([...y1], [...y2]);
  const [x3] = umapProjection(rows, 7);
  assert.notDeepEqual([...x1], [...x3]);
  assert.ok([...x1, ...y1].every(Number.isFinite));
  // The layout keeps the clusters apart: a point's nearest point in 2D is almost always from its own cluster.
  let same = 0;
  for (let i = 0; i < rows.length; i++) {
    let best = -1;
    let bestDistance = Infinity;
    for (let j = 0; j < rows.length; j++) {
      const distance = j === i ? Infinity : (x1[i]! - x1[j]!) ** 2 + (y1[i]! - y1[j]!) ** 2;
      if (distance < bestDistance) [best, bestDistance] = [j, distance];
    }
    if (best % 3 === i % 3) same++;
  }
  assert.ok(same / rows.length > 0.9, `only ${same} of ${rows.length} points sit next to their own cluster`);
});

test('k-means recovers separated clusters, numbered by size, the same for the same seed', () => {
  // Clusters of 20, 50 and 30 rows, 40 apart along the first dimension, listed smallest first.
  const random = createRandom(9);
  const sizes = [20, 50, 30];
  const origins = sizes.flatMap((size, c) => new Array<number>(size).fill(c));
  const rows = origins.map((c) => Float32Array.from({ length: 8 }, (_, j) => (j === 0 ? 40 * c : 0) + random() * 4));
  const clusters = kMeans(rows, 3, 1);
  assert.deepEqual([...clusters], [...kMeans(rows, 3, 1)]);
  // Largest first: the 50 rows are cluster 0, the 30 cluster 1, the 20 cluster 2.
  assert.deepEqual(
    [...clusters],
    origins.map((c) => [2, 0, 1][c]),
  );
  assert.equal(kMeans(rows.slice(0, 2), 5, 1).length, 2, 'more clusters than rows asked for is not an error');
});

test('k-means fits a large corpus on a sample and still assigns every row to its cluster', () => {
  const random = createRandom(4);
  const sizes = [1000, 2500, 1500];
  assert.ok(sizes.reduce((a, b) => a + b) > FIT_SAMPLE, 'more rows than the fitting sample');
  const origins = sizes.flatMap((size, c) => new Array<number>(size).fill(c));
  const rows = origins.map((c) => Float32Array.from({ length: 4 }, (_, j) => (j === c ? 30 : 0) + random() * 4));
  const clusters = kMeans(rows, 3, 2);
  assert.deepEqual(
    [...clusters],
    origins.map((c) => [2, 0, 1][c]),
  );
});
