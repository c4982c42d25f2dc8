import type { BadRowPolicy } from '../../shared/config/configTypes';
import type { DataFormat } from '../../shared/data/dataFormat';
import type { ExampleCleaner } from './cleanExample';
import { DataFileError, DataRowError, describeRowProblem, type BadRowReason, type RowProblem } from './dataErrors';
import { readDataRows } from './dataRowReader';
import { rowToExample, type ColumnNames } from '../../shared/data/exampleMapping';
import type { DataRole } from '../../shared/config/taskRequirements';
import { negativeColumns, ROLES_BY_KIND, type ExampleByKind, type ExampleKind } from './trainingExamples';

export interface SkippedRow {
  readonly line: number;
  readonly reason: BadRowReason;
  /** The full `file:line: …` description, as the error would have said. */
  readonly message: string;
}

/** What reading one data file produced, so that no dropped row goes unreported. */
export interface FileReadSummary {
  readonly file: string;
  /** Rows that became examples. */
  readonly rows: number;
  /** Bad rows dropped because `data.on_bad_row` is `skip`. */
  readonly skipped: number;
  readonly skippedByReason: Readonly<Partial<Record<BadRowReason, number>>>;
  /** The first few skipped rows, to show the user where to look. */
  readonly firstSkipped: readonly SkippedRow[];
  /** Rows whose text `preprocess.clean` changed. */
  readonly changedByCleaning: number;
  /** Rows that cleaning left with an empty text; they are bad rows, so `skipped` includes them under `skip`. */
  readonly emptiedByCleaning: number;
}

/** What became of one data row, for a caller that shows rows before and after preprocessing. */
export type RowOutcome<K extends ExampleKind> =
  | { readonly line: number; readonly status: 'read'; readonly original: ExampleByKind[K]; readonly example: ExampleByKind[K] }
  | { readonly line: number; readonly status: 'skipped'; readonly message: string; readonly original?: ExampleByKind[K] };

export interface ReadExamplesOptions<K extends ExampleKind> {
  /** The path to read and to name in messages. */
  readonly file: string;
  readonly format: DataFormat;
  readonly kind: K;
  readonly columns: ColumnNames;
  readonly onBadRow: BadRowPolicy;
  /** `preprocess.clean`, applied to each row as it is read so that a row it empties is reported with its line. */
  readonly clean?: ExampleCleaner<K>;
  /** Told about every row, in file order. */
  readonly onRow?: (outcome: RowOutcome<K>) => void;
}

const SKIPPED_ROWS_LISTED = 10;

/**
 * Reads one data file into examples of `kind`, cleaned when `clean` is given. A bad row throws `DataRowError` under
 * `on_bad_row: error` and is counted under `skip`. A CSV/TSV header that lacks a needed
 * column throws `DataFileError` under either policy, since every row would be bad.
 */
export async function readExamples<K extends ExampleKind>(
  options: ReadExamplesOptions<K>,
): Promise<{ examples: ExampleByKind[K][]; summary: FileReadSummary }> {
  const { file, format, kind, columns, onBadRow, clean, onRow } = options;
  const examples: ExampleByKind[K][] = [];
  const skippedByReason: Partial<Record<BadRowReason, number>> = {};
  const firstSkipped: SkippedRow[] = [];
  let skipped = 0;
  let changedByCleaning = 0;
  let emptiedByCleaning = 0;

  const badRow = (line: number, problem: RowProblem, original?: ExampleByKind[K]) => {
    if (onBadRow === 'error') throw new DataRowError(file, line, problem);
    onRow?.({ line, status: 'skipped', message: describeRowProblem(file, line, problem), ...(original ? { original } : {}) });
    skipped++;
    skippedByReason[problem.reason] = (skippedByReason[problem.reason] ?? 0) + 1;
    if (firstSkipped.length < SKIPPED_ROWS_LISTED) {
      firstSkipped.push({ line, reason: problem.reason, message: describeRowProblem(file, line, problem) });
    }
  };

  for await (const row of readDataRows(file, format)) {
    if (row.kind === 'header') {
      requireColumns(file, row.line, row.columns, kind, columns);
    } else if (row.kind === 'unreadable') {
      badRow(row.line, row.problem);
    } else {
      const mapped = rowToExample(kind, row.record, columns);
      if ('problem' in mapped) {
        badRow(row.line, mapped.problem);
        continue;
      }
      const cleaned = clean ? clean(mapped.example) : { example: mapped.example, changed: false };
      if ('problem' in cleaned) {
        emptiedByCleaning++;
        badRow(row.line, cleaned.problem, mapped.example);
        continue;
      }
      if (cleaned.changed) changedByCleaning++;
      examples.push(cleaned.example);
      onRow?.({ line: row.line, status: 'read', original: mapped.example, example: cleaned.example });
    }
  }
  return {
    examples,
    summary: { file, rows: examples.length, skipped, skippedByReason, firstSkipped, changedByCleaning, emptiedByCleaning },
  };
}

function requireColumns(file: string, line: number, header: readonly string[], kind: ExampleKind, columns: ColumnNames): void {
  for (const [role, column] of ROLES_BY_KIND[kind].flatMap((role) => roleColumns(kind, role, columns))) {
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

/** Each column a role reads: an n-tuple's negative role reads every negative column, other kinds one. */
function roleColumns(kind: ExampleKind, role: DataRole, columns: ColumnNames): [DataRole, string][] {
  const column = columns[role];
  if (typeof column === 'string') return [[role, column]];
  const negatives = negativeColumns(columns);
  return (kind === 'n-tuple' ? negatives : negatives.slice(0, 1)).map((name) => [role, name]);
}
