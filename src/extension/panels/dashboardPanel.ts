import * as vscode from 'vscode';
import { parseFromDashboard, type ToDashboard } from '../../shared/protocol/dashboardMessages';
import type { MonitoringServices } from '../monitoring/activateMonitoring';
import { DashboardSession } from './dashboardSession';
import { connectSessionWebview, webviewOptions } from './sessionWebview';

/** The training dashboard: progress, charts, compare, config and log of one run at a time. */
export class DashboardPanel {
  static readonly viewType = 'embedtune.dashboard';
  static currentPanel: DashboardPanel | undefined;

  private readonly session: DashboardSession;
  private readonly _disposables: vscode.Disposable[] = [];

  static createOrShow(extensionUri: vscode.Uri, services: MonitoringServices, key?: string, compare?: readonly string[]): void {
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.One;
    if (DashboardPanel.currentPanel) {
      DashboardPanel.currentPanel.panel.reveal(column, true);
      if (key) void DashboardPanel.currentPanel.session.show(key, compare);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      DashboardPanel.viewType,
      'EmbedTune Dashboard',
      { viewColumn: column, preserveFocus: true },
      webviewOptions(extensionUri),
    );
    DashboardPanel.currentPanel = new DashboardPanel(panel, extensionUri, services, key, compare);
  }

  /** Restores the panel after a reload; the webview sends the run it showed, from its saved state, when it is ready. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, services: MonitoringServices): void {
    DashboardPanel.currentPanel = new DashboardPanel(panel, extensionUri, services, undefined);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    services: MonitoringServices,
    key: string | undefined,
    compare?: readonly string[],
  ) {
    this.session = new DashboardSession(
      services.manager,
      services.library,
      (message: ToDashboard) => {
        if (message.command === 'show') panel.title = `EmbedTune: ${message.run.runId}`;
        void panel.webview.postMessage(message);
      },
      {
        stop: (runKey) => void services.controller.stopTraining(runKey),
        showCheckpoints: (runKey) => void vscode.commands.executeCommand('embedtune.showCheckpoints', runKey),
        openFile: (path) => void services.host.openFile(path),
      },
      key,
      compare,
    );
    this._disposables.push(
      ...connectSessionWebview(panel, extensionUri, {
        name: 'dashboard',
        title: 'EmbedTune Dashboard',
        parse: parseFromDashboard,
        session: this.session,
        log: (lines) => services.host.appendOutput(lines),
        onDispose: () => this.dispose(),
      }),
    );
  }

  dispose(): void {
    DashboardPanel.currentPanel = undefined;
    this.panel.dispose();
    while (this._disposables.length) this._disposables.pop()?.dispose();
  }
}
