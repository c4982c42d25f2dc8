import { rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { EventLogReader } from '../../shared/events/eventLogReader';
import { formatBytes, formatMetric } from '../../shared/monitor/formatting';
import { RunProgress } from '../../shared/monitor/runProgress';
import {
  CHECKPOINT_NAME,
  type CheckpointAction,
  type CheckpointRow,
  type FromCheckpoints,
  type ToCheckpoints,
} from '../../shared/protocol/checkpointsMessages';
import type { RunListEntry } from '../../shared/protocol/runListEntry';
import type { Disposable } from '../emitter';
import type { EditorHost } from '../host/editorHost';
import { listCheckpoints } from '../runs/checkpointListing';
import { lastLines, runEngineCommand, type EngineCommand, type EngineResult } from '../runs/engineProcess';
import { CHECKPOINTS_DIR, EVENTS_FILE } from '../../shared/run/runFolder';
import type { RunLibrary } from '../runs/runLibrary';
import type { RunManager } from '../runs/runManager';

export interface CheckpointsDeps {
  readonly host: EditorHost;
  readonly manager: RunManager;
  readonly library: RunLibrary;
  readonly engine: EngineCommand;
  resumeFrom(configPath: string, checkpoint: string): Promise<unknown>;
  /** Opens the Embedding Lab on the run, comparing its base model with this checkpoint folder. */
  openLab?(key: string, checkpoint: string): Promise<void>;
  /** Runs `embedtune eval|export …`; the real engine unless a test says otherwise. */
  runEngine?(args: readonly string[], cwd: string): Promise<EngineResult>;
}

/**
 * What the checkpoints webview shows and does, without the webview: the table of a run's checkpoints (updated as
 * the engine saves new ones), and the actions on one: evaluate on a data file, resume from it, export it as a
 * sentence-transformers folder, reveal it, delete it (confirmed, and confirmed twice for the best one).
 */
export class CheckpointsSession implements Disposable {
  private key: string | null;
  private progress: { key: string; reader: EventLogReader; progress: RunProgress } | null = null;
  private rows: CheckpointRow[] = [];
  private readonly subscriptions: Disposable[];

  constructor(
    private readonly deps: CheckpointsDeps,
    private readonly post: (message: ToCheckpoints) => void,
    initialKey?: string,
  ) {
    this.key = initialKey ?? null;
    this.subscriptions = [
      deps.manager.onDidChange(({ run, events, lifecycleChanged }) => {
        if (run.key !== this.key) return;
        if (lifecycleChanged || events.some((event) => event.type === 'checkpoint')) void this.refresh();
      }),
    ];
  }

  get shownKey(): string | null {
    return this.key;
  }

  async handle(message: FromCheckpoints): Promise<void> {
    switch (message.command) {
      case 'ready': {
        this.progress = null;
        const runs = await this.deps.library.refresh();
        this.post({ command: 'runs', runs });
        const wanted = this.key ?? message.key;
        const key = (wanted && this.deps.library.get(wanted)?.key) ?? runs.find((run) => run.live)?.key ?? runs[0]?.key ?? null;
        if (key) await this.show(key);
        break;
      }
      case 'selectRun':
        await this.show(message.key);
        break;
      default:
        await this.act(message.command, message.key, message.checkpoint);
    }
  }

  async show(key: string): Promise<void> {
    const entry = await this.deps.library.resolve(key);
    if (!entry) return;
    this.key = entry.key;
    await this.refresh();
  }

  /** Reads the checkpoints folder again and sends the table. */
  async refresh(): Promise<void> {
    const entry = this.key ? await this.deps.library.resolve(this.key) : undefined;
    if (!entry) return;
    if (this.progress?.key !== entry.key)
      this.progress = { key: entry.key, reader: new EventLogReader(join(entry.key, EVENTS_FILE)), progress: new RunProgress() };
    const { progress, reader } = this.progress;
    progress.add(reader.readNew());
    this.rows = listCheckpoints(entry.key, progress.checkpoints);
    this.post({
      command: 'checkpoints',
      run: entry,
      rows: this.rows,
      primary: progress.latestEval?.primary.name ?? progress.best?.metric.name ?? null,
    });
  }

  private async act(action: CheckpointAction, key: string, name: string): Promise<void> {
    const entry = await this.deps.library.resolve(key);
    if (!entry || !CHECKPOINT_NAME.test(name)) return;
    if (entry.key !== this.key) await this.show(entry.key);
    const row = this.rows.find((r) => r.name === name);
    if (!row) {
      void this.deps.host.showMessage('warning', `EmbedTune: checkpoint ${name} of ${entry.runId} is no longer there.`);
      await this.refresh();
      return;
    }
    const folder = join(entry.key, CHECKPOINTS_DIR, name);
    switch (action) {
      case 'evaluate':
        return this.evaluate(entry, row, folder);
      case 'resume':
        if (!entry.configPath)
          return void this.deps.host.showMessage(
            'error',
            `EmbedTune: ${entry.runId} does not name its config (run.json is missing), so it cannot be resumed from here.`,
          );
        if (entry.live)
          return void this.deps.host.showMessage(
            'warning',
            `EmbedTune: ${entry.runId} is still training. Stop it before resuming from one of its checkpoints.`,
          );
        await this.deps.resumeFrom(entry.configPath, folder);
        return;
      case 'export':
        return this.export(entry, row, folder);
      case 'lab':
        await this.deps.openLab?.(entry.key, folder);
        return;
      case 'reveal':
        await this.deps.host.revealInExplorer(folder);
        return;
      case 'delete':
        return this.delete(entry, row, folder);
    }
  }

  private async evaluate(entry: RunListEntry, row: CheckpointRow, folder: string): Promise<void> {
    const { host } = this.deps;
    if (!entry.configPath)
      return void host.showMessage('error', `EmbedTune: ${entry.runId} does not name its config, which says how to read the data.`);
    const data = await host.pickFile({
      title: `Evaluate ${row.name} on a data file`,
      defaultPath: dirname(entry.configPath),
      filters: { 'Data files': ['jsonl', 'ndjson', 'csv', 'tsv', 'tab'] },
    });
    if (!data) return;
    const result = await this.runBusy(
      row.name,
      'evaluate',
      `Evaluating ${row.name} on ${basename(data)}…`,
      ['eval', folder, '--config', entry.configPath, '--data', data],
      dirname(entry.configPath),
    );
    if (!result) return;
    await this.refresh();
    const evaluated = this.rows.find((r) => r.name === row.name)?.evaluation;
    const metrics = evaluated
      ? Object.entries(evaluated.metrics)
          .map(([metric, value]) => `${metric} ${formatMetric(value)}`)
          .join(' · ')
      : 'done';
    void host.showMessage('info', `EmbedTune: ${row.name} on ${basename(data)}: ${metrics}`);
  }

  private async export(entry: RunListEntry, row: CheckpointRow, folder: string): Promise<void> {
    const { host } = this.deps;
    const out = await host.pickSaveLocation({
      title: `Export ${row.name} as a sentence-transformers folder`,
      defaultPath: join(entry.key, `export-${row.name}`),
    });
    if (!out) return;
    const result = await this.runBusy(row.name, 'export', `Exporting ${row.name}…`, ['export', folder, '--out', out], entry.key);
    if (!result) return;
    const choice = await host.showMessage(
      'info',
      `EmbedTune: exported ${row.name} to ${out}. SentenceTransformer("${out}") loads it.`,
      {},
      'Reveal in Explorer',
    );
    if (choice === 'Reveal in Explorer') await host.revealInExplorer(out);
  }

  private async delete(entry: RunListEntry, row: CheckpointRow, folder: string): Promise<void> {
    const { host } = this.deps;
    const first = await host.showMessage(
      'warning',
      `Delete checkpoint ${row.name} of ${entry.runId}?`,
      { modal: true, detail: `${formatBytes(row.sizeBytes)} on disk. This cannot be undone.` },
      'Delete',
    );
    if (first !== 'Delete') return;
    if (row.isBest) {
      const metric = Object.entries(row.metrics)[0];
      const second = await host.showMessage(
        'warning',
        `${row.name} is the BEST checkpoint of ${entry.runId}${metric ? ` (${metric[0]} ${formatMetric(metric[1])})` : ''}. Delete it anyway?`,
        { modal: true, detail: 'The run would have no best checkpoint to resume from or export.' },
        'Delete Best Checkpoint',
      );
      if (second !== 'Delete Best Checkpoint') return;
    }
    rmSync(folder, { recursive: true, force: true });
    await this.refresh();
  }

  private async runBusy(
    name: string,
    action: CheckpointAction,
    title: string,
    args: string[],
    cwd: string,
  ): Promise<EngineResult | undefined> {
    const { host, engine } = this.deps;
    const run = this.deps.runEngine ?? ((a: readonly string[], c: string) => runEngineCommand(engine, a, c));
    this.post({ command: 'busy', checkpoint: name, action });
    let result: EngineResult;
    try {
      result = await host.withProgress(title, () => run(args, cwd));
    } catch (error) {
      void host.showMessage('error', `EmbedTune: ${action} of ${name} could not run: ${(error as Error).message}`);
      return undefined;
    } finally {
      this.post({ command: 'busy', checkpoint: null, action: null });
    }
    if (result.code === 0) return result;
    const tail = lastLines(result.stderr, 12);
    host.appendOutput([`[${action} ${name}] failed (exit ${result.code ?? result.signal}):`, ...tail.map((line) => `    ${line}`)]);
    const choice = await host.showMessage(
      'error',
      `EmbedTune: ${action} of ${name} failed: ${tail.at(-1) ?? `exit code ${result.code}`}`,
      {},
      'Show Log',
    );
    if (choice === 'Show Log') host.showOutput();
    return undefined;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
