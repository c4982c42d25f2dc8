export type DataFormat = 'jsonl' | 'csv' | 'tsv';

/** The format named in the config, or the one the file extension implies; undefined when neither says. */
export function resolveDataFormat(file: string, configured: string | undefined): DataFormat | undefined {
  if (configured === 'jsonl' || configured === 'csv' || configured === 'tsv') return configured;
  const lower = file.toLowerCase();
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.tsv') || lower.endsWith('.tab')) return 'tsv';
  return undefined;
}
