import { isLabSearchResult, MAX_LAB_K, type LabSearchResult } from '../lab/labSearchResult';
import { parseFromLabMap, parseToLabMap, type FromLabMap, type ToLabMap } from './labMapMessages';
import { parseFromLabTools, parseToLabTools, type FromLabTools, type ToLabTools } from './labToolMessages';
import { hasFields, isNonEmptyString, isRecord, isString, nullable, type Guard } from './messageGuards';

/** Messages between the extension and the Embedding Lab webview, declared once for both sides and checked on receipt. */

/** What the Lab compares: the first model (usually the base), the second (usually the fine-tuned one) and the corpus. */
export interface LabSetup {
  readonly first: string;
  readonly second: string;
  readonly corpus: string;
  /** The run the defaults came from, for the title. */
  readonly runId: string | null;
}

export type ToLab =
  | ({ readonly command: 'setup' } & LabSetup)
  /** A search is under way (the query), or none. */
  | { readonly command: 'busy'; readonly query: string | null }
  | { readonly command: 'results'; readonly result: LabSearchResult }
  | { readonly command: 'error'; readonly message: string }
  | ToLabTools
  | ToLabMap;

export type FromLab =
  | { readonly command: 'ready' }
  | { readonly command: 'search'; readonly query: string; readonly k: number }
  | FromLabTools
  | FromLabMap;

/** Longer queries are refused: a query is typed, and it becomes a command-line argument. */
export const MAX_QUERY_LENGTH = 2000;

const isSetup: Guard<LabSetup> = (value): value is LabSetup =>
  hasFields<LabSetup>(value, { first: isNonEmptyString, second: isNonEmptyString, corpus: isNonEmptyString, runId: nullable(isString) });

export function parseToLab(value: unknown): ToLab | undefined {
  if (!isRecord(value)) return undefined;
  switch (value.command) {
    case 'setup':
      return isSetup(value)
        ? { command: 'setup', first: value.first, second: value.second, corpus: value.corpus, runId: value.runId }
        : undefined;
    case 'busy':
      return value.query === null || isString(value.query) ? { command: 'busy', query: value.query } : undefined;
    case 'results':
      return isLabSearchResult(value.result) ? { command: 'results', result: value.result } : undefined;
    case 'error':
      return isString(value.message) ? { command: 'error', message: value.message } : undefined;
    default:
      return parseToLabTools(value) ?? parseToLabMap(value);
  }
}

export function parseFromLab(value: unknown): FromLab | undefined {
  if (!isRecord(value)) return undefined;
  if (value.command === 'ready') return { command: 'ready' };
  if (value.command !== 'search') return parseFromLabTools(value) ?? parseFromLabMap(value);
  const { query, k } = value;
  if (typeof query !== 'string' || query.trim() === '' || query.length > MAX_QUERY_LENGTH) return undefined;
  if (!Number.isInteger(k) || (k as number) < 1 || (k as number) > MAX_LAB_K) return undefined;
  return { command: 'search', query, k: k as number };
}
