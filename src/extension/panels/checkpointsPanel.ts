import * as vscode from 'vscode';
import { parseFromCheckpoints, type ToCheckpoints } from '../../shared/protocol/checkpointsMessages';
import type { MonitoringServices } from '../monitoring/activateMonitoring';
import { LabPanel } from '../lab/labPanel';
import { openLab } from '../lab/openLabCommand';
import { CheckpointsSession } from './checkpointsSession';
import { connectSessionWebview, webviewOptions } from './sessionWebview';

/** The checkpoints of one run at a time: a sortable table with the best one marked, and actions on each. */
export class CheckpointsPanel {
  static readonly viewType = 'embedtune.checkpoints';
  static currentPanel: CheckpointsPanel | undefined;

  private readonly session: CheckpointsSession;
  private readonly _disposables: vscode.Disposable[] = [];

  static createOrShow(extensionUri: vscode.Uri, services: MonitoringServices, key?: string): void {
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.One;
    if (CheckpointsPanel.currentPanel) {
      CheckpointsPanel.currentPanel.panel.reveal(column);
      if (key) void CheckpointsPanel.currentPanel.session.show(key);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      CheckpointsPanel.viewType,
      'EmbedTune Checkpoints',
      column,
      webviewOptions(extensionUri),
    );
    CheckpointsPanel.currentPanel = new CheckpointsPanel(panel, extensionUri, services, key);
  }

  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, services: MonitoringServices): void {
    CheckpointsPanel.currentPanel = new CheckpointsPanel(panel, extensionUri, services, undefined);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    services: MonitoringServices,
    key: string | undefined,
  ) {
    this.session = new CheckpointsSession(
      {
        host: services.host,
        manager: services.manager,
        library: services.library,
        engine: services.engine,
        resumeFrom: (configPath, checkpoint) => services.controller.resumeFrom(configPath, checkpoint),
        // The Lab command's own checks (trust) apply; the run is known, so nothing is picked.
        openLab: (key, checkpoint) =>
          openLab(services.host, services.library, key, (runKey) => LabPanel.createOrShow(extensionUri, services, runKey, checkpoint)),
      },
      (message: ToCheckpoints) => {
        if (message.command === 'checkpoints') panel.title = `Checkpoints: ${message.run.runId}`;
        void panel.webview.postMessage(message);
      },
      key,
    );
    this._disposables.push(
      ...connectSessionWebview(panel, extensionUri, {
        name: 'checkpoints',
        title: 'EmbedTune Checkpoints',
        parse: parseFromCheckpoints,
        session: this.session,
        log: (lines) => services.host.appendOutput(lines),
        onDispose: () => this.dispose(),
      }),
    );
  }

  dispose(): void {
    CheckpointsPanel.currentPanel = undefined;
    this.panel.dispose();
    while (this._disposables.length) this._disposables.pop()?.dispose();
  }
}
