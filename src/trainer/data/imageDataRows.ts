import { dirname, isAbsolute, resolve } from 'node:path';
import type { DataFormat } from '../../shared/data/dataFormat';
import type { RowProblem } from './dataErrors';
import { DataFileError } from './dataErrors';
import { readDataRows } from './dataRowReader';

/**
 * The rows of a CSV, TSV or JSONL file of an image-classification run: an image path, relative to the data file
 * (or absolute), and a label (text, or a number kept as text). Image files are not opened here.
 */

export interface ImageRow {
  readonly line: number;
  /** Absolute. */
  readonly image: string;
  readonly label: string;
}

export interface ImageColumns {
  readonly image: string;
  readonly label: string;
}

export type ImageRowOutcome = { readonly row: ImageRow } | { readonly line: number; readonly problem: RowProblem };

export async function* readImageRows(file: string, format: DataFormat, columns: ImageColumns): AsyncGenerator<ImageRowOutcome> {
  const folder = dirname(file);
  for await (const row of readDataRows(file, format)) {
    if (row.kind === 'header') requireImageColumns(file, row.line, row.columns, columns);
    else if (row.kind === 'unreadable') yield { line: row.line, problem: row.problem };
    else {
      const image = cell(row.record, 'image', columns.image);
      if (typeof image !== 'string') {
        yield { line: row.line, problem: image };
        continue;
      }
      const label = labelCell(row.record, columns.label);
      if (typeof label !== 'string') yield { line: row.line, problem: label };
      else yield { row: { line: row.line, image: isAbsolute(image) ? image : resolve(folder, image), label } };
    }
  }
}

function cell(record: Readonly<Record<string, unknown>>, role: 'image' | 'label', column: string): string | RowProblem {
  const value = record[column];
  const problem = (reason: RowProblem['reason'], detail: string): RowProblem => ({ reason, detail, role, column });
  if (value === undefined || value === null) return problem('missing_column', value === null ? 'is null' : 'is missing');
  if (typeof value !== 'string')
    return problem('wrong_type', `is ${JSON.stringify(value)}, not ${role === 'image' ? 'a file path' : 'text'}`);
  if (value.trim() === '') return problem('empty_value', 'is empty');
  return value.trim();
}

/** A class label: text, or a number, which is kept as text so that every class is a string. */
function labelCell(record: Readonly<Record<string, unknown>>, column: string): string | RowProblem {
  const value = record[column];
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return cell(record, 'label', column);
}

function requireImageColumns(file: string, line: number, header: readonly string[], columns: ImageColumns): void {
  for (const role of ['image', 'label'] as const) {
    const column = columns[role];
    if (header.includes(column)) continue;
    const fix = column === role ? `name the column ${role}, or set data.columns.${role}` : `fix data.columns.${role}`;
    throw new DataFileError(
      file,
      `the header has no column "${column}" for data.columns.${role} (columns: ${header.join(', ')}); ${fix}`,
      line,
      `data.columns.${role}`,
    );
  }
}
