import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import type { NamedMetric } from '../../shared/events/runEvents';
import { EVENTS_FILE, RESOLVED_CONFIG_FILE, RUN_INFO_FILE } from '../../shared/run/runFolder';
import { listRunFolders, readRunInfo } from '../../shared/run/runFolderReader';

/** What one past run of a config used and reached, read from its run folder. */
export interface PastRun {
  /** The run folder, which is also the dashboard's key for the run. */
  readonly dir: string;
  readonly runId: string;
  /** The config the run trained, absolute; undefined when neither run.json nor run_started names it. */
  readonly configPath: string | undefined;
  /** When the run started (ISO 8601), or undefined when nothing says. */
  readonly startedAt: string | undefined;
  /** config.resolved.yaml as a plain value, or undefined when it is missing or not YAML. */
  readonly resolved: unknown;
  /** run_finished's best metric, else the last evaluation marked best; undefined when the run has none yet. */
  readonly best: NamedMetric | undefined;
  /** Whether a higher primary metric is better (the resolved early_stopping.mode, `max` unless it says `min`). */
  readonly higherIsBetter: boolean;
}

interface CachedRun {
  readonly stamp: string;
  readonly run: PastRun;
}

/**
 * Reads the run folders under a config's output_dir, with no storage of its own: each run is read again only when
 * one of its three files changes (size and mtime), so that the second look at 200 past runs costs 600 stats. The
 * first look reads every folder; it gives the event loop back after each one, so that a completion or an edit that
 * arrives meanwhile is answered at once rather than after the whole history. Only code lenses call this.
 */
export class RunHistory {
  private readonly cache = new Map<string, CachedRun>();
  private readonly inFlight = new Map<string, Promise<PastRun[]>>();

  /** The runs under `outputDir` that trained `configPath`, newest first; a second call during a read shares it. */
  runsOf(configPath: string, outputDir: string): Promise<PastRun[]> {
    const key = `${resolve(configPath)}\n${outputDir}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const reading = this.readRuns(resolve(configPath), outputDir).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, reading);
    return reading;
  }

  private async readRuns(wanted: string, outputDir: string): Promise<PastRun[]> {
    const dirs = listRunFolders(outputDir);
    const runs: PastRun[] = [];
    for (const [index, dir] of dirs.entries()) {
      const stamp = [RUN_INFO_FILE, EVENTS_FILE, RESOLVED_CONFIG_FILE].map((name) => fileStamp(join(dir, name))).join('|');
      let run = this.cache.get(dir)?.stamp === stamp ? this.cache.get(dir)!.run : undefined;
      if (!run) {
        run = readPastRun(dir);
        this.cache.set(dir, { stamp, run });
        await yieldToRequests();
      } else if (index % CACHED_PER_TURN === CACHED_PER_TURN - 1) {
        await yieldToRequests();
      }
      if (run.configPath !== undefined && resolve(run.configPath) === wanted) runs.push(run);
    }
    const listed = new Set(dirs);
    for (const dir of this.cache.keys()) if (dirname(dir) === outputDir && !listed.has(dir)) this.cache.delete(dir);
    return runs.sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? '') || b.runId.localeCompare(a.runId));
  }
}

/** Cached folders cost three stats each; this many between turns keeps a waiting request's delay under a millisecond or two. */
const CACHED_PER_TURN = 25;

function yieldToRequests(): Promise<void> {
  return new Promise((resume) => setImmediate(resume));
}

function fileStamp(path: string): string {
  const stat = statSync(path, { throwIfNoEntry: false });
  return stat ? `${stat.size}:${stat.mtimeMs}` : '-';
}

/** One run folder, read as the trainer and the accelerate engine leave it; anything missing or torn reads as unknown. */
export function readPastRun(dir: string): PastRun {
  const info = readRunInfo(dir);
  const events = readSummaryEvents(join(dir, EVENTS_FILE), info === undefined);
  const resolved = readResolved(join(dir, RESOLVED_CONFIG_FILE));
  const mode = valueAt(resolved, ['early_stopping', 'mode']);
  const configPath = info?.configPath ?? events.configPath;
  return {
    dir,
    runId: info?.run_id ?? events.runId ?? dir,
    configPath: configPath === undefined ? undefined : resolve(dir, configPath),
    startedAt: info?.startedAt ?? events.startedAt,
    resolved,
    best: events.finishedBest ?? events.lastBestEval,
    higherIsBetter: mode !== 'min',
  };
}

interface SummaryEvents {
  runId?: string;
  configPath?: string;
  startedAt?: string;
  finishedBest?: NamedMetric;
  lastBestEval?: NamedMetric;
}

// A run's log holds one progress event a step; only run_started, eval and run_finished lines are worth validating.
const SUMMARY_LINE = /"type"\s*:\s*"(run_started|eval|run_finished)"/;

/**
 * A finished run's best metric is in its last line, and run.json names its config: then only the log's tail is read,
 * so that the first look at 200 runs of thousands of steps each reads kilobytes, not their whole logs.
 */
function readSummaryEvents(path: string, needStart: boolean): SummaryEvents {
  if (!needStart) {
    const finishedBest = lastFinishedBest(readTail(path, TAIL_BYTES));
    if (finishedBest) return { finishedBest };
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return {};
  }
  const found: SummaryEvents = {};
  for (const line of text.split('\n')) {
    if (!SUMMARY_LINE.test(line)) continue;
    const event = summaryEventOf(line);
    if (event?.type === 'run_started') {
      found.runId ??= event.run_id;
      found.configPath ??= event.config_path;
      found.startedAt ??= event.time;
    } else if (event?.type === 'eval' && event.is_best && event.primary.value !== null) {
      found.lastBestEval = event.primary;
    } else if (event?.type === 'run_finished' && event.best_metric?.value != null) {
      found.finishedBest = event.best_metric;
    }
  }
  return found;
}

const TAIL_BYTES = 16 * 1024;

/** The complete lines among the last `bytes` bytes of a file; none when it cannot be read. */
function readTail(path: string, bytes: number): string[] {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    const read = readSync(fd, buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8', 0, read).split('\n');
    // The first line of a tail that starts mid-file is cut; the last, without its newline, may be half-written.
    return lines.slice(start > 0 ? 1 : 0, -1);
  } finally {
    closeSync(fd);
  }
}

function lastFinishedBest(lines: readonly string[]): NamedMetric | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!lines[i]!.includes('run_finished')) continue;
    const event = summaryEventOf(lines[i]!);
    if (event?.type === 'run_finished' && event.best_metric?.value != null) return event.best_metric;
  }
  return undefined;
}

type SummaryEvent =
  | { type: 'run_started'; run_id: string; config_path: string; time: string }
  | { type: 'eval'; is_best: boolean; primary: { name: string; value: number | null } }
  | { type: 'run_finished'; best_metric: { name: string; value: number | null } | null };

/**
 * The fields this reader uses of a run_started, eval or run_finished line, checked by hand: the full schema check
 * (parseRunEventLine) compiles its validator on first use, a pause of a few hundred milliseconds on a busy machine
 * that a completion request would wait behind.
 */
function summaryEventOf(line: string): SummaryEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const event = value as Record<string, unknown> | null;
  if (!event || typeof event !== 'object') return undefined;
  if (event.type === 'run_started')
    return typeof event.run_id === 'string' && typeof event.config_path === 'string' && typeof event.time === 'string'
      ? (event as SummaryEvent)
      : undefined;
  if (event.type === 'eval')
    return typeof event.is_best === 'boolean' && isNamedMetric(event.primary) ? (event as SummaryEvent) : undefined;
  if (event.type === 'run_finished')
    return event.best_metric === null || isNamedMetric(event.best_metric) ? (event as SummaryEvent) : undefined;
  return undefined;
}

function isNamedMetric(value: unknown): value is NamedMetric {
  const metric = value as Partial<NamedMetric> | null;
  return (
    !!metric && typeof metric === 'object' && typeof metric.name === 'string' && (metric.value === null || typeof metric.value === 'number')
  );
}

function readResolved(path: string): unknown {
  try {
    return parse(sectionsUsed(readFileSync(path, 'utf8'))) as unknown;
  } catch {
    return undefined;
  }
}

/** The top-level sections whose values the history shows or needs (early_stopping.mode says which way is better). */
const SECTIONS_USED = new Set(['model', 'strategy', 'loss', 'training', 'early_stopping']);
const TOP_LEVEL_KEY = /^([A-Za-z_][\w-]*)\s*:/;

/**
 * Only the sections used, cut out of a block-style file as both engines write it: parsing YAML is most of the cost
 * of reading a run, and the data, preprocessing and evaluation sections (a long metrics list) are the larger part.
 * Anything else at the top (a document marker, a directive, flow style) keeps the whole text.
 */
function sectionsUsed(text: string): string {
  if (/^(---|\.\.\.|%|[{[])/m.test(text)) return text;
  const kept: string[] = [];
  let keep = false;
  for (const line of text.split('\n')) {
    const key = TOP_LEVEL_KEY.exec(line)?.[1];
    if (key !== undefined) keep = SECTIONS_USED.has(key);
    else if (line !== '' && !/^[\s#]/.test(line)) return text;
    if (keep) kept.push(line);
  }
  return kept.join('\n');
}

/** The value at a dotted path of a plain YAML value, or undefined. */
export function valueAt(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const segment of path) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
