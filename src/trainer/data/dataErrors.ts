import type { DataRole } from '../../shared/config/taskRequirements';

/** Why a row cannot become a training example. */
export type BadRowReason =
  | 'invalid_json'
  | 'not_an_object'
  | 'field_count'
  | 'missing_column'
  | 'empty_value'
  | 'wrong_type'
  | 'not_a_number'
  | 'invalid_label'
  | 'length_mismatch'
  | 'empty_after_cleaning';

/** A bad row, described well enough to find and fix it. */
export interface RowProblem {
  readonly reason: BadRowReason;
  /** What is wrong, phrased to follow the column, e.g. `is empty`. */
  readonly detail: string;
  /** The role and the column it maps to, when one column is at fault. */
  readonly role?: DataRole;
  readonly column?: string;
}

/** `file:line: column "query" (data.columns.anchor) is empty`, or `file:line: <detail>` for a problem with the whole row. */
export function describeRowProblem(file: string, line: number, problem: RowProblem): string {
  const where = problem.role && problem.column ? `column "${problem.column}" (data.columns.${problem.role}) ` : '';
  return `${file}:${line}: ${where}${problem.detail}`;
}

/** A row that cannot be loaded while `data.on_bad_row` is `error`. */
export class DataRowError extends Error {
  override readonly name = 'DataRowError';

  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: RowProblem,
  ) {
    super(`${describeRowProblem(file, line, problem)}. Fix the row, or set data.on_bad_row: skip to drop bad rows.`);
  }

  get reason(): BadRowReason {
    return this.problem.reason;
  }
}

/** A data file that cannot be used at all, whatever `data.on_bad_row` says: unreadable, malformed CSV, or a header without a needed column. */
export class DataFileError extends Error {
  override readonly name = 'DataFileError';

  constructor(
    readonly file: string,
    message: string,
    readonly line?: number,
    /** The config key to fix, when there is one, e.g. `data.columns.anchor`. */
    readonly key?: string,
  ) {
    super(line === undefined ? `${file}: ${message}` : `${file}:${line}: ${message}`);
  }
}
