import type { ResolvedConfig } from '../config/configTypes';
import type { DataRole } from '../config/taskRequirements';
import type { RowProblem } from './rowProblem';
import { negativeColumns, type ExampleByKind, type ExampleKind } from './trainingExamples';

/** `data.columns` after defaults: the column name of every role. */
export type ColumnNames = ResolvedConfig['data']['columns'];

export type MappedRow<K extends ExampleKind> = { readonly example: ExampleByKind[K] } | { readonly problem: RowProblem };

/** Thrown inside this module to leave a row at its first problem; never escapes `rowToExample`. */
class RowRejected {
  constructor(readonly problem: RowProblem) {}
}

/**
 * Builds the example of `kind` from one row, reading each role from the column `data.columns`
 * maps it to. Values are checked but not cleaned; cleaning is a preprocessing step of its own.
 * CSV and TSV cells are always strings, so numbers and token lists are also read from text.
 */
export function rowToExample<K extends ExampleKind>(
  kind: K,
  record: Readonly<Record<string, unknown>>,
  columns: ColumnNames,
): MappedRow<K> {
  const cell = (role: DataRole, column = singleColumn(columns, role)) => new Cell(role, column, record[column]);
  try {
    return { example: buildExample(kind, cell, columns) };
  } catch (error) {
    if (error instanceof RowRejected) return { problem: error.problem };
    throw error;
  }
}

type CellOf = (role: DataRole, column?: string) => Cell;

/** The column of a role; a list of negative columns names, for the one-negative kinds, its first column. */
function singleColumn(columns: ColumnNames, role: DataRole): string {
  const column = columns[role];
  return typeof column === 'string' ? column : (negativeColumns(columns)[0] ?? role);
}

/** One builder per kind, made once: a builder table built per row cost more than the checks themselves. */
const BUILDERS: { readonly [P in ExampleKind]: (cell: CellOf, columns: ColumnNames) => ExampleByKind[P] } = {
  pair: (cell) => ({ anchor: cell('anchor').text(), positive: cell('positive').text() }),
  triplet: (cell) => ({ anchor: cell('anchor').text(), positive: cell('positive').text(), negative: cell('negative').text() }),
  'n-tuple': (cell, columns) => ({
    anchor: cell('anchor').text(),
    positive: cell('positive').text(),
    negatives: negativeColumns(columns).map((column) => cell('negative', column).text()),
  }),
  'scored-pair': (cell) => ({ anchor: cell('anchor').text(), positive: cell('positive').text(), score: cell('score').number() }),
  'contrastive-pair': (cell) => ({ anchor: cell('anchor').text(), positive: cell('positive').text(), label: cell('label').binaryLabel() }),
  'labeled-pair': (cell) => ({ anchor: cell('anchor').text(), positive: cell('positive').text(), label: cell('label').classLabel() }),
  'text-label': (cell) => ({ text: cell('text').text(), label: cell('label').classLabel() }),
  'token-tags': (cell) => {
    const tokens = cell('tokens').textList('tokens');
    const tagsCell = cell('tags');
    const tags = tagsCell.textList('tags');
    if (tags.length !== tokens.length) {
      tagsCell.reject('length_mismatch', `has ${tags.length} tags, but column "${cell('tokens').column}" has ${tokens.length} tokens`);
    }
    return { tokens, tags };
  },
};

function buildExample<K extends ExampleKind>(kind: K, cell: CellOf, columns: ColumnNames): ExampleByKind[K] {
  return (BUILDERS[kind] as (cell: CellOf, columns: ColumnNames) => ExampleByKind[K])(cell, columns);
}

/** The value of one role in one row, with the checks for each kind of value. */
class Cell {
  constructor(
    readonly role: DataRole,
    readonly column: string,
    readonly value: unknown,
  ) {}

  reject(reason: RowProblem['reason'], detail: string): never {
    throw new RowRejected({ reason, detail, role: this.role, column: this.column });
  }

  private present(): unknown {
    if (this.value === undefined) this.reject('missing_column', 'is missing');
    if (this.value === null) this.reject('missing_column', 'is null');
    return this.value;
  }

  text(): string {
    const value = this.present();
    if (typeof value !== 'string') this.reject('wrong_type', `is ${describe(value)}, not text`);
    if (value.trim() === '') this.reject('empty_value', 'is empty');
    return value;
  }

  number(): number {
    const value = this.present();
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) this.reject('not_a_number', `is ${value}, not a finite number`);
      return value;
    }
    if (typeof value !== 'string') this.reject('wrong_type', `is ${describe(value)}, not a number`);
    if (value.trim() === '') this.reject('empty_value', 'is empty');
    const parsed = Number(value.trim());
    if (!Number.isFinite(parsed)) this.reject('not_a_number', `is "${value}", not a number`);
    return parsed;
  }

  /** 0 or 1, also written as "0"/"1" or "0.0"/"1.0" in a CSV. */
  binaryLabel(): 0 | 1 {
    const value = this.present();
    if (typeof value === 'string' && value.trim() === '') this.reject('empty_value', 'is empty');
    const parsed = typeof value === 'number' || typeof value === 'string' ? Number(value) : Number.NaN;
    if (parsed !== 0 && parsed !== 1) {
      this.reject('invalid_label', `is ${describe(value)}; contrastive loss needs 0 (dissimilar) or 1 (similar)`);
    }
    return parsed;
  }

  /** A class name; numbers become strings and surrounding spaces are dropped, so `bug` and `bug ` are one class. */
  classLabel(): string {
    const value = this.present();
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    if (typeof value !== 'string') this.reject('wrong_type', `is ${describe(value)}, not a label (text or a number)`);
    if (value.trim() === '') this.reject('empty_value', 'is empty');
    return value.trim();
  }

  /**
   * A list of strings: a JSON array, or in a CSV/TSV cell either a JSON array or the items
   * separated by spaces. Every item must be non-empty text, as each one is a token or its tag.
   */
  textList(what: 'tokens' | 'tags'): string[] {
    const value = this.present();
    let items: unknown[];
    if (Array.isArray(value)) {
      items = value;
    } else if (typeof value === 'string') {
      const text = value.trim();
      if (text === '') this.reject('empty_value', 'is empty');
      items = text.startsWith('[') ? this.parseJsonList(text) : text.split(/\s+/);
    } else {
      this.reject('wrong_type', `is ${describe(value)}, not a list of ${what}`);
    }
    if (items.length === 0) this.reject('empty_value', `has no ${what}`);
    items.forEach((item, i) => {
      if (typeof item !== 'string') this.reject('wrong_type', `item ${i + 1} is ${describe(item)}, not text`);
      if (item.trim() === '') this.reject('empty_value', `item ${i + 1} is empty`);
    });
    return items as string[];
  }

  private parseJsonList(text: string): unknown[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      this.reject('invalid_json', `is not a valid JSON list (${(error as Error).message})`);
    }
    if (!Array.isArray(parsed)) this.reject('wrong_type', `is ${describe(parsed)}, not a list`);
    return parsed;
  }
}

/** A short description of a wrong value for an error message: `"abc"`, `a number (3)`, `a list`. */
function describe(value: unknown): string {
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value === 'number' ? 'a number' : 'a boolean'} (${value})`;
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return `an ${typeof value}`;
}
