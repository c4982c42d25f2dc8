import type { DataRole } from '../../shared/config/taskRequirements';
import { cleansAnything, textCleaner, type CleanOptions } from '../preprocess/textCleaner';
import type { RowProblem } from './dataErrors';
import type { ColumnNames } from '../../shared/data/exampleMapping';
import { negativeColumns, ROLES_BY_KIND, type ExampleByKind, type ExampleKind } from './trainingExamples';

/** The roles whose values are free text, and so are cleaned; scores, labels and tags are left as written. */
const TEXT_ROLES: ReadonlySet<DataRole> = new Set(['anchor', 'positive', 'negative', 'text']);

export type CleanedRow<K extends ExampleKind> =
  | { readonly example: ExampleByKind[K]; readonly changed: boolean }
  | { readonly problem: RowProblem };

export type ExampleCleaner<K extends ExampleKind> = (example: ExampleByKind[K]) => CleanedRow<K>;

/**
 * The function that applies `preprocess.clean` to every text the task uses, or undefined when the options change
 * nothing. A text that cleaning empties (a row that was only markup, say) makes the row bad, like an empty cell.
 * Each token of a token-classification row is cleaned on its own; a token that cleaning empties is dropped with its tag.
 */
export function exampleCleaner<K extends ExampleKind>(kind: K, options: CleanOptions, columns: ColumnNames): ExampleCleaner<K> | undefined {
  if (!cleansAnything(options)) return undefined;
  const clean = textCleaner(options);
  const emptied = (role: DataRole, was: string): { problem: RowProblem } => ({
    problem: {
      reason: 'empty_after_cleaning',
      detail: `is empty after preprocess.clean (it was ${JSON.stringify(was.length > 60 ? `${was.slice(0, 60)}…` : was)})`,
      role,
      column: typeof columns[role] === 'string' ? columns[role] : negativeColumns(columns).join(', '),
    },
  });

  if (kind === 'token-tags') {
    return ((example: ExampleByKind['token-tags']): CleanedRow<'token-tags'> => {
      const tokens: string[] = [];
      const tags: string[] = [];
      example.tokens.forEach((token, i) => {
        const cleaned = clean(token).trim();
        if (cleaned === '') return;
        tokens.push(cleaned);
        tags.push(example.tags[i]!);
      });
      if (tokens.length === 0) return emptied('tokens', example.tokens.join(' '));
      const changed = tokens.length !== example.tokens.length || tokens.some((token, i) => token !== example.tokens[i]);
      return { example: { tokens, tags }, changed };
    }) as unknown as ExampleCleaner<K>;
  }

  if (kind === 'n-tuple') return nTupleCleaner(clean, emptied) as unknown as ExampleCleaner<K>;
  const textRoles = ROLES_BY_KIND[kind].filter((role) => TEXT_ROLES.has(role));
  return (example) => {
    const cleaned: Record<string, unknown> = { ...example };
    let changed = false;
    for (const role of textRoles) {
      const was = cleaned[role] as string;
      const text = clean(was);
      if (text.trim() === '') return emptied(role, was);
      if (text !== was) changed = true;
      cleaned[role] = text;
    }
    return { example: cleaned as unknown as ExampleByKind[K], changed };
  };
}

/** Cleans an n-tuple's anchor, positive and every negative; a text that cleaning empties makes the row bad. */
function nTupleCleaner(
  clean: (text: string) => string,
  emptied: (role: DataRole, was: string) => { problem: RowProblem },
): ExampleCleaner<'n-tuple'> {
  return (example) => {
    const texts = [example.anchor, example.positive, ...example.negatives];
    const cleaned = texts.map(clean);
    const empty = cleaned.findIndex((text) => text.trim() === '');
    if (empty >= 0) return emptied(empty === 0 ? 'anchor' : empty === 1 ? 'positive' : 'negative', texts[empty]!);
    const [anchor, positive, ...negatives] = cleaned as [string, string, ...string[]];
    return { example: { anchor, positive, negatives }, changed: cleaned.some((text, i) => text !== texts[i]) };
  };
}
