import { basename, resolve } from 'node:path';
import type { RunLifecycle, RunListEntry } from '../../shared/protocol/runListEntry';
import { isRunProcessAlive } from './processAlive';
import { listRunFolders, outputDirOfConfig, readFinishEvent, readRunInfo } from './runFolder';
import type { RunManager } from './runManager';

/**
 * Every run in the workspace: the run folders under the output_dir of each config, merged with what the run
 * manager knows about the live ones. This is what the pickers list, and what a message from a webview must name:
 * a key that is not a run folder listed here is refused.
 */
export class RunLibrary {
  private entries = new Map<string, RunListEntry>();

  constructor(
    private readonly manager: RunManager,
    private readonly findConfigs: () => Promise<readonly string[]>,
  ) {}

  /** The output folders of the workspace's configs and of the runs the manager follows. */
  async outputDirs(): Promise<string[]> {
    const dirs = new Set<string>();
    for (const config of await this.findConfigs()) {
      const dir = outputDirOfConfig(config);
      if (dir) dirs.add(dir);
    }
    for (const run of this.manager.runs) {
      const dir = outputDirOfConfig(run.configPath);
      if (dir) dirs.add(dir);
    }
    return [...dirs];
  }

  /** Reads the run folders again; newest first. */
  async refresh(): Promise<RunListEntry[]> {
    const entries = new Map<string, RunListEntry>();
    for (const outputDir of await this.outputDirs()) {
      for (const runDir of listRunFolders(outputDir)) entries.set(resolve(runDir), this.entryFor(runDir));
    }
    for (const run of this.manager.runs) {
      const entry = run.toListEntry();
      if (entry) entries.set(entry.key, entry);
    }
    this.entries = entries;
    return this.list();
  }

  /**
   * The runs found by the last refresh and those the manager follows, newest first, with live state from the manager.
   * A run started since the last refresh is listed too: an open dashboard's run picker must name the run it shows.
   */
  list(): RunListEntry[] {
    const keys = new Set([...this.entries.keys(), ...this.manager.runs.flatMap((run) => (run.key ? [run.key] : []))]);
    return [...keys]
      .map((key) => this.manager.byKey(key)?.toListEntry() ?? this.entries.get(key))
      .filter((entry): entry is RunListEntry => entry !== undefined)
      .sort(newestFirst);
  }

  /** The entry for a key from a message, or undefined when it is not a known run folder. */
  get(key: string): RunListEntry | undefined {
    const wanted = resolve(key);
    if (!this.entries.has(wanted)) return this.manager.byKey(wanted)?.toListEntry();
    return this.manager.byKey(wanted)?.toListEntry() ?? this.entries.get(wanted);
  }

  /** Like `get`, but reads the folders again first when the key is not known yet (a run that started a moment ago). */
  async resolve(key: string): Promise<RunListEntry | undefined> {
    const known = this.get(key);
    if (known) return known;
    await this.refresh();
    return this.get(key);
  }

  private entryFor(runDir: string): RunListEntry {
    const key = resolve(runDir);
    const managed = this.manager.byKey(key)?.toListEntry();
    if (managed) return managed;
    const info = readRunInfo(key);
    const finish = readFinishEvent(key);
    let lifecycle: RunLifecycle;
    if (finish) lifecycle = finish.reason;
    else if (info?.state === 'running' && isRunProcessAlive(info.pid, info.startedAt)) {
      // Started from the CLI or another window: follow it from now on.
      const attached = this.manager.attach(key)?.toListEntry();
      if (attached) return attached;
      lifecycle = 'running';
    } else lifecycle = 'interrupted';
    return {
      key,
      runId: info?.run_id ?? basename(key),
      configPath: info?.configPath ?? null,
      startedAt: info?.startedAt ?? null,
      lifecycle,
      live: lifecycle === 'running',
    };
  }
}

function newestFirst(a: RunListEntry, b: RunListEntry): number {
  return (b.startedAt ?? '').localeCompare(a.startedAt ?? '') || b.key.localeCompare(a.key);
}
