/** A curve as parallel arrays of x (ascending) and y; null y is a gap. */
export interface XY {
  readonly x: number[];
  readonly y: (number | null)[];
}

/**
 * Reduces a curve to at most two points per bucket for drawing: the lowest and the highest y of each x-range
 * bucket, in x order. A spike of one step survives, which plain decimation would hide, and the count stays about
 * 2 × buckets however long the run. Points outside [xMin, xMax] are dropped, except the nearest one on each side
 * so that the line runs to the edge of the view. Curves already small enough are returned as they are.
 */
export function downsampleMinMax(
  x: readonly number[],
  y: readonly (number | null)[],
  buckets: number,
  xMin = x[0] ?? 0,
  xMax = x[x.length - 1] ?? 0,
): XY {
  const n = x.length;
  if (n <= buckets * 2 || buckets < 1 || !(xMax > xMin)) return { x: [...x], y: [...y] };
  const outX: number[] = [];
  const outY: (number | null)[] = [];
  const width = (xMax - xMin) / buckets;
  let i = 0;
  while (i < n && x[i]! < xMin) i++;
  if (i > 0) {
    outX.push(x[i - 1]!);
    outY.push(y[i - 1] ?? null);
  }
  while (i < n && x[i]! <= xMax) {
    const bucket = Math.min(buckets - 1, Math.floor((x[i]! - xMin) / width));
    const end = xMin + (bucket + 1) * width;
    let minI = -1;
    let maxI = -1;
    let sawGap = false;
    for (; i < n && (x[i]! < end || bucket === buckets - 1) && x[i]! <= xMax; i++) {
      const v = y[i];
      if (v === null || v === undefined || !Number.isFinite(v)) {
        sawGap = true;
        continue;
      }
      if (minI < 0 || v < y[minI]!) minI = i;
      if (maxI < 0 || v > y[maxI]!) maxI = i;
    }
    if (minI < 0) {
      if (sawGap) {
        outX.push(x[i - 1]!);
        outY.push(null);
      }
      continue;
    }
    const first = Math.min(minI, maxI);
    const second = Math.max(minI, maxI);
    outX.push(x[first]!);
    outY.push(y[first]!);
    if (second !== first) {
      outX.push(x[second]!);
      outY.push(y[second]!);
    }
  }
  if (i < n) {
    outX.push(x[i]!);
    outY.push(y[i] ?? null);
  }
  return { x: outX, y: outY };
}
