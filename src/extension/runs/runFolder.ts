import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { parseRunEventLine, type RunFinishedEvent } from '../../shared/events/runEvents';
import { EVENTS_FILE, parseRunInfo, RESOLVED_CONFIG_FILE, RUN_INFO_FILE, type RunInfo } from '../../shared/run/runFolder';

// Reading run folders from disk; their layout is declared in src/shared/run/runFolder.ts, which the engines write by.

// For the panels, which name the events file through this module.
export { EVENTS_FILE } from '../../shared/run/runFolder';

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
