import { join } from 'node:path';
import { parse } from 'yaml';
import { EventLogReader } from '../../shared/events/eventLogReader';
import { diffConfigs } from '../../shared/monitor/configDiff';
import { thinRunEvents } from '../../shared/monitor/thinRunEvents';
import { MAX_COMPARED_RUNS, type ComparedRun, type FromDashboard, type ToDashboard } from '../../shared/protocol/dashboardMessages';
import type { Disposable } from '../emitter';
import { EVENTS_FILE } from '../../shared/run/runFolder';
import { readResolvedConfig } from '../runs/runFolder';
import type { RunLibrary } from '../runs/runLibrary';
import type { RunManager } from '../runs/runManager';

export interface DashboardActions {
  stop(key: string): void;
  showCheckpoints(key: string): void;
  openFile(path: string): void;
}

/**
 * What the dashboard webview shows and does, without the webview: it answers the webview's messages, sends a run's
 * events (all of them on `show`, thinned as thinRunEvents says for a long run, then each new batch exactly once,
 * read by its own byte offset), the engine's
 * output, lifecycle changes, and the runs to compare with a diff of their configs. Every key from the webview
 * must name a run folder the library knows.
 */
export class DashboardSession implements Disposable {
  private mainKey: string | null;
  private compareKeys: string[] = [];
  /** The runs to compare with the first run shown, when the panel opens for a comparison (a history code lens). */
  private pendingCompare: readonly string[] | undefined;
  private readonly readers = new Map<string, EventLogReader>();
  private readonly subscriptions: Disposable[];

  constructor(
    private readonly manager: RunManager,
    private readonly library: RunLibrary,
    private readonly post: (message: ToDashboard) => void,
    private readonly actions: DashboardActions,
    initialKey?: string,
    initialCompare?: readonly string[],
  ) {
    this.mainKey = initialKey ?? null;
    this.pendingCompare = initialCompare;
    this.subscriptions = [
      manager.onDidChange(({ run, lifecycleChanged }) => {
        if (run.key && this.readers.has(run.key)) this.sendNewEvents(run.key);
        if (!lifecycleChanged) return;
        const entry = run.toListEntry();
        if (entry && this.readers.has(entry.key)) this.post({ command: 'runState', run: entry, failure: run.failure });
        void this.sendRuns();
      }),
      manager.onDidAdd(() => void this.sendRuns()),
      manager.onDidOutput(({ run, lines }) => {
        if (run.key && run.key === this.mainKey) this.post({ command: 'engineLog', key: run.key, lines: [...lines] });
      }),
    ];
  }

  /** The run shown, for tests and for the panel title. */
  get shownKey(): string | null {
    return this.mainKey;
  }

  async handle(message: FromDashboard): Promise<void> {
    switch (message.command) {
      case 'ready': {
        // A reload of the webview starts from nothing: send everything again.
        this.readers.clear();
        const runs = await this.sendRuns(true);
        const wanted = this.mainKey ?? message.key;
        const key = (wanted && this.library.get(wanted)?.key) ?? runs.find((run) => run.live)?.key ?? runs[0]?.key ?? null;
        const compare = this.pendingCompare ?? message.compare;
        this.pendingCompare = undefined;
        if (key) await this.show(key, compare);
        break;
      }
      case 'selectRun':
        await this.show(message.key, this.compareKeys);
        break;
      case 'compare':
        await this.compare(message.keys);
        break;
      case 'stop':
        if (await this.library.resolve(message.key)) this.actions.stop(message.key);
        break;
      case 'showCheckpoints':
        if (await this.library.resolve(message.key)) this.actions.showCheckpoints(message.key);
        break;
      case 'openConfig': {
        const entry = await this.library.resolve(message.key);
        if (entry?.configPath) this.actions.openFile(entry.configPath);
        break;
      }
    }
  }

  /** Shows a run: its events so far, its resolved config and the engine's output; then its new events as they come. */
  async show(key: string, compare: readonly string[] = []): Promise<void> {
    const entry = await this.library.resolve(key);
    if (!entry) return;
    if (this.mainKey && this.mainKey !== entry.key && !this.compareKeys.includes(this.mainKey)) this.readers.delete(this.mainKey);
    this.mainKey = entry.key;
    const reader = new EventLogReader(join(entry.key, EVENTS_FILE));
    this.readers.set(entry.key, reader);
    const managed = this.manager.byKey(entry.key);
    this.post({
      command: 'show',
      run: entry,
      events: thinRunEvents(reader.readNew()),
      config: readResolvedConfig(entry.key),
      engineLog: [...(managed?.output ?? [])],
    });
    if (managed?.failure) this.post({ command: 'runState', run: entry, failure: managed.failure });
    await this.compare(compare);
  }

  private async compare(keys: readonly string[]): Promise<void> {
    const main = this.mainKey;
    if (!main) return;
    for (const key of this.compareKeys) if (key !== main) this.readers.delete(key);
    const runs: ComparedRun[] = [];
    for (const key of keys.slice(0, MAX_COMPARED_RUNS)) {
      const entry = await this.library.resolve(key);
      if (!entry || entry.key === main || runs.some((run) => run.run.key === entry.key)) continue;
      const reader = new EventLogReader(join(entry.key, EVENTS_FILE));
      this.readers.set(entry.key, reader);
      runs.push({ run: entry, events: thinRunEvents(reader.readNew()) });
    }
    this.compareKeys = runs.map((run) => run.run.key);
    const mainEntry = this.library.get(main);
    const configs = [main, ...this.compareKeys].map((key) => parseConfig(readResolvedConfig(key)));
    const labels = [mainEntry?.runId ?? main, ...runs.map((run) => run.run.runId)];
    this.post({ command: 'compare', runs, diff: { labels, rows: runs.length > 0 ? diffConfigs(configs) : [] } });
  }

  private sendNewEvents(key: string): void {
    const events = this.readers.get(key)?.readNew() ?? [];
    if (events.length > 0) this.post({ command: 'append', key, events });
  }

  private async sendRuns(refresh = false) {
    const runs = refresh ? await this.library.refresh() : this.library.list();
    this.post({ command: 'runs', runs });
    return runs;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.readers.clear();
  }
}

function parseConfig(text: string | null): unknown {
  if (text === null) return {};
  try {
    return parse(text) ?? {};
  } catch {
    return {};
  }
}
