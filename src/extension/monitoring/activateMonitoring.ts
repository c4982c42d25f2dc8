import { resolve } from 'node:path';
import { progressWithoutCancel, type CancellableProgress } from '../backend/cancellableProgress';
import { INSTALL_NATIVE_BACKEND_COMMAND, installNativeBackend } from '../backend/installNativeBackendCommand';
import { nativeBackendEnvironment } from '../backend/nativeBackendSettings';
import { WasmNotice } from '../backend/wasmNotice';
import type { Disposable } from '../emitter';
import type { EditorHost, PanelOpener } from '../host/editorHost';
import { openLab } from '../lab/openLabCommand';
import type { EngineCommand } from '../runs/engineProcess';
import { RunLibrary } from '../runs/runLibrary';
import { RunManager } from '../runs/runManager';
import { RunStatusBar } from '../statusBar/runStatusBar';
import { compareRuns } from './compareRunsCommand';
import { runNewConfigWizard } from './newConfigWizard';
import { TrainingController } from './trainingController';

/** The commands this module registers; the manifest contributes each one under the "EmbedTune" category. */
export const MONITORING_COMMANDS = [
  'embedtune.startTraining',
  'embedtune.stopTraining',
  'embedtune.resumeTraining',
  'embedtune.showDashboard',
  'embedtune.compareRuns',
  'embedtune.showCheckpoints',
  'embedtune.openLab',
  'embedtune.newConfig',
  'embedtune.showTrainingLog',
  INSTALL_NATIVE_BACKEND_COMMAND,
] as const;

export interface MonitoringServices {
  readonly host: EditorHost;
  readonly engine: EngineCommand;
  readonly manager: RunManager;
  readonly library: RunLibrary;
  readonly controller: TrainingController;
}

export interface MonitoringOptions {
  readonly host: EditorHost;
  /** `dist/cli.js` of this extension. */
  readonly cliPath: string;
  /** The Node.js runtime when the `embedtune.train.nodePath` setting is empty: the editor's own. */
  readonly defaultNodePath: string;
  /** Creates the webview panels once the services exist (the VS Code panels, or a recorder in tests). */
  readonly createPanels: (services: () => MonitoringServices) => PanelOpener;
  readonly workspaceFolder?: () => string | undefined;
  readonly logDir?: string;
  readonly pollMs?: number;
  /** How often the output folders are scanned for runs started elsewhere (the CLI, another window). */
  readonly discoveryMs?: number;
  /** A progress notification with a Cancel button, for the native backend install; without one it cannot be cancelled. */
  readonly cancellableProgress?: CancellableProgress;
}

export interface Monitoring extends Disposable {
  readonly services: MonitoringServices;
  readonly panels: PanelOpener;
  readonly statusBar: RunStatusBar;
  /** Settles when the runs still going in the workspace have been reattached. */
  readonly reattached: Promise<unknown>;
}

/**
 * Wires training and monitoring into the editor: the run manager, the status bar, the panels and the commands, and
 * reattaches to runs still going. Everything goes through `EditorHost`, so this runs the same under VS Code and in
 * tests.
 */
export function activateMonitoring(options: MonitoringOptions): Monitoring {
  const { host } = options;
  // Getters, read at each engine start: a changed embedtune.train.nodePath or embedtune.nativeBackend.* setting
  // applies to the next run with no window reload.
  const engine: EngineCommand = {
    get nodePath() {
      return host.setting('train.nodePath', '').trim() || options.defaultNodePath;
    },
    cliPath: options.cliPath,
    settingsEnvironment: () => nativeBackendEnvironment(host),
  };
  const manager = new RunManager({ engine, logDir: options.logDir, pollMs: options.pollMs });
  const library = new RunLibrary(manager, () => host.findConfigFiles());
  // The panels need the controller and the controller opens panels: the panels get the services when they first use them.
  const late: { services?: MonitoringServices } = {};
  const panels = options.createPanels(() => late.services!);
  const controller = new TrainingController(host, manager, library, panels);
  const services: MonitoringServices = { host, engine, manager, library, controller };
  late.services = services;
  const statusBar = new RunStatusBar(host, manager);

  /** A run key from a status bar click or a message, or the newest run of a config picked in the Explorer. */
  const runKeyFor = async (target: unknown): Promise<string | undefined> => {
    if (typeof target === 'string' && (await library.resolve(target))) return target;
    if (target === undefined) return undefined;
    const configPath = await host.configFor(target);
    if (!configPath) return undefined;
    const runs = await library.refresh();
    return runs.find((run) => run.configPath !== null && resolve(run.configPath) === resolve(configPath))?.key;
  };

  const disposables: Disposable[] = [
    manager,
    controller,
    statusBar,
    host.registerCommand('embedtune.startTraining', (resource) => controller.startTraining(resource)),
    host.registerCommand('embedtune.stopTraining', (target) => controller.stopTraining(target)),
    host.registerCommand('embedtune.resumeTraining', (resource) => controller.resumeTraining(resource)),
    host.registerCommand('embedtune.showDashboard', async (target) => panels.showDashboard(await runKeyFor(target))),
    host.registerCommand('embedtune.compareRuns', (keys) => compareRuns(panels, keys)),
    host.registerCommand('embedtune.showCheckpoints', async (target) => panels.showCheckpoints(await runKeyFor(target))),
    host.registerCommand('embedtune.openLab', async (target) =>
      openLab(host, library, await runKeyFor(target), (key) => panels.showLab?.(key)),
    ),
    host.registerCommand('embedtune.newConfig', () => runNewConfigWizard(host, options.workspaceFolder?.())),
    host.registerCommand('embedtune.showTrainingLog', () => host.showOutput()),
    host.registerCommand(INSTALL_NATIVE_BACKEND_COMMAND, (variant) =>
      installNativeBackend({ host, engine, progress: options.cancellableProgress ?? progressWithoutCancel(host) }, variant),
    ),
    new WasmNotice(host, (listener) => manager.onDidChange(listener)),
  ];
  const reattach = () =>
    controller.reattach().catch((error: unknown) => host.appendOutput([`Reattaching to running trainings failed: ${String(error)}`]));
  const reattached = reattach();
  // A run started from the CLI or another window while this one is open is picked up too.
  const discovery = setInterval(() => void reattach(), options.discoveryMs ?? 15_000);
  discovery.unref();
  disposables.push({ dispose: () => clearInterval(discovery) });
  return {
    services,
    panels,
    statusBar,
    reattached,
    dispose: () => {
      for (const disposable of disposables.reverse()) disposable.dispose();
    },
  };
}
