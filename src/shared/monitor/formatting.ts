/** Short, human forms of the numbers the monitoring UI shows, shared by the status bar and the webviews. */

/** `45s`, `6m`, `1.2h`; `?` when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  if (seconds < 48 * 3600) return `${(seconds / 3600).toFixed(1)}h`;
  return `${(seconds / 86400).toFixed(1)}d`;
}

/** Four significant digits for metrics and losses: `0.2310`, `12.35`, `1.23e-5`; `n/a` for null. */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude < 1e-3 || magnitude >= 1e5) return value.toExponential(2);
  return value.toPrecision(4).replace(/(\.\d*?[1-9])0+$|\.0+$/, '$1');
}

/** Losses show three decimals, as in `loss 0.231`. */
export function formatLoss(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e4)) return value.toExponential(2);
  return value.toFixed(3);
}

/** Throughput: `14`, `1.3k`. */
export function formatRate(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '?';
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  if (value >= 10) return `${Math.round(value)}`;
  return value.toFixed(1);
}

/** `512 B`, `1.5 MB`, `2.1 GB`. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '?';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value >= 10 ? 0 : 1)} ${units[unit]}`;
}

/** Parameter counts: `39.5k`, `22.7M`, `1.1B`. */
export function formatCount(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toFixed(1)}B`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return String(value);
}

/** `43%`. */
export function formatPercent(fraction: number): string {
  return `${Math.floor(Math.min(Math.max(fraction, 0), 1) * 100)}%`;
}

/** What one training example is, for the throughput unit: `14 pairs/s` for embedding tasks. */
export function exampleUnit(task: string | undefined): string {
  if (task === 'image-classification') return 'images';
  return task === 'embedding' ? 'pairs' : 'examples';
}

/** What one row of the data is, for the dashboard's counts: `48 training, 18 validation images`. */
export function dataRowNoun(task: string | undefined): string {
  return task === 'image-classification' ? 'images' : 'rows';
}
