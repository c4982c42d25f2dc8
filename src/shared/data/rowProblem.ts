import type { DataRole } from '../config/taskRequirements';

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
  | 'empty_after_cleaning'
  /** image-classification: the image file is missing, empty, truncated, or not a PNG or JPEG. */
  | 'unreadable_image';

/** A bad row, described well enough to find and fix it. */
export interface RowProblem {
  readonly reason: BadRowReason;
  /** What is wrong, phrased to follow the column, e.g. `is empty`. */
  readonly detail: string;
  /** The role and the column it maps to, when one column is at fault. */
  readonly role?: DataRole;
  readonly column?: string;
}

/** `column "query" (data.columns.anchor) is empty`, or the detail alone for a problem with the whole row. */
export function describeRowProblemBriefly(problem: RowProblem): string {
  const where = problem.role && problem.column ? `column "${problem.column}" (data.columns.${problem.role}) ` : '';
  return `${where}${problem.detail}`;
}

/** `file:line: column "query" (data.columns.anchor) is empty`, or `file:line: <detail>` for a problem with the whole row. */
export function describeRowProblem(file: string, line: number, problem: RowProblem): string {
  return `${file}:${line}: ${describeRowProblemBriefly(problem)}`;
}
