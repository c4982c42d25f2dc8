import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { BadRow, DataFileSummary } from './dataFileProbe';
import type { DataFormat } from './dataFormat';

type SummaryOk = Extract<DataFileSummary, { ok: true }>;
type SummarizeText = (text: string) => DataFileSummary;

/** Read at a time; a part ends at the last whole record in it, so memory stays near this whatever the file's size. */
const CHUNK_BYTES = 4 * 2 ** 20;
const MAX_LINES_REPORTED = 3;
const FIRST_ROWS_KEPT = 2;

/** One part of the file, kept after its summary is merged: what the columns first seen later need to count it. */
interface PartFacts {
  readonly columns: ReadonlySet<string>;
  readonly rows: number;
  readonly firstRowLines: readonly number[];
}

/**
 * The summary of the whole of a large file, as `summarizeText` would give for all of it at once, read in parts of
 * whole records so that the CLI's `validate` checks every row (as `train` will) in bounded memory. The language
 * server samples instead: a keystroke must not wait for this.
 */
export function summarizeWholeFile(
  path: string,
  format: DataFormat,
  summarizeText: SummarizeText,
  chunkBytes = CHUNK_BYTES,
): DataFileSummary {
  const merged = new MergedSummary(format);
  const fd = openSync(path, 'r');
  try {
    const decoder = new StringDecoder('utf8');
    const buffer = Buffer.allocUnsafe(chunkBytes);
    let pending = '';
    for (let position = 0; ; ) {
      const read = readSync(fd, buffer, 0, buffer.length, position);
      if (read === 0) break;
      position += read;
      pending += decoder.write(buffer.subarray(0, read));
      const end = lastRecordEnd(pending, format);
      if (end === 0) continue;
      const failed = merged.add(pending.slice(0, end), summarizeText);
      if (failed) return failed;
      pending = pending.slice(end);
    }
    pending += decoder.end();
    return (pending !== '' && merged.add(pending, summarizeText)) || merged.result();
  } finally {
    closeSync(fd);
  }
}

/** Just after the last newline that ends a record: for CSV, one outside quotes (an even number of `"` before it). */
function lastRecordEnd(text: string, format: DataFormat): number {
  if (format !== 'csv') return text.lastIndexOf('\n') + 1;
  return recordEnds(text).at(-1) ?? 0;
}

function recordEnds(text: string, limit = Infinity): number[] {
  const ends: number[] = [];
  let quoted = false;
  for (let i = 0; i < text.length && ends.length < limit; i++) {
    const code = text.charCodeAt(i);
    if (code === 34) quoted = !quoted;
    else if (code === 10 && !quoted) ends.push(i + 1);
  }
  return ends;
}

function newlinesIn(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

class MergedSummary {
  private linesBefore = 0;
  /** CSV and TSV: the header record's text, put before each later part so that it parses as the first did. */
  private header: string | undefined;
  private readonly parts: PartFacts[] = [];
  private readonly columns = new Set<string>();
  private rows = 0;
  private readonly badRows: BadRow[] = [];
  private badRowCount = 0;
  private readonly emptyValues = new Map<string, { count: number; lines: number[] }>();
  private readonly rejectedRows: BadRow[] = [];
  private rejectedRowCount = 0;
  private unusableRowCount = 0;
  private readonly firstRows: Readonly<Record<string, unknown>>[] = [];

  constructor(private readonly format: DataFormat) {}

  /** Merges one part of whole records; returns the failure when the part cannot be parsed. */
  add(part: string, summarizeText: SummarizeText): DataFileSummary | undefined {
    const first = this.parts.length === 0 && this.header === undefined;
    let text = first && part.charCodeAt(0) === 0xfeff ? part.slice(1) : part;
    const firstLine = this.linesBefore + 1;
    let shift = this.linesBefore;
    if (this.format !== 'jsonl') {
      if (first) this.header = text.slice(0, (this.format === 'csv' ? recordEnds(text, 1)[0] : text.indexOf('\n') + 1) || text.length);
      else {
        text = this.header! + text;
        shift -= newlinesIn(this.header!);
      }
    }
    this.linesBefore += newlinesIn(part);
    const summary = summarizeText(text);
    if (!summary.ok) {
      return first ? summary : { ...summary, message: `${summary.message} (in the rows from line ${firstLine})` };
    }
    this.merge(summary, shift, this.format === 'jsonl' ? firstJsonObjectLines(text, shift) : []);
    return undefined;
  }

  private merge(summary: SummaryOk, shift: number, firstRowLines: readonly number[]): void {
    const moved = (rows: readonly BadRow[]) => rows.map((row) => ({ ...row, line: row.line + shift }));
    for (const column of summary.columns) this.columns.add(column);
    this.rows += summary.rows;
    this.badRows.push(...moved(summary.badRows).slice(0, MAX_LINES_REPORTED - this.badRows.length));
    this.badRowCount += summary.badRowCount;
    for (const [column, empty] of summary.emptyValues)
      this.noteEmpty(
        column,
        empty.count,
        empty.lines.map((line) => line + shift),
      );
    this.rejectedRows.push(...moved(summary.rejectedRows).slice(0, MAX_LINES_REPORTED - this.rejectedRows.length));
    this.rejectedRowCount += summary.rejectedRowCount;
    this.unusableRowCount += summary.unusableRowCount;
    this.firstRows.push(...summary.firstRows.slice(0, FIRST_ROWS_KEPT - this.firstRows.length));
    this.parts.push({ columns: new Set(summary.columns), rows: summary.rows, firstRowLines });
  }

  private noteEmpty(column: string, count: number, lines: readonly number[]): void {
    const entry = this.emptyValues.get(column) ?? { count: 0, lines: [] };
    entry.count += count;
    entry.lines = [...entry.lines, ...lines].sort((a, b) => a - b).slice(0, MAX_LINES_REPORTED);
    this.emptyValues.set(column, entry);
  }

  result(): DataFileSummary {
    // A JSONL column first seen in a later part is missing from every row of the parts before: those rows lack it.
    for (const column of this.columns) {
      for (const part of this.parts) if (!part.columns.has(column) && part.rows > 0) this.noteEmpty(column, part.rows, part.firstRowLines);
    }
    return {
      ok: true,
      format: this.format,
      columns: [...this.columns],
      rows: this.rows,
      badRows: this.badRows,
      badRowCount: this.badRowCount,
      emptyValues: this.emptyValues,
      rejectedRows: this.rejectedRows,
      rejectedRowCount: this.rejectedRowCount,
      unusableRowCount: this.unusableRowCount,
      firstRows: this.firstRows,
    };
  }
}

/** The file lines of the first rows of a JSONL part that parse as objects, as the per-part summary counts its rows. */
function firstJsonObjectLines(text: string, shift: number): number[] {
  const lines: number[] = [];
  let start = 0;
  for (let index = 1; start < text.length && lines.length < MAX_LINES_REPORTED; index++) {
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end < 0 ? text.length : end);
    start = end < 0 ? text.length : end + 1;
    if (line.trim() === '') continue;
    try {
      const row: unknown = JSON.parse(line);
      if (row && typeof row === 'object' && !Array.isArray(row)) lines.push(index + shift);
    } catch {
      // A malformed row is counted among the bad rows, not among the rows lacking a value.
    }
  }
  return lines;
}
