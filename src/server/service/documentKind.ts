/**
 * `*.embedtune.json` files are also validated by VS Code's JSON service through `jsonValidation`, which already
 * reports syntax and schema problems and offers completion and hover; for them the server adds only what no schema can say.
 */
export type DocumentKind = 'yaml' | 'json';

export function documentKindOf(uri: string, languageId?: string): DocumentKind {
  if (languageId === 'json' || languageId === 'jsonc') return 'json';
  return /\.json$/i.test(uri) ? 'json' : 'yaml';
}
