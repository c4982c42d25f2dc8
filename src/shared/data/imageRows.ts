import { closeSync, openSync, readSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import type { DataFormat } from './dataFormat';

/**
 * The (image, label) pairs of an image-classification row file (CSV, TSV or JSONL), read for the editor's checks: the
 * image path resolved against the data file's folder, as the trainer resolves it. Only the first bytes of a large file
 * are read, so a keystroke never waits for a whole dataset; rows without an image or a label are left out (the row
 * checks of dataChecks.ts report them).
 */

export interface ImageRow {
  /** 1-based line in the data file. */
  readonly line: number;
  /** As written in the row. */
  readonly written: string;
  readonly absolute: string;
  readonly label: string;
}

export interface ImageRowColumns {
  readonly image: string;
  readonly label: string;
}

/** Bytes of a row file read for its image rows; beyond this, the rows are a prefix of the file. */
export const IMAGE_ROWS_READ_BYTES = 8 * 2 ** 20;

export function readImageRows(dataFile: string, format: DataFormat, columns: ImageRowColumns): { rows: ImageRow[]; wholeFile: boolean } {
  const { text, wholeFile } = readPrefix(dataFile);
  const records = format === 'jsonl' ? jsonlRecords(text) : delimitedRecords(text, format);
  const folder = dirname(dataFile);
  const rows: ImageRow[] = [];
  for (const { line, record } of records) {
    const image = record[columns.image];
    const label = record[columns.label];
    if (typeof image !== 'string' || image.trim() === '' || label === undefined || label === null || String(label).trim() === '') continue;
    rows.push({ line, written: image, absolute: isAbsolute(image) ? image : resolve(folder, image), label: String(label) });
  }
  return { rows, wholeFile };
}

function readPrefix(path: string): { text: string; wholeFile: boolean } {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(IMAGE_ROWS_READ_BYTES + 1);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    const wholeFile = read <= IMAGE_ROWS_READ_BYTES;
    let text = buffer.subarray(0, Math.min(read, IMAGE_ROWS_READ_BYTES)).toString('utf8');
    // A cut file ends mid-row: keep complete lines only.
    if (!wholeFile) text = text.slice(0, text.lastIndexOf('\n') + 1);
    return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, wholeFile };
  } finally {
    closeSync(fd);
  }
}

type Record_ = Readonly<Record<string, unknown>>;

function jsonlRecords(text: string): { line: number; record: Record_ }[] {
  const records: { line: number; record: Record_ }[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const value: unknown = JSON.parse(line);
      if (value && typeof value === 'object' && !Array.isArray(value)) records.push({ line: i + 1, record: value as Record_ });
    } catch {
      // A malformed line is the row checks' to report.
    }
  });
  return records;
}

function delimitedRecords(text: string, format: 'csv' | 'tsv'): { line: number; record: Record_ }[] {
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parseCsv(text, {
      delimiter: format === 'csv' ? ',' : '\t',
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
      quote: format === 'tsv' ? false : '"',
    }) as { record: string[]; info: { lines: number } }[];
  } catch {
    return [];
  }
  const header = parsed[0]?.record.map((name) => name.trim()) ?? [];
  return parsed.slice(1).map(({ record, info }) => ({
    line: info.lines,
    record: Object.fromEntries(header.map((column, i) => [column, record[i]])),
  }));
}
