import type { RunEvent } from '../events/runEvents';
import type { ConfigDiffRow } from '../monitor/configDiff';
import { arrayOf, hasFields, isNonEmptyString, isRecord, isString, nullable, type Guard } from './messageGuards';
import { isRelayedRunEvent } from './runEventGuard';
import { isRunListEntry, type RunListEntry } from './runListEntry';

/**
 * Messages between the extension and the dashboard webview, declared once for both sides. Each is `{command, …}`
 * and each side checks what it receives with the parse function below before it acts on it.
 */

/** A run shown beside the main one, with its events, for overlaid curves. */
export interface ComparedRun {
  readonly run: RunListEntry;
  readonly events: RunEvent[];
}

export type ToDashboard =
  /** Every run in the workspace, for the run picker and the compare list. */
  | { readonly command: 'runs'; readonly runs: RunListEntry[] }
  /** Replaces what the dashboard shows with this run: all its events so far, its resolved config, its engine output. */
  | {
      readonly command: 'show';
      readonly run: RunListEntry;
      readonly events: RunEvent[];
      readonly config: string | null;
      readonly engineLog: string[];
    }
  /** New events of a run the dashboard shows (the main run or a compared one). */
  | { readonly command: 'append'; readonly key: string; readonly events: RunEvent[] }
  /** New lines the engine printed (stdout and stderr), for the log tail. */
  | { readonly command: 'engineLog'; readonly key: string; readonly lines: string[] }
  /** The run's lifecycle changed (e.g. it stopped, or its process died); `failure` says why it failed. */
  | { readonly command: 'runState'; readonly run: RunListEntry; readonly failure: string | null }
  /** The runs to overlay and the config keys in which they differ from the main run (the first label). */
  | {
      readonly command: 'compare';
      readonly runs: ComparedRun[];
      readonly diff: { readonly labels: string[]; readonly rows: ConfigDiffRow[] };
    };

export type FromDashboard =
  /** The webview has loaded; it sends what it showed before a reload, from its saved state. */
  | { readonly command: 'ready'; readonly key: string | null; readonly compare: string[] }
  | { readonly command: 'selectRun'; readonly key: string }
  | { readonly command: 'compare'; readonly keys: string[] }
  | { readonly command: 'stop'; readonly key: string }
  | { readonly command: 'showCheckpoints'; readonly key: string }
  | { readonly command: 'openConfig'; readonly key: string };

/** How many runs can be overlaid at once; more would not be readable anyway. */
export const MAX_COMPARED_RUNS = 8;

const isKeyList = arrayOf(isNonEmptyString, MAX_COMPARED_RUNS);
const isEvents = arrayOf(isRelayedRunEvent);
const isDiffRow: Guard<ConfigDiffRow> = (value): value is ConfigDiffRow =>
  hasFields<ConfigDiffRow>(value, { key: isString, values: arrayOf(nullable(isString)) });

/** The message, if it is a well-formed message from the dashboard; undefined for anything else. */
export function parseFromDashboard(value: unknown): FromDashboard | undefined {
  if (!isRecord(value)) return undefined;
  switch (value.command) {
    case 'ready':
      return (value.key === null || isNonEmptyString(value.key)) && isKeyList(value.compare)
        ? { command: 'ready', key: value.key, compare: value.compare }
        : undefined;
    case 'compare':
      return isKeyList(value.keys) ? { command: 'compare', keys: value.keys } : undefined;
    case 'selectRun':
    case 'stop':
    case 'showCheckpoints':
    case 'openConfig':
      return isNonEmptyString(value.key) ? { command: value.command, key: value.key } : undefined;
    default:
      return undefined;
  }
}

/** The message, if it is a well-formed message to the dashboard; undefined for anything else. */
export function parseToDashboard(value: unknown): ToDashboard | undefined {
  if (!isRecord(value)) return undefined;
  const ok = (() => {
    switch (value.command) {
      case 'runs':
        return arrayOf(isRunListEntry)(value.runs);
      case 'show':
        return (
          isRunListEntry(value.run) && isEvents(value.events) && nullable(isString)(value.config) && arrayOf(isString)(value.engineLog)
        );
      case 'append':
        return isNonEmptyString(value.key) && isEvents(value.events);
      case 'engineLog':
        return isNonEmptyString(value.key) && arrayOf(isString)(value.lines);
      case 'runState':
        return isRunListEntry(value.run) && nullable(isString)(value.failure);
      case 'compare':
        return (
          arrayOf((run: unknown): run is ComparedRun => isRecord(run) && isRunListEntry(run.run) && isEvents(run.events))(value.runs) &&
          isRecord(value.diff) &&
          arrayOf(isString)(value.diff.labels) &&
          arrayOf(isDiffRow)(value.diff.rows)
        );
      default:
        return false;
    }
  })();
  return ok ? (value as unknown as ToDashboard) : undefined;
}
