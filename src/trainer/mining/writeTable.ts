import { writeFileSync } from 'node:fs';
import type { DataFormat } from '../../shared/data/dataFormat';
import type { MinedTable } from './minedRows';

/**
 * Writes mined rows in a format the config's `data` section reads: JSONL, or CSV/TSV with a header line. A list
 * (the scores) goes into a CSV/TSV cell as JSON. TSV has no quoting, so a text with a tab or a line break cannot be
 * written to it; the error names the row.
 */
export function writeTable(file: string, format: DataFormat, table: MinedTable): void {
  const lines =
    format === 'jsonl'
      ? table.rows.map((row) => JSON.stringify(row))
      : [table.columns, ...table.rows.map((row) => table.columns.map((column) => cellText(row[column])))].map((cells, line) =>
          cells.map((cell) => (format === 'csv' ? csvField(cell) : tsvField(cell, file, line + 1))).join(format === 'csv' ? ',' : '\t'),
        );
  writeFileSync(file, lines.length > 0 ? `${lines.join('\n')}\n` : '');
}

function cellText(value: string | number[] | undefined): string {
  return typeof value === 'string' ? value : JSON.stringify(value ?? '');
}

/** RFC 4180 quoting, only where a field needs it. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function tsvField(text: string, file: string, line: number): string {
  if (/[\t\r\n]/.test(text))
    throw new Error(`${file}:${line}: a text holds a tab or a line break, which TSV cannot hold; write .jsonl or .csv instead.`);
  return text;
}
