/**
 * Principal component analysis for the Lab's map: the rows centred, their covariance matrix (d × d, in float64),
 * then its leading eigenvectors by block power iteration. For the map's sizes (10,000 rows of a few hundred
 * dimensions) the covariance costs n·d²/2 multiply-adds once, and each iteration only d² per component, so this
 * stays within a second where an SVD of the whole n × d matrix would not.
 */
export interface PcaResult {
  /** The projected rows: `coordinates[c][i]` is row i on component c. */
  readonly coordinates: Float64Array[];
  /** Each component's unit direction, signed so that its largest-magnitude entry is positive. */
  readonly components: Float64Array[];
  /** The variance along each component (eigenvalues of the covariance, divided by n − 1 as sklearn does). */
  readonly explainedVariance: number[];
}

// Clustered embeddings converge in tens of iterations; noise with no eigen-gap, whose directions are arbitrary anyway, stops here.
const MAX_ITERATIONS = 1000;
const TOLERANCE = 1e-12;
/** Vectors beyond the wanted ones in the block, and how often (in iterations) the eigenvectors are extracted. */
const OVERSAMPLING = 8;
const RITZ_EVERY = 5;

export function pca(rows: readonly Float32Array[], components = 2): PcaResult {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  if (n === 0 || d === 0) throw new Error('PCA needs at least one row of at least one dimension.');
  const count = Math.min(components, d);
  const mean = columnMeans(rows, d);
  const covariance = covarianceOf(rows, mean, d);
  const basis = leadingEigenvectors(covariance, d, count);
  const coordinates = basis.map((direction) => projectRows(rows, mean, direction));
  const explainedVariance = basis.map((direction) => rayleigh(covariance, direction, d));
  return { coordinates, components: basis, explainedVariance };
}

function columnMeans(rows: readonly Float32Array[], d: number): Float64Array {
  const mean = new Float64Array(d);
  for (const row of rows) for (let j = 0; j < d; j++) mean[j]! += row[j]!;
  for (let j = 0; j < d; j++) mean[j]! /= rows.length;
  return mean;
}

/** Rows are centred and summed into the upper triangle this many at a time (then mirrored). */
const ROWS_PER_PASS = 4;

/**
 * The upper triangle, summed ROWS_PER_PASS centred rows at a time: each pass reads and writes the d² sums once for
 * four rows, which is what bounds this loop (it took 1.5 s for 10,000 × 384 one row at a time, and about a third
 * of that four at a time).
 */
function covarianceOf(rows: readonly Float32Array[], mean: Float64Array, d: number): Float64Array {
  const sums = new Float64Array(d * d);
  const block = Array.from({ length: ROWS_PER_PASS }, () => new Float64Array(d));
  for (let start = 0; start < rows.length; start += ROWS_PER_PASS) {
    block.forEach((centred, r) => {
      const row = rows[start + r];
      for (let j = 0; j < d; j++) centred[j] = row ? row[j]! - mean[j]! : 0;
    });
    addOuterProducts(sums, block as [Float64Array, Float64Array, Float64Array, Float64Array], d);
  }
  const divisor = Math.max(1, rows.length - 1);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const value = sums[i * d + j]! / divisor;
      sums[i * d + j] = value;
      sums[j * d + i] = value;
    }
  }
  return sums;
}

function addOuterProducts(sums: Float64Array, [a, b, c, e]: [Float64Array, Float64Array, Float64Array, Float64Array], d: number): void {
  for (let i = 0; i < d; i++) {
    const ai = a[i]!;
    const bi = b[i]!;
    const ci = c[i]!;
    const ei = e[i]!;
    const offset = i * d;
    for (let j = i; j < d; j++) sums[offset + j]! += ai * a[j]! + bi * b[j]! + ci * c[j]! + ei * e[j]!;
  }
}

/**
 * Block power iteration (orthogonal iteration): multiply the block by the matrix and re-orthonormalize it. Extra
 * vectors ride along, so that the wanted subspace converges at the rate of the gap to the first unwanted eigenvalue.
 * Every few iterations Rayleigh–Ritz picks the eigenvectors within the block; it stops when they stop turning (the
 * block's own vectors would each wait on the gap to their neighbour, which in embeddings is often tiny). The start is
 * fixed, so the result is too.
 */
function leadingEigenvectors(matrix: Float64Array, d: number, count: number): Float64Array[] {
  const width = Math.min(d, count + OVERSAMPLING);
  let block = Array.from({ length: width }, (_, c) => startVector(d, c));
  orthonormalize(block);
  let ritz: Float64Array[] = [];
  for (let iteration = 1; iteration <= MAX_ITERATIONS; iteration++) {
    block = block.map((vector) => multiply(matrix, vector, d));
    orthonormalize(block);
    if (iteration % RITZ_EVERY !== 0 && iteration !== MAX_ITERATIONS) continue;
    const next = ritzVectors(matrix, block, d).slice(0, count);
    const change = ritz.length ? Math.max(...next.map((vector, c) => 1 - Math.abs(dot(vector, ritz[c]!)))) : Infinity;
    ritz = next;
    if (change < TOLERANCE) break;
  }
  return ritz.map(signed);
}

function startVector(d: number, c: number): Float64Array {
  // Deterministic and not orthogonal to any particular eigenvector in practice: a smooth, irregular pattern.
  return Float64Array.from({ length: d }, (_, j) => Math.sin(1 + (j + 1) * (c + 1) * 0.7071) + 0.01 * (c + 1));
}

/** Eigenvectors of the matrix restricted to the block's span, largest eigenvalue first (Jacobi on the small matrix). */
function ritzVectors(matrix: Float64Array, block: Float64Array[], d: number): Float64Array[] {
  const w = block.length;
  const images = block.map((vector) => multiply(matrix, vector, d));
  const small = Array.from({ length: w }, (_, i) => Array.from({ length: w }, (_, j) => dot(block[i]!, images[j]!)));
  const { values, vectors } = jacobiEigen(small);
  const order = values.map((_, i) => i).sort((a, b) => values[b]! - values[a]!);
  return order.map((k) => {
    const out = new Float64Array(d);
    for (let i = 0; i < w; i++) {
      const weight = vectors[i]![k]!;
      for (let j = 0; j < d; j++) out[j]! += weight * block[i]![j]!;
    }
    return out;
  });
}

/** Cyclic Jacobi rotations for a small symmetric matrix: eigenvalues and eigenvectors as columns. */
function jacobiEigen(input: number[][]): { values: number[]; vectors: number[][] } {
  const n = input.length;
  const a = input.map((row) => [...row]);
  const v: number[][] = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p]![q]! ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p]![q]!) < 1e-300) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: a.map((row, i) => row[i]!), vectors: v };
}

function multiply(matrix: Float64Array, vector: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let sum = 0;
    const offset = i * d;
    for (let j = 0; j < d; j++) sum += matrix[offset + j]! * vector[j]!;
    out[i] = sum;
  }
  return out;
}

/**
 * Modified Gram–Schmidt, twice over (one pass leaves rounding errors that a nearly dependent vector magnifies), in
 * place. A vector with almost nothing left after the projections (data of lower rank than the block) becomes zero:
 * normalized, its rounding noise would masquerade as a direction that is not orthogonal to the others.
 */
function orthonormalize(vectors: Float64Array[]): void {
  vectors.forEach((vector, i) => {
    const before = Math.sqrt(dot(vector, vector));
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < i; k++) {
        const projection = dot(vector, vectors[k]!);
        for (let j = 0; j < vector.length; j++) vector[j]! -= projection * vectors[k]![j]!;
      }
    }
    const norm = Math.sqrt(dot(vector, vector));
    const keep = norm > 1e-10 * before && norm > 1e-300;
    for (let j = 0; j < vector.length; j++) vector[j] = keep ? vector[j]! / norm : 0;
  });
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let j = 0; j < a.length; j++) sum += a[j]! * b[j]!;
  return sum;
}

function rayleigh(matrix: Float64Array, vector: Float64Array, d: number): number {
  return dot(vector, multiply(matrix, vector, d));
}

function signed(vector: Float64Array): Float64Array {
  let largest = 0;
  for (const value of vector) if (Math.abs(value) > Math.abs(largest)) largest = value;
  return largest < 0 ? vector.map((value) => -value) : vector;
}

function projectRows(rows: readonly Float32Array[], mean: Float64Array, direction: Float64Array): Float64Array {
  return Float64Array.from(rows, (row) => {
    let sum = 0;
    for (let j = 0; j < direction.length; j++) sum += (row[j]! - mean[j]!) * direction[j]!;
    return sum;
  });
}
