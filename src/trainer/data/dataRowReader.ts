import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { parse as parseCsv, type CsvError } from 'csv-parse';
import type { DataFormat } from '../../shared/data/dataFormat';
import { DataFileError, type RowProblem } from './dataErrors';

/** One non-blank line (JSONL) or record (CSV/TSV) of a data file, by the 1-based line it starts on. */
export type DataRow =
  /** CSV/TSV only, first: the trimmed column names. */
  | { readonly kind: 'header'; readonly line: number; readonly columns: readonly string[] }
  | { readonly kind: 'record'; readonly line: number; readonly record: Readonly<Record<string, unknown>> }
  /** A row that is broken before any column is looked at: invalid JSON, or the wrong number of fields. */
  | { readonly kind: 'unreadable'; readonly line: number; readonly problem: RowProblem };

/**
 * Streams the rows of a JSONL, CSV or TSV file, so that a large file is never held as one
 * string. Accepts a UTF-8 byte order mark and CRLF line endings, and skips blank lines, as the
 * config validator's `DataFileProbe` does, so that both count the same rows.
 *
 * Throws `DataFileError` when the file cannot be read or its CSV quoting is broken: csv-parse
 * cannot resynchronise after an unclosed quote, so no later row could be trusted.
 */
export function readDataRows(file: string, format: DataFormat): AsyncGenerator<DataRow> {
  return format === 'jsonl' ? readJsonlRows(file) : readDelimitedRows(file, format);
}

async function* readJsonlRows(file: string): AsyncGenerator<DataRow> {
  let pending = '';
  let line = 0;
  let first = true;
  try {
    for await (const chunk of createReadStream(file, { encoding: 'utf8' })) {
      pending += chunk as string;
      if (first && pending.charCodeAt(0) === 0xfeff) pending = pending.slice(1);
      first = false;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const text of lines) {
        line++;
        const row = jsonlRow(text, line);
        if (row) yield row;
      }
    }
  } catch (error) {
    throw unreadable(file, error);
  }
  if (pending !== '') {
    const row = jsonlRow(pending, line + 1);
    if (row) yield row;
  }
}

function jsonlRow(text: string, line: number): DataRow | undefined {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return {
      kind: 'unreadable',
      line,
      problem: { reason: 'invalid_json', detail: `the row is not valid JSON (${(error as Error).message})` },
    };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const what = Array.isArray(value) ? 'an array' : JSON.stringify(value);
    return {
      kind: 'unreadable',
      line,
      problem: { reason: 'not_an_object', detail: `the row is ${what}, not a JSON object with one key per column` },
    };
  }
  return { kind: 'record', line, record: value as Record<string, unknown> };
}

interface CsvRecord {
  record: string[];
  raw: string;
}

const LINE_BREAK = /\r\n|\r|\n/g;

async function* readDelimitedRows(file: string, format: 'csv' | 'tsv'): AsyncGenerator<DataRow> {
  const parser = parseCsv({
    bom: true,
    delimiter: format === 'csv' ? ',' : '\t',
    // TSV has no quoting convention: a quote character is text, as in DataFileProbe.
    quote: format === 'csv' ? '"' : false,
    record_delimiter: ['\r\n', '\n'],
    relax_column_count: true,
    raw: true,
  });
  let failure: unknown;
  pipeline(createReadStream(file), parser, (error) => {
    failure ??= error ?? undefined;
  });
  let header: string[] | undefined;
  // csv-parse's own `info.lines` counts a CRLF inside a quoted field as two lines, so the
  // line of each record is counted here from the line breaks in its raw text instead.
  let nextLine = 1;
  try {
    for await (const { record, raw } of parser as AsyncIterable<CsvRecord>) {
      const line = nextLine;
      nextLine += raw.match(LINE_BREAK)?.length ?? 0;
      if (record.length === 1 && record[0] === '') continue;
      if (!header) {
        header = record.map((name) => name.trim());
        yield { kind: 'header', line, columns: header };
        continue;
      }
      if (record.length !== header.length) {
        const detail = `the row has ${record.length} fields, but the header has ${header.length}`;
        yield { kind: 'unreadable', line, problem: { reason: 'field_count', detail } };
        continue;
      }
      const values: Record<string, string> = {};
      header.forEach((name, i) => (values[name] = record[i]!));
      yield { kind: 'record', line, record: values };
    }
  } catch (error) {
    throw csvFailure(file, failure ?? error);
  }
  if (failure) throw csvFailure(file, failure);
}

function csvFailure(file: string, error: unknown): DataFileError {
  const csvError = error as Partial<CsvError> & Error;
  if (typeof csvError.code === 'string' && csvError.code.startsWith('CSV_')) {
    // csv-parse reports the line where it gave up, which for an unclosed quote is the end of the file.
    return new DataFileError(file, `is not valid CSV: ${csvError.message}. Check the quoting of the rows above it.`);
  }
  return unreadable(file, error);
}

function unreadable(file: string, error: unknown): DataFileError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (error as Error).message})`;
  return new DataFileError(file, why);
}
