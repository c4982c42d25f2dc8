import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { hasErrors, validateConfigText } from '../../shared/config/validateConfig';
import { formatMetric } from '../../shared/monitor/formatting';
import { CHECKPOINTS_DIR } from '../../shared/run/runFolder';
import { LineIndex } from '../../shared/textRange';
import type { Disposable } from '../emitter';
import type { EditorHost, PanelOpener } from '../host/editorHost';
import { listCheckpoints } from '../runs/checkpointListing';
import type { RunLibrary } from '../runs/runLibrary';
import type { ManagedRun, RunManager } from '../runs/runManager';

export const UNTRUSTED_MESSAGE =
  'EmbedTune: training is disabled in an untrusted workspace. Training runs code and reads files named by this workspace (the model, the data, the output folder); trust the workspace to train.';

/**
 * Start, stop and resume: the checks before a run starts (Workspace Trust, config errors, a run of the same config
 * already going), and the reports after (a failed or crashed run, with its error and the engine's output).
 */
export class TrainingController implements Disposable {
  private readonly subscriptions: Disposable[];

  constructor(
    private readonly host: EditorHost,
    private readonly manager: RunManager,
    private readonly library: RunLibrary,
    private readonly panels: PanelOpener,
  ) {
    this.subscriptions = [
      manager.onDidOutput(({ run, lines }) => host.appendOutput(lines.map((line) => `[${run.label}] ${line}`))),
      manager.onDidChange(({ run, lifecycleChanged }) => {
        if (!lifecycleChanged) return;
        this.updateContext();
        if (run.lifecycle === 'running' && run.origin === 'started' && run.key && host.setting('train.openDashboard', true))
          panels.showDashboard(run.key);
        if (run.lifecycle === 'failed' || run.lifecycle === 'crashed') void this.reportFailure(run);
        if (run.lifecycle === 'completed' || run.lifecycle === 'early_stopped') void this.reportDone(run);
      }),
      manager.onDidAdd(() => this.updateContext()),
    ];
  }

  /** Validates the config and starts training it. Returns the run, or undefined when it was refused (and says why). */
  async startTraining(resource?: unknown): Promise<ManagedRun | undefined> {
    if (!this.checkTrust()) return undefined;
    const configPath = await this.host.configFor(resource);
    if (!configPath) {
      void this.host.showMessage(
        'warning',
        'EmbedTune: open a *.embedtune.yaml or *.embedtune.json file, or pick one in the Explorer, to train it.',
      );
      return undefined;
    }
    return this.startChecked(configPath);
  }

  /** Resumes a config's run from a checkpoint the user picks among the config's runs. */
  async resumeTraining(resource?: unknown): Promise<ManagedRun | undefined> {
    if (!this.checkTrust()) return undefined;
    const configPath = await this.host.configFor(resource);
    if (!configPath) {
      void this.host.showMessage('warning', 'EmbedTune: open or pick the config whose run to resume.');
      return undefined;
    }
    const runs = (await this.library.refresh()).filter(
      (entry) => entry.configPath && resolve(entry.configPath) === resolve(configPath) && !entry.live,
    );
    const items = runs.flatMap((entry) =>
      listCheckpoints(entry.key)
        .reverse()
        .map((row) => ({
          label: `${entry.runId} / ${row.name}`,
          description: [
            row.isBest ? '★ best' : null,
            row.epoch !== null ? `epoch ${row.epoch.toFixed(2)}` : null,
            ...Object.entries(row.metrics).map(([k, v]) => `${k} ${formatMetric(v)}`),
          ]
            .filter(Boolean)
            .join(' · '),
          detail: `${entry.lifecycle} run, saved ${row.time ?? 'at an unknown time'}`,
          value: join(entry.key, CHECKPOINTS_DIR, row.name),
        })),
    );
    if (items.length === 0) {
      void this.host.showMessage('info', `EmbedTune: ${basename(configPath)} has no checkpoint to resume from. Start Training makes one.`);
      return undefined;
    }
    const checkpoint = await this.host.pick(items, {
      title: `Resume ${basename(configPath)} from a checkpoint`,
      placeholder: 'Newest first',
    });
    if (!checkpoint) return undefined;
    return this.startChecked(configPath, checkpoint);
  }

  /** Resumes from a given checkpoint folder (the checkpoints panel's "Resume from here"). */
  async resumeFrom(configPath: string, checkpoint: string): Promise<ManagedRun | undefined> {
    if (!this.checkTrust()) return undefined;
    return this.startChecked(configPath, checkpoint);
  }

  /** Stops a run, chosen by key or config, or picked among the live ones. A second stop kills it. */
  async stopTraining(target?: unknown): Promise<void> {
    let candidates = this.manager.liveRuns;
    if (typeof target === 'string' && this.manager.byKey(target))
      candidates = candidates.filter((run) => run === this.manager.byKey(target));
    else if (target !== undefined) {
      const configPath = await this.host.configFor(target);
      if (configPath) candidates = candidates.filter((run) => resolve(run.configPath) === resolve(configPath));
    }
    if (candidates.length === 0) {
      void this.host.showMessage('info', 'EmbedTune: no run is training.');
      return;
    }
    const run =
      candidates.length === 1
        ? candidates[0]
        : await this.host.pick(
            candidates.map((r) => ({
              label: r.label,
              description: `${r.lifecycle} · step ${r.progress.step}`,
              detail: r.configPath,
              value: r,
            })),
            { title: 'Stop which run?' },
          );
    if (!run) return;
    const outcome = this.manager.stop(run);
    if (outcome === 'stopping') {
      void this.host.showMessage(
        'info',
        `EmbedTune: stopping ${run.label}: the engine finishes its step and writes a checkpoint. Stop again to end it at once.`,
      );
    } else if (outcome === 'killed') {
      void this.host.showMessage('warning', `EmbedTune: ${run.label} was ended at once. Its last saved checkpoint is intact.`);
    }
  }

  /** Reattaches to the runs still going in this workspace (after a reload or a restart). */
  async reattach(): Promise<ManagedRun[]> {
    const runs = this.manager.reattach(await this.library.outputDirs());
    this.updateContext();
    return runs;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }

  private checkTrust(): boolean {
    if (this.host.isWorkspaceTrusted()) return true;
    void this.host.showMessage('warning', UNTRUSTED_MESSAGE, {}, 'Manage Workspace Trust').then((choice) => {
      if (choice === 'Manage Workspace Trust') void this.host.executeCommand('workbench.trust.manage');
    });
    return false;
  }

  private async startChecked(configPath: string, resume?: string): Promise<ManagedRun | undefined> {
    const name = basename(configPath);
    const errors = configErrors(configPath);
    if (errors.length > 0) {
      const detail = errors.slice(0, 8).join('\n') + (errors.length > 8 ? `\n… and ${errors.length - 8} more` : '');
      void this.host
        .showMessage('error', `EmbedTune: ${name} has ${errors.length} error(s); training did not start.`, { detail }, 'Show Problems')
        .then(async (choice) => {
          if (choice !== 'Show Problems') return;
          await this.host.openFile(configPath);
          await this.host.showProblems();
        });
      return undefined;
    }
    const already = this.manager.liveRuns.find((run) => resolve(run.configPath) === resolve(configPath));
    if (already) {
      const choice = await this.host.showMessage(
        'warning',
        `EmbedTune: ${already.label} is already training ${name}. Start another run of it?`,
        { modal: true },
        'Start Another Run',
      );
      if (choice !== 'Start Another Run') return undefined;
    }
    const run = this.manager.start({ configPath, resume });
    this.host.appendOutput([`[${run.label}] ${resume ? `resuming from ${resume}` : 'starting'} (pid ${run.pid ?? '?'})`]);
    this.updateContext();
    return run;
  }

  private async reportFailure(run: ManagedRun): Promise<void> {
    const failure = run.failure ?? 'The engine stopped without saying why.';
    this.host.appendOutput([
      `[${run.label}] ${run.lifecycle.toUpperCase()}: ${failure}`,
      ...(run.output.length > 0 ? [`[${run.label}] last engine output:`, ...run.output.slice(-20).map((line) => `    ${line}`)] : []),
    ]);
    const choice = await this.host.showMessage(
      'error',
      `EmbedTune: ${run.label} ${run.lifecycle}: ${failure.split('\n')[0]}`,
      {},
      'Show Log',
      ...(run.key ? ['Show Dashboard'] : []),
    );
    if (choice === 'Show Log') this.host.showOutput();
    if (choice === 'Show Dashboard' && run.key) this.panels.showDashboard(run.key);
  }

  private async reportDone(run: ManagedRun): Promise<void> {
    const best = run.progress.best;
    const choice = await this.host.showMessage(
      'info',
      `EmbedTune: ${run.label} finished${best ? `; best ${best.metric.name} ${formatMetric(best.metric.value)} at step ${best.step}` : ''}.`,
      {},
      'Show Checkpoints',
    );
    if (choice === 'Show Checkpoints' && run.key) this.panels.showCheckpoints(run.key);
  }

  private updateContext(): void {
    this.host.setContext('embedtune.trainingLive', this.manager.liveRuns.length > 0);
  }
}

/** The config's errors as `line N: message`, from the same validation engine the language server and the trainer use. */
export function configErrors(configPath: string): string[] {
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (error) {
    return [`${configPath} cannot be read: ${(error as Error).message}`];
  }
  const { diagnostics } = validateConfigText(text, { configPath });
  if (!hasErrors(diagnostics)) return [];
  const lines = new LineIndex(text);
  return diagnostics.filter((d) => d.severity === 'error').map((d) => `line ${lines.positionAt(d.range.start).line + 1}: ${d.message}`);
}
