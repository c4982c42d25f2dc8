import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { parseRunEventLine, type RunFinishedEvent } from '../../shared/events/runEvents';
import { EVENTS_FILE, RESOLVED_CONFIG_FILE } from '../../shared/run/runFolder';

// What the editor reads of run folders beyond finding them; their layout is declared in src/shared/run/runFolder.ts,
// which the engines write by, and src/shared/run/runFolderReader.ts finds them for the editor and the engine alike.

// For the panels and tests, which name these through this module.
export { findRunDirByPid, listRunFolders, readRunInfo, runDirOfCheckpoint } from '../../shared/run/runFolderReader';

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
