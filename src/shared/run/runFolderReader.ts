import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { EVENTS_FILE, parseRunInfo, RUN_INFO_FILE, type RunInfo } from './runFolder';

// Finding run folders on disk, for the editor (which run is live, which folder a process made) and for the engine
// (whether it has opened one yet). Apart from runFolder.ts, which stays free of node imports for the webviews.

/** The run folder's run.json, or undefined when it is missing, half-written or not one of ours. */
export function readRunInfo(runDir: string): RunInfo | undefined {
  let text: string;
  try {
    text = readFileSync(join(runDir, RUN_INFO_FILE), 'utf8');
  } catch {
    return undefined;
  }
  return parseRunInfo(text);
}

/** The run folders directly under an output dir: those with a run.json or an events.jsonl. */
export function listRunFolders(outputDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(outputDir);
  } catch {
    return [];
  }
  return names
    .filter((name) => !name.startsWith('.'))
    .map((name) => join(outputDir, name))
    .filter((dir) => existsSync(join(dir, RUN_INFO_FILE)) || existsSync(join(dir, EVENTS_FILE)));
}

/** The run folder of a checkpoint folder (`<run>/checkpoints/step-N`). */
export function runDirOfCheckpoint(checkpoint: string): string {
  return dirname(dirname(resolve(checkpoint)));
}

/** The run folder among `candidates` whose run.json names `pid` and was written at or after `notBefore` (ms). */
export function findRunDirByPid(candidates: Iterable<string>, pid: number, notBefore: number): string | undefined {
  for (const dir of candidates) {
    const info = readRunInfo(dir);
    if (info?.pid !== pid) continue;
    const written = statSync(join(dir, RUN_INFO_FILE), { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (written >= notBefore - 1000) return dir;
  }
  return undefined;
}

/**
 * The run folder process `pid`, started at `startedAt` (ms), has made or reopened: among the runs under `outputDir`
 * and, on a resume, the folder `--resume` names (a run folder or a checkpoint's).
 */
export function runFolderOfProcess(
  pid: number,
  startedAt: number,
  outputDir: string | undefined,
  resume: string | undefined,
): string | undefined {
  const candidates = [...(resume ? [resolve(resume), runDirOfCheckpoint(resume)] : []), ...(outputDir ? listRunFolders(outputDir) : [])];
  return findRunDirByPid(candidates, pid, startedAt);
}
