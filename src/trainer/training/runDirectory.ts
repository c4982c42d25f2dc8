import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { ResolvedConfig } from '../../shared/config/configTypes';
import { EVENTS_FILE, RESOLVED_CONFIG_FILE, RUN_INFO_FILE, type RunInfo } from '../../shared/run/runFolder';
import { writeFileAtomic } from './checkpointStore';

/** A run's folder, laid out as src/shared/run/runFolder.ts describes. */
export interface RunDirectory {
  readonly runId: string;
  readonly path: string;
  readonly eventsPath: string;
  readonly configHash: string;
}

export function configHash(config: ResolvedConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex');
}

/** A new run folder under `output_dir`, named after the run and its start time so that runs sort by time. */
export function createRunDirectory(config: ResolvedConfig, outputDir: string, configPath: string, now = new Date()): RunDirectory {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')
    .replace('T', '-');
  const safeName = config.name.replace(/[^\w.-]+/g, '-').slice(0, 60) || 'run';
  let runId = `${safeName}-${stamp}`;
  for (let n = 2; ; n++) {
    try {
      mkdirSync(join(outputDir, runId), { recursive: false });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        mkdirSync(outputDir, { recursive: true });
        n--;
        continue;
      }
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      runId = `${safeName}-${stamp}-${n}`;
    }
  }
  const path = join(outputDir, runId);
  writeFileSync(
    join(path, RESOLVED_CONFIG_FILE),
    `# Resolved from ${basename(configPath)}: every default filled in.\n${stringify(config)}`,
  );
  return { runId, path, eventsPath: join(path, EVENTS_FILE), configHash: configHash(config) };
}

/** The run folder that holds a checkpoint (`<run>/checkpoints/step-N`). */
export function runDirectoryOfCheckpoint(checkpoint: string, config: ResolvedConfig): RunDirectory {
  const path = dirname(dirname(checkpoint));
  return { runId: basename(path), path, eventsPath: join(path, EVENTS_FILE), configHash: configHash(config) };
}

/** Records who is training, so that an editor window opened later can reattach to a live run. */
export function writeRunInfo(run: RunDirectory, info: Omit<RunInfo, 'run_id'>): void {
  const contents: RunInfo = { run_id: run.runId, ...info };
  writeFileAtomic(join(run.path, RUN_INFO_FILE), `${JSON.stringify(contents, null, 2)}\n`);
}
