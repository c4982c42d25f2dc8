/** Summary statistics of latency samples, in milliseconds. Percentiles use the nearest-rank method. */
export interface LatencyStats {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly p90: number;
  readonly p99: number;
  readonly mean: number;
  readonly max: number;
}

export function latencyStats(samples: readonly number[]): LatencyStats {
  if (samples.length === 0) return { n: 0, min: NaN, median: NaN, p90: NaN, p99: NaN, mean: NaN, max: NaN };
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  return {
    n: sorted.length,
    min: sorted[0]!,
    median: rank(50),
    p90: rank(90),
    p99: rank(99),
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
    max: sorted[sorted.length - 1]!,
  };
}

export interface StatsRatio {
  readonly median: number;
  readonly p90: number;
  readonly p99: number;
  readonly mean: number;
}

/** ours / theirs for each statistic; below 1 means ours is faster. */
export function statsRatio(ours: LatencyStats, theirs: LatencyStats): StatsRatio {
  return {
    median: ours.median / theirs.median,
    p90: ours.p90 / theirs.p90,
    p99: ours.p99 / theirs.p99,
    mean: ours.mean / theirs.mean,
  };
}

export function formatMs(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  return `${value >= 1 ? value.toFixed(2) : value.toFixed(3)}×`;
}

export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Raw samples keep 10 µs resolution, which is finer than the noise and keeps the JSON small. */
export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
