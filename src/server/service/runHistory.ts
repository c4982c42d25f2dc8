import { statSync } from 'node:fs';
import { open, readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { parse } from 'yaml';
import type { NamedMetric } from '../../shared/events/runEvents';
import { EVENTS_FILE, parseRunInfo, RESOLVED_CONFIG_FILE, RUN_INFO_FILE } from '../../shared/run/runFolder';
import { HISTORY_KEYS, MODE_KEY } from './historyKeys';
import { resolvedExcerpt, simpleValues } from './resolvedExcerpt';

/** What one past run of a config used and reached, read from its run folder. */
export interface PastRun {
  /** The run folder, which is also the dashboard's key for the run. */
  readonly dir: string;
  readonly runId: string;
  /** The config the run trained, absolute; undefined when neither run.json nor run_started names it. */
  readonly configPath: string | undefined;
  /** When the run started (ISO 8601), or undefined when nothing says. */
  readonly startedAt: string | undefined;
  /** config.resolved.yaml's values at the history keys and early_stopping.mode; undefined when missing or not YAML. */
  readonly resolved: unknown;
  /** run_finished's best metric, else the last evaluation marked best; undefined when the run has none yet. */
  readonly best: NamedMetric | undefined;
  /** Whether a higher primary metric is better (the resolved early_stopping.mode, `max` unless it says `min`). */
  readonly higherIsBetter: boolean;
}

interface CachedRun {
  readonly stamp: string;
  readonly run: PastRun | undefined;
}

/**
 * Reads the run folders under a config's output_dir, with no storage of its own: each folder is read again only
 * when one of its three files changes (size and mtime), so that the second look at 200 past runs costs 600 stats.
 * Every file read is asynchronous and the work between two of them is small (one short file parsed, or one 64 KB
 * piece of a log scanned), so that a completion or an edit that arrives during the first look at a long history is
 * answered at once rather than after it. Only code lenses call this.
 */
export class RunHistory {
  private readonly cache = new Map<string, CachedRun>();
  private readonly inFlight = new Map<string, Promise<PastRun[]>>();
  private cachedSinceTurn = 0;

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
    const dirs = await entriesOf(outputDir);
    // One folder at a time: with several, the thread pool's reads take the cores beside the main thread, and the
    // parses of reads that finish together run back to back (completion p99 26 ms against 6.6 ms, one at a time).
    const read: (PastRun | undefined)[] = [];
    for (const dir of dirs) read.push(await this.runAt(dir));
    const listed = new Set(dirs);
    for (const dir of this.cache.keys()) if (dirname(dir) === outputDir && !listed.has(dir)) this.cache.delete(dir);
    const runs = read.filter((run): run is PastRun => run?.configPath !== undefined && resolve(run.configPath) === wanted);
    return runs.sort((a, b) => (b.startedAt ?? '').localeCompare(a.startedAt ?? '') || b.runId.localeCompare(a.runId));
  }

  /** The run in `dir`, from the cache while its files are unchanged; undefined when it is no run folder. */
  private async runAt(dir: string): Promise<PastRun | undefined> {
    const stamp = [RUN_INFO_FILE, EVENTS_FILE, RESOLVED_CONFIG_FILE].map((name) => fileStamp(join(dir, name))).join('|');
    const cached = this.cache.get(dir);
    if (cached?.stamp === stamp) {
      // Three stats from the metadata cache take microseconds: a turn every few dozen folders is enough.
      if (++this.cachedSinceTurn >= CACHED_PER_TURN) {
        this.cachedSinceTurn = 0;
        await yieldToRequests();
      }
      return cached.run;
    }
    // A run folder has a run.json or an events.jsonl; anything else under output_dir is not one.
    const run = stamp.startsWith('-|-|') ? undefined : await readPastRun(dir);
    this.cache.set(dir, { stamp, run });
    return run;
  }
}

/** Cached folders checked between two turns given back to requests: under half a millisecond of stats. */
const CACHED_PER_TURN = 25;

/** The entries of an output dir, hidden ones left out; none when it cannot be read. */
async function entriesOf(outputDir: string): Promise<string[]> {
  try {
    return (await readdir(outputDir)).filter((name) => !name.startsWith('.')).map((name) => join(outputDir, name));
  } catch {
    return [];
  }
}

/** Size and mtime, or `-` when missing; a plain file under output_dir makes its "files" ENOTDIR, also missing. */
function fileStamp(path: string): string {
  try {
    const info = statSync(path, { throwIfNoEntry: false });
    return info ? `${info.size}:${info.mtimeMs}` : '-';
  } catch {
    return '-';
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

function yieldToRequests(): Promise<void> {
  return new Promise((resume) => setImmediate(resume));
}

/** One run folder, read as the trainer and the accelerate engine leave it; anything missing or torn reads as unknown. */
export async function readPastRun(dir: string): Promise<PastRun> {
  const [infoText, resolvedText] = await Promise.all([readText(join(dir, RUN_INFO_FILE)), readText(join(dir, RESOLVED_CONFIG_FILE))]);
  const info = infoText === undefined ? undefined : parseRunInfo(infoText);
  const events = await readSummaryEvents(join(dir, EVENTS_FILE), info === undefined);
  const resolved = parseResolved(resolvedText);
  const mode = valueAt(resolved, MODE_KEY);
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
 * so that the first look at 200 runs of thousands of steps each reads kilobytes, not their whole logs. Otherwise the
 * whole log is scanned, one piece at a time.
 */
async function readSummaryEvents(path: string, needStart: boolean): Promise<SummaryEvents> {
  if (!needStart) {
    const finishedBest = lastFinishedBest(await readTail(path, TAIL_BYTES));
    if (finishedBest) return { finishedBest };
  }
  const found: SummaryEvents = {};
  await forEachLine(path, (line) => {
    if (!SUMMARY_LINE.test(line)) return;
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
  });
  return found;
}

const TAIL_BYTES = 16 * 1024;
/** A running run's log can be many megabytes: it is decoded and scanned this much at a time, a turn given back between. */
const PIECE_BYTES = 64 * 1024;

/** The complete lines among the last `bytes` bytes of a file; none when it cannot be read. */
async function readTail(path: string, bytes: number): Promise<string[]> {
  let file;
  try {
    file = await open(path, 'r');
  } catch {
    return [];
  }
  try {
    const size = (await file.stat()).size;
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, start);
    const lines = buffer.toString('utf8', 0, bytesRead).split('\n');
    // The first line of a tail that starts mid-file is cut; the last, without its newline, may be half-written.
    return lines.slice(start > 0 ? 1 : 0, -1);
  } catch {
    return [];
  } finally {
    await file.close();
  }
}

/** Each line of a file, read in pieces (a last line without its newline may be half-written: the visitor checks). */
async function forEachLine(path: string, visit: (line: string) => void): Promise<void> {
  let file;
  try {
    file = await open(path, 'r');
  } catch {
    return;
  }
  try {
    const decoder = new StringDecoder('utf8');
    const buffer = Buffer.alloc(PIECE_BYTES);
    let carry = '';
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      const lines = (carry + decoder.write(buffer.subarray(0, bytesRead))).split('\n');
      carry = lines.pop()!;
      for (const line of lines) visit(line);
      // Pieces read from the page cache come back at once; a turn between them lets a waiting request through.
      await yieldToRequests();
    }
    visit(carry + decoder.end());
  } catch {
    // A log that cannot be read further counts with what was read.
  } finally {
    await file.close();
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

/** The history keys' lines of config.resolved.yaml, parsed; undefined when it is missing or not YAML. */
function parseResolved(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    const excerpt = resolvedExcerpt(text, [...HISTORY_KEYS, MODE_KEY]);
    return simpleValues(excerpt) ?? (parse(excerpt) as unknown);
  } catch {
    return undefined;
  }
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
