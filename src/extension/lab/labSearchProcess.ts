import { spawn } from 'node:child_process';
import { engineEnvironment, type EngineCommand, type EngineResult } from '../runs/engineProcess';

export interface LabSearchOutcome extends EngineResult {
  /** The search was stopped by `signal` before it finished. */
  readonly cancelled: boolean;
}

/**
 * Runs `embedtune lab-search` (an argument array, no shell), passing each stderr line to `onLine` as it comes (the
 * encoding progress), and kills it when `signal` aborts. A killed search stores nothing: the cache is written only
 * once a corpus is fully encoded.
 */
export function runLabSearchProcess(
  engine: EngineCommand,
  args: readonly string[],
  cwd: string,
  signal: AbortSignal,
  onLine: (line: string) => void,
): Promise<LabSearchOutcome> {
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
      const lines = (pending + chunk).split(/\r?\n/);
      pending = lines.pop()!;
      lines.forEach(onLine);
    });
    const cancel = () => child.kill();
    if (signal.aborted) cancel();
    else signal.addEventListener('abort', cancel, { once: true });
    child.on('error', reject);
    child.on('close', (code, exitSignal) => {
      signal.removeEventListener('abort', cancel);
      resolvePromise({ code, signal: exitSignal, stdout, stderr, cancelled: signal.aborted });
    });
  });
}

/** "encoding 64/2000 with ./base" → what the progress notification says, or undefined for other lines. */
export function encodingProgress(line: string): string | undefined {
  const match = /^encoding (\d+)\/(\d+) with (.+)$/.exec(line);
  return match ? `encoding the corpus with ${match[3]}: ${match[1]} of ${match[2]} texts` : undefined;
}
