import { describeRowProblem, type BadRowReason, type RowProblem } from '../../shared/data/rowProblem';

export { describeRowProblem, type BadRowReason, type RowProblem };

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
