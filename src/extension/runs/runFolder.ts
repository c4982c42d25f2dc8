import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { parseRunEventLine, type RunFinishedEvent } from '../../shared/events/runEvents';

/** `run.json`, which the engine writes into each run folder: who is training it, and whether it has finished. */
export interface RunInfo {
  readonly run_id: string;
  readonly pid: number;
  readonly configPath: string;
  readonly startedAt: string;
  readonly state: 'running' | 'finished';
}

export const RUN_INFO_FILE = 'run.json';
export const EVENTS_FILE = 'events.jsonl';
export const RESOLVED_CONFIG_FILE = 'config.resolved.yaml';

/** The run folder's run.json, or undefined when it is missing, half-written or not one of ours. */
export function readRunInfo(runDir: string): RunInfo | undefined {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(join(runDir, RUN_INFO_FILE), 'utf8'));
  } catch {
    return undefined;
  }
  const info = value as Partial<RunInfo> | null;
  if (
    !info ||
    typeof info.run_id !== 'string' ||
    typeof info.pid !== 'number' ||
    typeof info.configPath !== 'string' ||
    typeof info.startedAt !== 'string' ||
    (info.state !== 'running' && info.state !== 'finished')
  ) {
    return undefined;
  }
  return info as RunInfo;
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

/**
 * Where a config's runs go: its `output_dir` (default `runs`) resolved against the config's folder. Read from the
 * file on disk, as the engine reads it; undefined when the file cannot be read or parsed.
 */
export function outputDirOfConfig(configPath: string): string | undefined {
  let value: unknown;
  try {
    value = parse(readFileSync(configPath, 'utf8'));
  } catch {
    return undefined;
  }
  const outputDir = value && typeof value === 'object' && 'output_dir' in value ? (value as { output_dir: unknown }).output_dir : undefined;
  return resolve(dirname(configPath), typeof outputDir === 'string' && outputDir !== '' ? outputDir : 'runs');
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

const TAIL_BYTES = 1 << 16;

/** The run_finished event, if it is among the last lines of the run's events.jsonl; read without loading the whole log. */
export function readFinishEvent(runDir: string): RunFinishedEvent | undefined {
  let fd: number;
  try {
    fd = openSync(join(runDir, EVENTS_FILE), 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const bytes = Buffer.alloc(length);
    readSync(fd, bytes, 0, length, size - length);
    const lines = bytes.toString('utf8').split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const event = parseRunEventLine(lines[i]!);
      if (event?.type === 'run_finished') return event;
      // A resumed run appends a new run_started after an old run_finished: the run is not finished then.
      if (event?.type === 'run_started') return undefined;
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The run's config.resolved.yaml, or null when it has none. */
export function readResolvedConfig(runDir: string): string | null {
  try {
    return readFileSync(join(runDir, RESOLVED_CONFIG_FILE), 'utf8');
  } catch {
    return null;
  }
}
