import { spawn, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';

/** How to run the engine: a Node.js runtime and the bundled CLI (`dist/cli.js`). */
export interface EngineCommand {
  /** The Node.js executable. In VS Code this is the editor's own runtime, run as plain Node (ELECTRON_RUN_AS_NODE). */
  readonly nodePath: string;
  readonly cliPath: string;
  /**
   * Variables the settings add for each engine process, read when it starts (so a changed setting applies to the next
   * run without a reload): where the native TensorFlow backend is installed. An empty value is left out.
   */
  readonly settingsEnvironment?: () => Readonly<Record<string, string>>;
}

/**
 * The environment for the engine: the editor's, the variables the settings set, and the switch that makes VS Code's
 * Electron binary act as Node.
 */
export function engineEnvironment(
  base: NodeJS.ProcessEnv = process.env,
  engine?: Pick<EngineCommand, 'settingsEnvironment'>,
): NodeJS.ProcessEnv {
  const fromSettings = Object.entries(engine?.settingsEnvironment?.() ?? {}).filter(([, value]) => value.trim() !== '');
  return { ...base, ...Object.fromEntries(fromSettings), ELECTRON_RUN_AS_NODE: '1' };
}

/**
 * `--events stdout`: the engine then also prints its events on stdout, among them the error that stops it before it
 * has a run folder (with the file, line and key at fault), which no events.jsonl holds.
 */
export function trainArguments(engine: EngineCommand, configPath: string, resume?: string): string[] {
  return [engine.cliPath, 'train', configPath, ...(resume ? ['--resume', resume] : []), '--events', 'stdout'];
}

/**
 * Starts `embedtune train` as a child process, with an argument array (no shell) and an IPC channel for a graceful
 * stop. Its stdout and stderr go to `outputFd`, a file, not to pipes: a pipe breaks when the editor reloads, and
 * the engine would die of EPIPE at its next progress line; with a file it trains on and a new window reattaches.
 * It runs detached (its own process group) so that closing the editor does not signal it.
 */
export function spawnTrainer(engine: EngineCommand, configPath: string, resume: string | undefined, outputFd: number): ChildProcess {
  const child = spawn(engine.nodePath, trainArguments(engine, configPath, resume), {
    cwd: dirname(configPath),
    env: engineEnvironment(process.env, engine),
    stdio: ['ignore', outputFd, outputFd, 'ipc'],
    detached: true,
    windowsHide: true,
  });
  // The editor's extension host must be able to exit while a run goes on.
  child.unref();
  return child;
}

export interface EngineResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface EngineOutcome extends EngineResult {
  /** The command was killed because `signal` aborted before it finished. */
  readonly cancelled: boolean;
}

/** What a caller of a longer command (a Lab search, mining) watches while it runs. */
export interface EngineWatch {
  /** Kills the command when it aborts. */
  readonly signal?: AbortSignal;
  /** Each stderr line as it comes: the engine's progress. */
  readonly onStderrLine?: (line: string) => void;
}

/** Runs an engine command (an argument array, no shell) to completion and collects its output. */
export function runEngineCommand(
  engine: EngineCommand,
  args: readonly string[],
  cwd: string,
  watch: EngineWatch = {},
): Promise<EngineOutcome> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(engine.nodePath, [engine.cliPath, ...args], {
      cwd,
      env: engineEnvironment(process.env, engine),
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (!watch.onStderrLine) return;
      const lines = (pending + chunk).split(/\r?\n/);
      pending = lines.pop()!;
      lines.forEach(watch.onStderrLine);
    });
    const { signal } = watch;
    const cancel = () => child.kill();
    if (signal?.aborted) cancel();
    else signal?.addEventListener('abort', cancel, { once: true });
    child.on('error', reject);
    child.on('close', (code, exitSignal) => {
      signal?.removeEventListener('abort', cancel);
      resolvePromise({ code, signal: exitSignal, stdout, stderr, cancelled: signal?.aborted ?? false });
    });
  });
}

/** The last lines of some output that say something, for an error message. */
export function lastLines(text: string | readonly string[], count: number): string[] {
  const lines = (typeof text === 'string' ? text.split(/\r?\n/) : [...text]).filter((line) => line.trim() !== '');
  return lines.slice(-count);
}
