import { readFileSync, statSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import type { DataFormat } from './dataFormat';

/** What validation needs to know about a data file without loading it for training. */
export type DataFileSummary =
  | {
      readonly ok: true;
      readonly format: DataFormat;
      readonly columns: readonly string[];
      /** Rows that load; bad rows are not counted. */
      readonly rows: number;
      /** The first rows that would fail to load, by 1-based file line, with why. */
      readonly badRows: readonly BadRow[];
      readonly badRowCount: number;
    }
  | { readonly ok: false; readonly reason: 'missing' | 'unreadable'; readonly message: string };

export interface BadRow {
  readonly line: number;
  readonly message: string;
}

const MAX_BAD_ROWS_REPORTED = 3;

/** Reads data file headers and counts rows, caching by path, size and mtime so that validating on each keystroke stays cheap. */
export class DataFileProbe {
  private readonly cache = new Map<string, { stamp: string; summary: DataFileSummary }>();

  summarize(absolutePath: string, format: DataFormat): DataFileSummary {
    let stamp: string;
    try {
      const stat = statSync(absolutePath);
      if (!stat.isFile()) return { ok: false, reason: 'unreadable', message: 'is not a file' };
      stamp = `${format}:${stat.size}:${stat.mtimeMs}`;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'ENOENT'
        ? { ok: false, reason: 'missing', message: 'does not exist' }
        : { ok: false, reason: 'unreadable', message: `cannot be read (${code ?? String(error)})` };
    }
    const cached = this.cache.get(absolutePath);
    if (cached?.stamp === stamp) return cached.summary;
    const summary = readSummary(absolutePath, format);
    this.cache.set(absolutePath, { stamp, summary });
    return summary;
  }
}

function readSummary(absolutePath: string, format: DataFormat): DataFileSummary {
  let text: string;
  try {
    text = readFileSync(absolutePath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, reason: 'unreadable', message: `cannot be read (${code ?? String(error)})` };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return format === 'jsonl' ? summarizeJsonl(text) : summarizeDelimited(text, format);
}

function summarizeJsonl(text: string): DataFileSummary {
  const columns = new Set<string>();
  const badRows: BadRow[] = [];
  let badRowCount = 0;
  let rows = 0;
  const reject = (line: number, message: string) => {
    badRowCount++;
    if (badRows.length < MAX_BAD_ROWS_REPORTED) badRows.push({ line, message });
  };
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (error) {
      reject(i + 1, `is not valid JSON (${(error as Error).message})`);
      continue;
    }
    if (!row || typeof row !== 'object' || Array.isArray(row)) {
      reject(i + 1, 'is not a JSON object');
      continue;
    }
    rows++;
    for (const key of Object.keys(row)) columns.add(key);
  }
  return { ok: true, format: 'jsonl', columns: [...columns], rows, badRows, badRowCount };
}

interface CsvRecordWithInfo {
  record: string[];
  info: { lines: number };
}

function summarizeDelimited(text: string, format: 'csv' | 'tsv'): DataFileSummary {
  let records: CsvRecordWithInfo[];
  try {
    records = parseCsv(text, {
      delimiter: format === 'csv' ? ',' : '\t',
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      quote: format === 'tsv' ? false : '"',
    }) as CsvRecordWithInfo[];
  } catch (error) {
    return { ok: false, reason: 'unreadable', message: `is not valid ${format.toUpperCase()} (${(error as Error).message})` };
  }
  if (records.length === 0) return { ok: true, format, columns: [], rows: 0, badRows: [], badRowCount: 0 };
  const header = records[0]!.record.map((name) => name.trim());
  const badRows: BadRow[] = [];
  let badRowCount = 0;
  for (const { record, info } of records.slice(1)) {
    if (record.length === header.length) continue;
    badRowCount++;
    if (badRows.length < MAX_BAD_ROWS_REPORTED)
      badRows.push({ line: info.lines, message: `has ${record.length} fields, but the header has ${header.length}` });
  }
  return { ok: true, format, columns: header, rows: records.length - 1 - badRowCount, badRows, badRowCount };
}
