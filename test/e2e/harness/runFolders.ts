import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What training left on disk, read independently of the extension: the run folders under a workspace's `runs`,
 * their checkpoints and `best` pointer, and the engine processes their run.json names.
 */

export function runFolders(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .filter((name) => existsSync(join(runsDir, name, 'run.json')))
    .map((name) => join(runsDir, name));
}

/** The run folder that appeared since `before` was listed. */
export function newRunFolder(runsDir: string, before: readonly string[]): string | undefined {
  return runFolders(runsDir).find((dir) => !before.includes(dir));
}

export function checkpointNames(runDir: string): string[] {
  const dir = join(runDir, 'checkpoints');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => /^step-\d+$/.test(name) && existsSync(join(dir, name, 'trainer_state.json')))
    .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
}

export function bestPointer(runDir: string): string | undefined {
  try {
    return readFileSync(join(runDir, 'best'), 'utf8').trim().split(/[\\/]/).pop();
  } catch {
    return undefined;
  }
}

export function checkpointStep(runDir: string, name: string): number {
  return (JSON.parse(readFileSync(join(runDir, 'checkpoints', name, 'trainer_state.json'), 'utf8')) as { step: number }).step;
}

/**
 * Kills the engines still training in these run folders: a failed scenario must not leave a detached trainer
 * behind. Only a process whose command line is our CLI's `train` is signalled, so a reused pid is left alone.
 */
export function killLeftoverEngines(runsDir: string): number[] {
  const killed: number[] = [];
  for (const dir of runFolders(runsDir)) {
    let info: { pid?: unknown; state?: unknown };
    try {
      info = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as typeof info;
    } catch {
      continue;
    }
    if (info.state !== 'running' || typeof info.pid !== 'number') continue;
    let commandLine = '';
    try {
      commandLine = readFileSync(`/proc/${info.pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!/cli\.js\0train\0/.test(commandLine)) continue;
    try {
      process.kill(info.pid, 'SIGKILL');
      killed.push(info.pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return killed;
}
