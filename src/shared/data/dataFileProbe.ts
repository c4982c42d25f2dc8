import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import type { DataFormat } from './dataFormat';
import { rowToExample, type ColumnNames } from './exampleMapping';
import { ImageFolderProbe } from './imageFolderProbe';
import { describeRowProblemBriefly } from './rowProblem';
import { summarizeWholeFile } from './wholeFileSummary';
import type { ExampleKind } from './trainingExamples';

/** What validation needs to know about a data file without loading it for training. */
export type DataFileSummary =
  | {
      readonly ok: true;
      readonly format: DataFormat;
      readonly columns: readonly string[];
      /** Rows that parse; bad rows are not counted. An estimate from line count when `sampledRows` is set. */
      readonly rows: number;
      /** The first rows that would fail to load, by 1-based file line, with why. */
      readonly badRows: readonly BadRow[];
      readonly badRowCount: number;
      /** Per column: the first lines (up to 3) whose value is missing or empty, and how many such rows there are. */
      readonly emptyValues: ReadonlyMap<string, { readonly count: number; readonly lines: readonly number[] }>;
      /**
       * Rows that parse but that the trainer's row rule (`rowToExample`) refuses for a reason other than a missing or
       * empty value, which `emptyValues` already tells: a number where text belongs, a score that is not a number, a
       * label contrastive loss cannot use. Only counted when `summarize` was given the rule's kind and columns.
       */
      readonly rejectedRows: readonly BadRow[];
      readonly rejectedRowCount: number;
      /** Every row the loader would drop (malformed, or refused by the row rule for any reason). */
      readonly unusableRowCount: number;
      /** Set for a large file, of which only the first rows were parsed; the other counts cover those rows only. */
      readonly sampledRows?: number;
      /** The first rows, column by column, for a glance at the data (the hover on `data.train` shows them). */
      readonly firstRows: readonly Readonly<Record<string, unknown>>[];
    }
  | { readonly ok: false; readonly reason: 'missing' | 'unreadable'; readonly message: string };

/** What the trainer turns rows into: the example kind of the config's task and loss, and its column mapping. */
export interface RowAcceptance {
  readonly kind: ExampleKind;
  readonly columns: ColumnNames;
}

export interface BadRow {
  readonly line: number;
  readonly message: string;
}

const MAX_LINES_REPORTED = 3;
const FIRST_ROWS_KEPT = 2;
/** Files above this are sampled: a keystroke must not wait for a full parse of a large dataset. */
const FULL_PARSE_LIMIT_BYTES = 8 * 2 ** 20;
const SAMPLE_BYTES = 2 ** 20;

const OUTSIDE_UNTRUSTED_WORKSPACE =
  'is not read: it is outside the workspace, and an untrusted workspace reads no file outside its folders';

/** Reads data file headers and counts rows, caching by path, size and mtime so that validating on each keystroke stays cheap. */
export class DataFileProbe {
  private readonly cache = new Map<string, { stamp: string; summary: DataFileSummary }>();

  /**
   * `mayRead` keeps an untrusted workspace's probing inside it; a path it refuses is not even looked at. The model
   * check reads the same boundary from here, so one probe carries it for every file validation touches.
   */
  constructor(
    readonly mayRead: (absolutePath: string) => boolean = () => true,
    /** The CLI reads every row of a large file, as `train` will; the language server samples it (`sampledRows`). */
    private readonly largeFiles: 'sample' | 'read-whole' = 'sample',
  ) {
    this.images = new ImageFolderProbe(mayRead);
  }

  /** Image folders (task image-classification), behind the same workspace boundary and cached alongside. */
  readonly images: ImageFolderProbe;

  /** With `acceptance`, each row that parses is also put through the trainer's row rule, so that validation sees what training would refuse. */
  summarize(absolutePath: string, format: DataFormat, acceptance?: RowAcceptance): DataFileSummary {
    if (!this.mayRead(absolutePath)) return { ok: false, reason: 'unreadable', message: OUTSIDE_UNTRUSTED_WORKSPACE };
    let stamp: string;
    let size: number;
    try {
      const stat = statSync(absolutePath);
      if (!stat.isFile()) return { ok: false, reason: 'unreadable', message: 'is not a file' };
      stamp = `${format}:${stat.size}:${stat.mtimeMs}:${acceptance ? JSON.stringify(acceptance) : ''}`;
      size = stat.size;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'ENOENT'
        ? { ok: false, reason: 'missing', message: 'does not exist' }
        : { ok: false, reason: 'unreadable', message: `cannot be read (${code ?? String(error)})` };
    }
    const cached = this.cache.get(absolutePath);
    if (cached?.stamp === stamp) return cached.summary;
    const summary = readSummary(absolutePath, format, size, acceptance, this.largeFiles);
    this.cache.set(absolutePath, { stamp, summary });
    return summary;
  }
}

function readSummary(
  absolutePath: string,
  format: DataFormat,
  size: number,
  acceptance: RowAcceptance | undefined,
  largeFiles: 'sample' | 'read-whole',
): DataFileSummary {
  try {
    if (size <= FULL_PARSE_LIMIT_BYTES) return summarize(stripBom(readFileSync(absolutePath, 'utf8')), format, acceptance);
    if (largeFiles === 'read-whole') return summarizeWholeFile(absolutePath, format, (text) => summarize(text, format, acceptance));
    const { sample, lines } = sampleAndCountLines(absolutePath);
    const summary = summarize(stripBom(sample), format, acceptance);
    if (!summary.ok) return summary;
    const headerLines = format === 'jsonl' ? 0 : 1;
    return { ...summary, sampledRows: summary.rows, rows: Math.max(0, lines - headerLines - summary.badRowCount) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, reason: 'unreadable', message: `cannot be read (${code ?? (error as Error).message})` };
  }
}

/** The summary of a whole file's text (its byte order mark removed). */
export function summarize(text: string, format: DataFormat, acceptance: RowAcceptance | undefined): DataFileSummary {
  return format === 'jsonl' ? summarizeJsonl(text, acceptance) : summarizeDelimited(text, format, acceptance);
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** The first complete lines of a large file, and its number of non-empty lines, reading in chunks. */
function sampleAndCountLines(path: string): { sample: string; lines: number } {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(SAMPLE_BYTES);
    let lines = 0;
    let sample = '';
    let position = 0;
    let previous = 10;
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, position);
      if (read === 0) break;
      if (position === 0) {
        const text = buffer.subarray(0, read).toString('utf8');
        sample = text.slice(0, text.lastIndexOf('\n') + 1);
      }
      for (let i = 0; i < read; i++) {
        const byte = buffer[i]!;
        if (byte === 10 && previous !== 10) lines++;
        previous = byte;
      }
      position += read;
    }
    if (previous !== 10) lines++;
    return { sample, lines };
  } finally {
    closeSync(fd);
  }
}

class EmptyValueTally {
  private readonly byColumn = new Map<string, { count: number; lines: number[] }>();

  note(column: string, line: number): void {
    const entry = this.byColumn.get(column) ?? { count: 0, lines: [] };
    entry.count++;
    if (entry.lines.length < MAX_LINES_REPORTED) entry.lines.push(line);
    this.byColumn.set(column, entry);
  }

  result(): ReadonlyMap<string, { count: number; lines: number[] }> {
    return this.byColumn;
  }
}

/** Rows the trainer's row rule refuses, kept apart from the empty values that `EmptyValueTally` already reports. */
class RejectedRowTally {
  readonly rows: BadRow[] = [];
  count = 0;
  /** Refused for any reason, empty values included. */
  all = 0;

  constructor(private readonly acceptance: RowAcceptance | undefined) {}

  /** Runs the rule only when every column it reads exists somewhere in the file; a missing column is reported as such. */
  check(line: number, record: Readonly<Record<string, unknown>>, fileColumns: ReadonlySet<string>): void {
    if (!this.acceptance) return;
    const mapped = rowToExample(this.acceptance.kind, record, this.acceptance.columns);
    if (!('problem' in mapped)) return;
    this.all++;
    const { reason, column } = mapped.problem;
    if (reason === 'missing_column' || reason === 'empty_value' || (column !== undefined && !fileColumns.has(column))) return;
    this.count++;
    if (this.rows.length < MAX_LINES_REPORTED) this.rows.push({ line, message: describeRowProblemBriefly(mapped.problem) });
  }
}

function isEmptyValue(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    (typeof value === 'string' && value.trim() === '') ||
    (Array.isArray(value) && value.length === 0)
  );
}

function summarizeJsonl(text: string, acceptance: RowAcceptance | undefined): DataFileSummary {
  const badRows: BadRow[] = [];
  let badRowCount = 0;
  const rowsParsed: { line: number; row: Record<string, unknown> }[] = [];
  const reject = (line: number, message: string) => {
    badRowCount++;
    if (badRows.length < MAX_LINES_REPORTED) badRows.push({ line, message });
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
    rowsParsed.push({ line: i + 1, row: row as Record<string, unknown> });
  }
  const columns = new Set<string>();
  for (const { row } of rowsParsed) for (const key of Object.keys(row)) columns.add(key);
  // A column any row has is a column of the file; the rows without a value for it are counted, not ignored.
  const empty = new EmptyValueTally();
  const rejected = new RejectedRowTally(acceptance);
  for (const { line, row } of rowsParsed) {
    for (const column of columns) if (isEmptyValue(row[column])) empty.note(column, line);
    rejected.check(line, row, columns);
  }
  const firstRows = rowsParsed.slice(0, FIRST_ROWS_KEPT).map(({ row }) => row);
  return {
    ok: true,
    format: 'jsonl',
    columns: [...columns],
    rows: rowsParsed.length,
    badRows,
    badRowCount,
    emptyValues: empty.result(),
    rejectedRows: rejected.rows,
    rejectedRowCount: rejected.count,
    unusableRowCount: badRowCount + rejected.all,
    firstRows,
  };
}

interface CsvRecordWithInfo {
  record: string[];
  info: { lines: number };
}

function summarizeDelimited(text: string, format: 'csv' | 'tsv', acceptance: RowAcceptance | undefined): DataFileSummary {
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
  if (records.length === 0) {
    return {
      ok: true,
      format,
      columns: [],
      rows: 0,
      badRows: [],
      badRowCount: 0,
      emptyValues: new Map(),
      rejectedRows: [],
      rejectedRowCount: 0,
      unusableRowCount: 0,
      firstRows: [],
    };
  }
  const header = records[0]!.record.map((name) => name.trim());
  const badRows: BadRow[] = [];
  let badRowCount = 0;
  const empty = new EmptyValueTally();
  const rejected = new RejectedRowTally(acceptance);
  const headerColumns = new Set(header);
  for (const { record, info } of records.slice(1)) {
    if (record.length !== header.length) {
      badRowCount++;
      if (badRows.length < MAX_LINES_REPORTED)
        badRows.push({ line: info.lines, message: `has ${record.length} fields, but the header has ${header.length}` });
      continue;
    }
    header.forEach((column, i) => {
      if (isEmptyValue(record[i])) empty.note(column, info.lines);
    });
    rejected.check(info.lines, Object.fromEntries(header.map((column, i) => [column, record[i]])), headerColumns);
  }
  const firstRows = records
    .slice(1)
    .filter(({ record }) => record.length === header.length)
    .slice(0, FIRST_ROWS_KEPT)
    .map(({ record }) => Object.fromEntries(header.map((column, i) => [column, record[i]])));
  return {
    ok: true,
    format,
    columns: header,
    rows: records.length - 1 - badRowCount,
    badRows,
    badRowCount,
    emptyValues: empty.result(),
    rejectedRows: rejected.rows,
    rejectedRowCount: rejected.count,
    unusableRowCount: badRowCount + rejected.all,
    firstRows,
  };
}
