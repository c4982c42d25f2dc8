import type { Disposable } from '../emitter';
import type { EditorHost, StatusItem } from '../host/editorHost';
import type { ManagedRun, RunManager } from '../runs/runManager';
import { formatRunStatus } from './statusBarText';

const REFRESH_MS = 5000;

/**
 * The status bar item for the active run: the newest live run, or else the run that ended last, so that "done",
 * "stopped" or "failed" stays visible. A click opens that run's dashboard.
 */
export class RunStatusBar implements Disposable {
  private readonly item: StatusItem;
  private readonly subscriptions: Disposable[];
  private readonly timer: NodeJS.Timeout;

  constructor(
    host: EditorHost,
    private readonly manager: RunManager,
  ) {
    this.item = host.createStatusItem();
    this.subscriptions = [manager.onDidChange(() => this.update()), manager.onDidAdd(() => this.update())];
    // The ETA counts down between progress events.
    this.timer = setInterval(() => this.update(), REFRESH_MS);
    this.timer.unref();
    this.update();
  }

  /** The run the item is about. */
  activeRun(): ManagedRun | undefined {
    return pickStatusRun(this.manager.runs);
  }

  update(): void {
    const run = this.activeRun();
    if (!run) {
      this.item.hide();
      return;
    }
    const others = this.manager.liveRuns.filter((r) => r !== run).length;
    const { text, tooltip } = formatRunStatus(run, Date.now(), others);
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.command = { command: 'embedtune.showDashboard', arguments: run.key ? [run.key] : [] };
    this.item.show();
  }

  dispose(): void {
    clearInterval(this.timer);
    for (const subscription of this.subscriptions) subscription.dispose();
    this.item.dispose();
  }
}

/** The newest live run, else the newest run. */
export function pickStatusRun(runs: readonly ManagedRun[]): ManagedRun | undefined {
  const newest = (list: readonly ManagedRun[]) =>
    list.reduce<ManagedRun | undefined>((best, run) => (!best || run.id > best.id ? run : best), undefined);
  return newest(runs.filter((run) => run.live)) ?? newest(runs);
}
