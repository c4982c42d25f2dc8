import { dirname, resolve } from 'node:path';
import type { CodeLens } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { locatePath, type ParsedConfig } from '../../shared/config/parsedConfig';
import type { NamedMetric } from '../../shared/events/runEvents';
import { HISTORY_KEYS } from './historyKeys';
import { valueAt, type PastRun } from './runHistory';

/** The command a history lens runs: it opens the dashboard on the first run folder, compared with the others. */
export const COMPARE_RUNS_COMMAND = 'embedtune.compareRuns';

export { HISTORY_KEYS } from './historyKeys';

/** How many values one lens names; more would not fit beside a line. */
const SHOWN_VALUES = 3;

/** The runs that used one value at a key, their best first. */
export interface ValueHistory {
  readonly value: string;
  readonly runs: readonly PastRun[];
}

/** The past runs grouped by what they used at `path`, best value first; runs without that key are left out. */
export function historyAt(runs: readonly PastRun[], path: readonly string[]): ValueHistory[] {
  const groups = new Map<string, PastRun[]>();
  for (const run of runs) {
    const value = valueAt(run.resolved, path);
    if (value === undefined || value === null || typeof value === 'object') continue;
    const label = formatValue(value);
    const group = groups.get(label);
    if (group) group.push(run);
    else groups.set(label, [run]);
  }
  return [...groups].map(([value, group]) => ({ value, runs: group.sort(byBest) })).sort((a, b) => byBest(a.runs[0]!, b.runs[0]!));
}

/** Better metric first, runs without one last; among equals the newer. */
function byBest(a: PastRun, b: PastRun): number {
  const av = a.best?.value ?? null;
  const bv = b.best?.value ?? null;
  if (av !== null && bv !== null && av !== bv) return a.higherIsBetter ? bv - av : av - bv;
  if ((av === null) !== (bv === null)) return av === null ? 1 : -1;
  return (b.startedAt ?? '').localeCompare(a.startedAt ?? '');
}

/** `2e-5 → ndcg@10 0.82 (Dec 3) · 5e-5 → 0.79 (Dec 2)`: the metric's name once, then again only where it changes. */
export function historyTitle(history: readonly ValueHistory[]): string {
  let lastMetric: string | undefined;
  return history
    .slice(0, SHOWN_VALUES)
    .map(({ value, runs }) => {
      const run = runs[0]!;
      const metric = metricText(run.best, lastMetric);
      lastMetric = run.best?.name ?? lastMetric;
      const date = shortDate(run.startedAt);
      return `${value} → ${metric}${date ? ` (${date})` : ''}`;
    })
    .join(' · ');
}

function metricText(best: NamedMetric | undefined, previousName: string | undefined): string {
  if (!best || best.value === null) return 'no metric yet';
  const value = formatMetric(best.value);
  return best.name === previousName ? value : `${best.name} ${value}`;
}

/** Each history key's values, as historyAt groups them. */
export type KeyHistories = readonly (readonly ValueHistory[])[];

/** One lens per hyperparameter line of the document that past runs of this config also set. */
export function historyLenses(document: TextDocument, parsed: ParsedConfig, runs: readonly PastRun[]): CodeLens[] {
  return lensesFrom(
    document,
    parsed,
    HISTORY_KEYS.map((path) => historyAt(runs, path)),
  );
}

/**
 * historyAt for every history key, a turn given back between keys: the first grouping of 200 runs, before the JIT has
 * seen this code, takes milliseconds that a completion arriving meanwhile would otherwise wait for.
 */
export async function keyHistoriesInTurns(runs: readonly PastRun[]): Promise<KeyHistories> {
  const histories: ValueHistory[][] = [];
  for (const path of HISTORY_KEYS) {
    histories.push(historyAt(runs, path));
    await new Promise((resume) => setImmediate(resume));
  }
  return histories;
}

/** The lenses of `histories` (in HISTORY_KEYS order) on the lines of the document that set those keys. */
export function lensesFrom(document: TextDocument, parsed: ParsedConfig, histories: KeyHistories): CodeLens[] {
  const lenses: CodeLens[] = [];
  for (const [index, path] of HISTORY_KEYS.entries()) {
    const history = histories[index] ?? [];
    const keyRange = history.length > 0 ? locatePath(parsed, path)?.keyRange : undefined;
    if (!keyRange) continue;
    const shown = history.slice(0, SHOWN_VALUES);
    // The best run opens as the dashboard's main run; the best of each other value shown is compared with it.
    const keys = shown.map((group) => group.runs[0]!.dir);
    const start = document.positionAt(keyRange.start);
    lenses.push({
      range: { start, end: start },
      command: { title: historyTitle(shown), command: COMPARE_RUNS_COMMAND, arguments: [keys] },
    });
  }
  return lenses;
}

function formatValue(value: unknown): string {
  if (typeof value === 'number' && value !== 0 && Math.abs(value) < 1e-3) return value.toExponential();
  const text = String(value);
  return text.length > 40 ? `…${text.slice(-39)}` : text;
}

function formatMetric(value: number): string {
  return String(Number(value.toFixed(3)));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `Dec 3`, in UTC so that the same run reads the same on every machine. */
function shortDate(iso: string | undefined): string | undefined {
  const time = iso === undefined ? NaN : Date.parse(iso);
  if (Number.isNaN(time)) return undefined;
  const date = new Date(time);
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}`;
}

/** Where a config's runs go: its output_dir (`runs` by default, as the schema says) against the config's folder. */
export function outputDirOf(configPath: string, config: unknown): string {
  const outputDir = valueAt(config, ['output_dir']);
  return resolve(dirname(configPath), typeof outputDir === 'string' && outputDir.trim() !== '' ? outputDir : 'runs');
}
