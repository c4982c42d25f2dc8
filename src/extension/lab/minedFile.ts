import { readFileSync, writeFileSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import type { DataFormat } from '../../shared/data/dataFormat';
import type { MinedRow } from '../../shared/lab/minedPreview';

/** The columns of a mined triplet file: the config's anchor and positive columns, the mined negative, and scores. */
export interface MinedColumns {
  readonly anchor: string;
  readonly positive: string;
  readonly negative: string;
}

const SCORES = 'scores';

/**
 * Reads the triplets `mine-negatives --output-scores` wrote (JSONL, or CSV/TSV with a header and scores as JSON in
 * a cell). A row without the three texts is an error naming its line: the file is ours, so that means a changed miner.
 */
export function readMinedRows(file: string, format: DataFormat, columns: MinedColumns): MinedRow[] {
  const text = readFileSync(file, 'utf8');
  const records = format === 'jsonl' ? jsonlRecords(text) : tableRecords(text, format);
  return records.map((record, i) => {
    const [anchor, positive, negative] = [record[columns.anchor], record[columns.positive], record[columns.negative]];
    if (typeof anchor !== 'string' || typeof positive !== 'string' || typeof negative !== 'string')
      throw new Error(
        `${file}:${i + (format === 'jsonl' ? 1 : 2)}: the mined row lacks "${columns.anchor}", "${columns.positive}" or "${columns.negative}".`,
      );
    const scores = scoreList(record[SCORES]);
    return scores ? { anchor, positive, negative, scores } : { anchor, positive, negative };
  });
}

/** Writes the triplets without their scores, as the config's data section reads them (what the quick fix writes). */
export function writeMinedRows(file: string, format: DataFormat, columns: MinedColumns, rows: readonly MinedRow[]): void {
  const names = [columns.anchor, columns.positive, columns.negative];
  const cells = (row: MinedRow) => [row.anchor, row.positive, row.negative];
  const lines =
    format === 'jsonl'
      ? rows.map((row) => JSON.stringify(Object.fromEntries(names.map((name, i) => [name, cells(row)[i]]))))
      : [names, ...rows.map(cells)].map((line) =>
          line.map((cell) => (format === 'csv' ? csvField(cell) : cell)).join(format === 'csv' ? ',' : '\t'),
        );
  writeFileSync(file, lines.length > 0 ? `${lines.join('\n')}\n` : '');
}

function jsonlRecords(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function tableRecords(text: string, format: 'csv' | 'tsv'): Record<string, unknown>[] {
  // The miner writes TSV without quoting (it refuses texts with tabs or line breaks), so quotes are plain characters there.
  return parseCsv(text, { columns: true, delimiter: format === 'csv' ? ',' : '\t', quote: format === 'csv' ? '"' : false }) as Record<
    string,
    unknown
  >[];
}

function scoreList(value: unknown): number[] | undefined {
  let list = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  return Array.isArray(list) && list.every((item) => typeof item === 'number') ? (list as number[]) : undefined;
}

/** RFC 4180 quoting, only where a field needs it, as the miner writes CSV. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
