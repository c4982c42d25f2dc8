import * as vscode from 'vscode';
import { parseFromLab, type ToLab } from '../../shared/protocol/labMessages';
import { vscodeCancellableProgress } from '../backend/vscodeCancellableProgress';
import { vscodeConfigEditor } from '../mining/vscodeConfigEditor';
import type { MonitoringServices } from '../monitoring/activateMonitoring';
import { connectSessionWebview, webviewOptions } from '../panels/sessionWebview';
import { LabSession } from './labSession';

/** The Embedding Lab: a query's results under two models side by side, with how each result moved. */
export class LabPanel {
  static readonly viewType = 'embedtune.lab';
  static currentPanel: LabPanel | undefined;

  private readonly _disposables: vscode.Disposable[] = [];

  /** A Lab for another run replaces the open one: its models and corpus are settled when it opens. */
  static createOrShow(extensionUri: vscode.Uri, services: MonitoringServices, key?: string, second?: string): void {
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.One;
    LabPanel.currentPanel?.dispose();
    const panel = vscode.window.createWebviewPanel(LabPanel.viewType, 'EmbedTune Embedding Lab', column, webviewOptions(extensionUri));
    LabPanel.currentPanel = new LabPanel(panel, extensionUri, services, key, second);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    services: MonitoringServices,
    key: string | undefined,
    second: string | undefined,
  ) {
    const session = new LabSession(
      { ...services, progress: vscodeCancellableProgress, editor: vscodeConfigEditor },
      (message: ToLab) => {
        if (message.command === 'setup' && message.runId) panel.title = `Embedding Lab: ${message.runId}`;
        void panel.webview.postMessage(message);
      },
      key,
      second,
    );
    this._disposables.push(
      ...connectSessionWebview(panel, extensionUri, {
        name: 'lab',
        title: 'EmbedTune Embedding Lab',
        parse: parseFromLab,
        session,
        log: (lines) => services.host.appendOutput(lines),
        onDispose: () => this.dispose(),
      }),
    );
  }

  dispose(): void {
    if (LabPanel.currentPanel === this) LabPanel.currentPanel = undefined;
    this.panel.dispose();
    while (this._disposables.length) this._disposables.pop()?.dispose();
  }
}
