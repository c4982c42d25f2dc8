import { spawn } from 'node:child_process';

/** Where an install writes what it does: one line at a time, to a terminal, a log file or the editor's Output. */
export type InstallLog = (line: string) => void;

export interface LoggedRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The last lines of stdout and stderr together, for an error message. */
  readonly tail: readonly string[];
}

export class InstallCancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/**
 * Runs a program with an argument array (no shell), streams its output to the log line by line, and kills it
 * (its whole process group) when the signal aborts. Resolves with the exit status; rejects only on cancellation
 * or when the program cannot start.
 */
export function runLogged(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; log: InstallLog; signal?: AbortSignal; tailLines?: number },
): Promise<LoggedRun> {
  if (options.signal?.aborted) return Promise.reject(new InstallCancelled());
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that a cancel also ends what it started (npm runs node-gyp runs make runs g++).
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    const tail: string[] = [];
    const keep = options.tailLines ?? 30;
    const onLine = (line: string) => {
      options.log(line);
      tail.push(line);
      if (tail.length > keep) tail.shift();
    };
    lines(child.stdout, onLine);
    lines(child.stderr, onLine);
    let cancelled = false;
    const cancel = () => {
      cancelled = true;
      try {
        if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, 'SIGTERM');
        else child.kill('SIGTERM');
      } catch {
        // Already gone.
      }
    };
    options.signal?.addEventListener('abort', cancel, { once: true });
    child.on('error', (error) => {
      options.signal?.removeEventListener('abort', cancel);
      reject(error);
    });
    child.on('close', (code, signal) => {
      options.signal?.removeEventListener('abort', cancel);
      if (cancelled) reject(new InstallCancelled());
      else resolve({ code, signal, tail });
    });
  });
}

function lines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (pending + chunk).split(/\r?\n/);
    pending = parts.pop() ?? '';
    for (const part of parts) if (part.trim() !== '') onLine(part);
  });
  stream.on('end', () => {
    if (pending.trim() !== '') onLine(pending);
  });
}
