import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { describeErrorEvent } from '../../shared/events/errorDescription';
import { EventLogReader } from '../../shared/events/eventLogReader';
import { NO_RUN_FOLDER_ID, parseRunEventLine, type ErrorEvent, type RunEvent, type RunFinishReason } from '../../shared/events/runEvents';
import { RunProgress } from '../../shared/monitor/runProgress';
import { isRelayedRunEvent } from '../../shared/protocol/runEventGuard';
import type { RunLifecycle, RunListEntry } from '../../shared/protocol/runListEntry';
import { Emitter, type Disposable } from '../emitter';
import { lastLines, spawnTrainer, type EngineCommand } from './engineProcess';
import { LineTail } from './lineTail';
import { isRunProcessAlive } from './processAlive';
import { EVENTS_FILE } from '../../shared/run/runFolder';
import { listRunFolders, readRunInfo, runFolderOfProcess } from '../../shared/run/runFolderReader';
import { outputDirOfConfig } from './runFolder';

export type RunOrigin = 'started' | 'attached';

const OUTPUT_TAIL = 500;
const LIVE: readonly RunLifecycle[] = ['starting', 'running', 'stopping'];

/** A training run the editor follows: one it started, or one it found still going and reattached to. */
export class ManagedRun {
  lifecycle: RunLifecycle;
  /** The run folder, once the engine has made it; until then the run is `starting`. */
  runDir: string | null = null;
  runId: string | null = null;
  startedAt: string | null = null;
  /** Why the run failed or crashed, in a sentence. */
  failure: string | null = null;
  /** The error that stopped the engine before it made a run folder, with the file, line and key at fault. */
  setupError: ErrorEvent | null = null;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  stopRequests = 0;
  killedByUser = false;
  readonly progress = new RunProgress();
  private readonly outputLines: string[] = [];

  constructor(
    readonly id: number,
    readonly origin: RunOrigin,
    readonly configPath: string,
    public pid: number | null,
  ) {
    this.lifecycle = origin === 'started' ? 'starting' : 'running';
  }

  /** The run folder: how messages and commands name the run. Null while it is starting. */
  get key(): string | null {
    return this.runDir;
  }

  get live(): boolean {
    return LIVE.includes(this.lifecycle);
  }

  /** The engine's last stdout and stderr lines, less the events it prints on stdout. */
  get output(): readonly string[] {
    return this.outputLines;
  }

  /** A name for messages: the run id once known, else the config file's name. */
  get label(): string {
    return this.runId ?? basename(this.configPath);
  }

  appendOutput(lines: readonly string[]): void {
    this.outputLines.push(...lines);
    if (this.outputLines.length > OUTPUT_TAIL) this.outputLines.splice(0, this.outputLines.length - OUTPUT_TAIL);
  }

  toListEntry(): RunListEntry | undefined {
    if (!this.runDir) return undefined;
    return {
      key: this.runDir,
      runId: this.runId ?? basename(this.runDir),
      configPath: this.configPath,
      startedAt: this.startedAt,
      lifecycle: this.lifecycle,
      live: this.live,
    };
  }
}

export interface RunChange {
  readonly run: ManagedRun;
  /** Events read from events.jsonl since the last change. */
  readonly events: readonly RunEvent[];
  readonly lifecycleChanged: boolean;
}

export interface RunManagerOptions {
  readonly engine: EngineCommand;
  /** Where the engine's stdout and stderr are kept, one `<pid>.log` per run, so that a reattached run has them too. */
  readonly logDir?: string;
  /** How often live runs are polled for new events and output. */
  readonly pollMs?: number;
}

interface Tracked {
  readonly run: ManagedRun;
  child: ChildProcess | null;
  reader: EventLogReader | null;
  output: LineTail | null;
  /** Where the engine makes the run folder, or reopens it on a resume (a checkpoint or run folder). */
  readonly outputDir: string | undefined;
  readonly resume: string | undefined;
  readonly spawnedAt: number;
  /** Polling has ended: the process is gone and everything it wrote has been read. */
  done: boolean;
}

const LOG_RETENTION_MS = 7 * 24 * 3600 * 1000;

/**
 * Starts, follows and stops training runs. It spawns the engine (`dist/cli.js train`), tails each run's
 * events.jsonl and the engine's output, and keeps nothing of its own: the run folder's run.json names the
 * process, so a new manager (after a window reload) finds live runs again with `reattach`. Several runs may be
 * live at once. It does not import 'vscode'.
 */
export class RunManager implements Disposable {
  private readonly tracked = new Map<number, Tracked>();
  private nextId = 1;
  private readonly timer: NodeJS.Timeout;
  private readonly logDir: string;
  private readonly engine: EngineCommand;

  private readonly changeEmitter = new Emitter<RunChange>();
  private readonly outputEmitter = new Emitter<{ run: ManagedRun; lines: readonly string[] }>();
  private readonly addEmitter = new Emitter<ManagedRun>();
  /** New events or a new lifecycle for a run. */
  readonly onDidChange = this.changeEmitter.event;
  /** New engine output lines for a run. */
  readonly onDidOutput = this.outputEmitter.event;
  /** A run was started or reattached. */
  readonly onDidAdd = this.addEmitter.event;

  constructor(options: RunManagerOptions) {
    this.engine = options.engine;
    this.logDir = options.logDir ?? join(tmpdir(), 'embedtune-engine');
    this.timer = setInterval(() => this.pollAll(), options.pollMs ?? 500);
    this.timer.unref();
    pruneOldLogs(this.logDir);
  }

  get runs(): ManagedRun[] {
    return [...this.tracked.values()].map((t) => t.run);
  }

  get liveRuns(): ManagedRun[] {
    return this.runs.filter((run) => run.live);
  }

  byKey(key: string): ManagedRun | undefined {
    const wanted = resolve(key);
    let found: ManagedRun | undefined;
    // The newest wins: a run folder that was stopped and resumed has one managed run per process.
    for (const { run } of this.tracked.values()) if (run.runDir === wanted) found = run;
    return found;
  }

  /** Starts `embedtune train CONFIG [--resume CHECKPOINT]`. The config should have been validated: the engine refuses one with errors. */
  start(request: { configPath: string; resume?: string }): ManagedRun {
    const configPath = resolve(request.configPath);
    const resume = request.resume ? resolve(request.resume) : undefined;
    mkdirSync(this.logDir, { recursive: true });
    const pendingLog = join(this.logDir, `pending-${process.pid}-${Date.now()}-${this.nextId}.log`);
    const fd = openSync(pendingLog, 'a');
    let child: ChildProcess;
    try {
      child = spawnTrainer(this.engine, configPath, resume, fd);
    } finally {
      // The child holds its own copy of the descriptor.
      closeSync(fd);
    }
    let logPath = pendingLog;
    if (child.pid !== undefined) {
      try {
        logPath = join(this.logDir, `${child.pid}.log`);
        renameSync(pendingLog, logPath);
      } catch {
        logPath = pendingLog;
      }
    }
    const run = new ManagedRun(this.nextId++, 'started', configPath, child.pid ?? null);
    const outputDir = outputDirOfConfig(configPath);
    const tracked: Tracked = {
      run,
      child,
      reader: null,
      output: new LineTail(logPath),
      resume,
      outputDir,
      spawnedAt: Date.now(),
      done: false,
    };
    this.tracked.set(run.id, tracked);
    child.on('error', (error) => {
      run.failure = `The engine could not be started with ${this.engine.nodePath}: ${error.message}`;
      run.exit ??= { code: null, signal: null };
      this.finish(tracked);
    });
    child.on('exit', (code, signal) => {
      run.exit = { code, signal };
      this.finish(tracked);
    });
    this.addEmitter.fire(run);
    return run;
  }

  /** Follows a run folder whose run.json says it is running and whose process is alive. Returns undefined otherwise. */
  attach(runDir: string): ManagedRun | undefined {
    const dir = resolve(runDir);
    const existing = this.byKey(dir);
    if (existing?.live) return existing;
    const info = readRunInfo(dir);
    if (!info || info.state !== 'running' || !isRunProcessAlive(info.pid, info.startedAt)) return undefined;
    const run = new ManagedRun(this.nextId++, 'attached', info.configPath, info.pid);
    run.runDir = dir;
    run.runId = info.run_id;
    run.startedAt = info.startedAt;
    const output = new LineTail(join(this.logDir, `${info.pid}.log`));
    const tracked: Tracked = {
      run,
      child: null,
      reader: new EventLogReader(join(dir, EVENTS_FILE)),
      output,
      resume: undefined,
      outputDir: undefined,
      spawnedAt: Date.now(),
      done: false,
    };
    this.tracked.set(run.id, tracked);
    this.poll(tracked);
    this.addEmitter.fire(run);
    return run;
  }

  /** Reattaches to every live run under these output folders (after a window reload or an editor restart). */
  reattach(outputDirs: Iterable<string>): ManagedRun[] {
    const attached: ManagedRun[] = [];
    for (const outputDir of new Set([...outputDirs].map((dir) => resolve(dir)))) {
      for (const runDir of listRunFolders(outputDir)) {
        if (this.byKey(runDir)?.live) continue;
        const run = this.attach(runDir);
        if (run) attached.push(run);
      }
    }
    return attached;
  }

  /**
   * Asks a run to stop: the engine finishes its step, writes a checkpoint and exits. Asked again, it kills the
   * process at once; checkpoints are written atomically, so none is left half-written.
   */
  stop(run: ManagedRun): 'stopping' | 'killed' | 'not-running' {
    const tracked = this.tracked.get(run.id);
    if (!tracked || !run.live || run.pid === null) return 'not-running';
    run.stopRequests++;
    if (run.stopRequests === 1) {
      const { child } = tracked;
      if (child?.connected) child.send({ type: 'stop' });
      else signal(run.pid, 'SIGTERM');
      const before = run.lifecycle;
      run.lifecycle = 'stopping';
      this.changeEmitter.fire({ run, events: [], lifecycleChanged: before !== run.lifecycle });
      return 'stopping';
    }
    run.killedByUser = true;
    if (tracked.child) tracked.child.kill('SIGKILL');
    else signal(run.pid, 'SIGKILL');
    run.appendOutput(['[EmbedTune] stopped again: the engine was killed at once.']);
    if (!tracked.child) this.poll(tracked);
    return 'killed';
  }

  /** Reads what every live run has written since the last poll; the timer calls it, and tests may too. */
  pollAll(): void {
    for (const tracked of this.tracked.values()) if (!tracked.done) this.poll(tracked);
  }

  dispose(): void {
    clearInterval(this.timer);
    this.changeEmitter.dispose();
    this.outputEmitter.dispose();
    this.addEmitter.dispose();
    // Runs go on without the editor: a reload reattaches to them.
    for (const tracked of this.tracked.values()) {
      tracked.child?.removeAllListeners();
      if (tracked.child?.connected) tracked.child.disconnect();
    }
  }

  private poll(tracked: Tracked): void {
    const { run } = tracked;
    if (!tracked.reader) this.identify(tracked);
    const events = tracked.reader?.readNew() ?? [];
    // Read after the events: the engine writes an event before the line that reports it, so the output shown is
    // never older than the progress.
    this.takeOutput(run, tracked.output?.readNew() ?? []);
    if (events.length > 0) run.progress.add(events);
    const before = run.lifecycle;
    this.updateLifecycle(tracked);
    if (events.length > 0 || before !== run.lifecycle) this.changeEmitter.fire({ run, events, lifecycleChanged: before !== run.lifecycle });
    if (run.origin === 'attached' && !tracked.done && !isRunProcessAlive(run.pid ?? -1, run.startedAt ?? undefined)) this.finish(tracked);
  }

  /**
   * The engine's output lines: the events it prints on stdout are taken apart from the text. Only a setup error is
   * kept from them; the run's events are read from its events.jsonl, which a reattached run has too.
   */
  private takeOutput(run: ManagedRun, lines: readonly string[]): void {
    const text: string[] = [];
    for (const line of lines) {
      const event = printedEvent(line);
      if (!event) text.push(line);
      // Validated in full only here: what the user is told comes from it.
      else if (event.type === 'error' && event.run_id === NO_RUN_FOLDER_ID)
        run.setupError = (parseRunEventLine(line) as ErrorEvent | undefined) ?? run.setupError;
    }
    if (text.length === 0) return;
    run.appendOutput(text);
    this.outputEmitter.fire({ run, lines: text });
  }

  /** Finds the folder the engine made for this process: the one whose run.json names its pid. */
  private identify(tracked: Tracked): void {
    const { run } = tracked;
    if (run.pid === null) return;
    const dir = runFolderOfProcess(run.pid, tracked.spawnedAt, tracked.outputDir, tracked.resume);
    if (!dir) return;
    const info = readRunInfo(dir);
    run.runDir = resolve(dir);
    run.runId = info?.run_id ?? basename(dir);
    run.startedAt = info?.startedAt ?? null;
    tracked.reader = new EventLogReader(join(dir, EVENTS_FILE));
  }

  private updateLifecycle(tracked: Tracked): void {
    const { run } = tracked;
    if (!run.live) return;
    const { progress } = run;
    // A resumed run folder holds the previous process's events too; only this process's run_started counts.
    const ours = progress.setup !== null && progress.setup.pid === run.pid;
    if (ours && progress.phase === 'finished' && progress.finish) {
      run.lifecycle = lifecycleOf(progress.finish.reason);
      if (progress.finish.reason === 'failed') run.failure = progress.error?.message ?? 'The engine reported that the run failed.';
    } else if (ours && run.lifecycle === 'starting') {
      run.lifecycle = 'running';
    }
  }

  /** The process is gone: read what is left and decide how the run ended. */
  private finish(tracked: Tracked): void {
    if (tracked.done) return;
    // Marked first: the last poll must not decide again that the process is gone.
    tracked.done = true;
    this.poll(tracked);
    const { run } = tracked;
    this.takeOutput(run, tracked.output?.flush() ?? []);
    if (!run.live) return;
    const before = run.lifecycle;
    if (run.killedByUser) {
      run.lifecycle = 'stopped';
    } else if (run.exit && run.runDir === null && run.exit.code !== null && run.exit.code !== 0) {
      // The engine refused or failed before it made a run folder: bad config, missing model or data. It says why in
      // an error event; without one (it died before it could print one), its last line is the best clue.
      run.lifecycle = 'failed';
      const last = lastLines(run.output, 1)[0];
      run.failure ??= run.setupError
        ? describeErrorEvent(run.setupError)
        : `The engine exited with code ${run.exit.code} before the run started${last ? `: ${last}` : '.'}`;
    } else {
      run.lifecycle = 'crashed';
      const last = run.progress.error?.message;
      const how = run.exit
        ? run.exit.signal
          ? `The engine was killed by ${run.exit.signal}`
          : `The engine exited with code ${run.exit.code}`
        : `The engine process (pid ${run.pid}) is gone`;
      run.failure ??= `${how} before the run finished${run.progress.step > 0 ? ` (at step ${run.progress.step})` : ''}.${last ? ` Last error: ${last}` : ''}`;
    }
    this.changeEmitter.fire({ run, events: [], lifecycleChanged: before !== run.lifecycle });
  }
}

/** An event line among the engine's output, told apart with a light check: a progress event comes several times a second. */
function printedEvent(line: string): RunEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return isRelayedRunEvent(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function lifecycleOf(reason: RunFinishReason): RunLifecycle {
  return reason;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

function pruneOldLogs(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of names) {
    const path = join(dir, name);
    try {
      if (now - statSync(path).mtimeMs > LOG_RETENTION_MS) rmSync(path, { force: true });
    } catch {
      // Another window may be pruning too.
    }
  }
}
