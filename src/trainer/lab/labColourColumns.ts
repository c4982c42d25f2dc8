import { resolveDataFormat } from '../../shared/data/dataFormat';
import { MAX_COLOUR_CATEGORIES, type LabColouring } from '../../shared/lab/labMapResult';
import { readDataRows } from '../data/dataRowReader';
import { DEFAULT_COLUMNS, type LabCorpus } from './labCorpus';

/** Columns that usually name a class or where a row came from, looked for when none is named. */
export const LABEL_COLUMNS = ['label', 'labels', 'class', 'category', 'source', 'topic', 'domain', 'language', 'lang'];

const OTHER = 'other';
const NONE = '(none)';

/**
 * Colourings of the corpus by other columns of its file: the named ones, else those of LABEL_COLUMNS its first row
 * has. Each corpus text takes the value of the first row it appears in (the corpus keeps a text once); the most
 * common values get their own colour and the rest share "other". A plain text file has no columns and gives none.
 */
export async function colourColumns(corpus: LabCorpus, textColumn: string | undefined, named: readonly string[]): Promise<LabColouring[]> {
  const format = resolveDataFormat(corpus.file, undefined);
  if (!format) return [];
  const index = new Map(corpus.texts.map((text, i) => [text, i]));
  let columns: string[] | undefined;
  let text = textColumn;
  let values: (string | undefined)[][] = [];
  for await (const row of readDataRows(corpus.file, format)) {
    // The corpus was read already, so a bad row was reported there; here it only contributes no colour.
    if (row.kind === 'unreadable') continue;
    const keys = row.kind === 'header' ? row.columns : Object.keys(row.record);
    text ??= DEFAULT_COLUMNS.find((name) => keys.includes(name));
    if (!columns) {
      columns = (named.length ? named.filter((name) => keys.includes(name)) : LABEL_COLUMNS.filter((name) => keys.includes(name))).filter(
        (name) => name !== text,
      );
      values = columns.map(() => new Array<string | undefined>(corpus.texts.length));
    }
    if (row.kind === 'header') continue;
    const i = index.get(row.record[text ?? ''] as string);
    if (i === undefined) continue;
    columns.forEach((column, c) => (values[c]![i] ??= describe(row.record[column])));
  }
  return (columns ?? []).map((column, c) => categorize(column, values[c]!));
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.trim() === '' ? NONE : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return NONE;
}

/** The most frequent values first (ties by first appearance), the rest as "other". */
function categorize(name: string, values: readonly (string | undefined)[]): LabColouring {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value ?? NONE, (counts.get(value ?? NONE) ?? 0) + 1);
  const ranked = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)!);
  const overflow = ranked.length > MAX_COLOUR_CATEGORIES;
  const categories = overflow ? [...ranked.slice(0, MAX_COLOUR_CATEGORIES), OTHER] : ranked;
  const code = new Map(categories.map((category, i) => [category, i]));
  return {
    name,
    categories,
    codes: values.map((value) => code.get(value ?? NONE) ?? MAX_COLOUR_CATEGORIES),
  };
}
