import * as vscode from 'vscode';
import { parseFromLab, type ToLab } from '../../shared/protocol/labMessages';
import { vscodeCancellableProgress } from '../backend/vscodeCancellableProgress';
import { vscodeConfigEditor } from '../mining/vscodeConfigEditor';
import type { MonitoringServices } from '../monitoring/activateMonitoring';
import { connectSessionWebview, webviewOptions } from '../panels/sessionWebview';
import { SAVED_LAB_KEY, type LabMemory } from './labRestore';
import { LabSession, type LabSessionServices } from './labSession';

/** The open Lab's models, corpus and run, kept in the workspace's storage (see labRestore.ts for why not the page). */
export function workspaceLabMemory(state: vscode.Memento): LabMemory {
  return { load: () => state.get<unknown>(SAVED_LAB_KEY), save: (saved) => void state.update(SAVED_LAB_KEY, saved) };
}

/** The Embedding Lab: a query's results under two models side by side, with how each result moved. */
export class LabPanel {
  static readonly viewType = 'embedtune.lab';
  static currentPanel: LabPanel | undefined;
  /** Set when the panels are registered: where the open Lab is kept for a window reload. */
  static memory: LabMemory | undefined;

  private readonly _disposables: vscode.Disposable[] = [];
  private disposed = false;

  /** A Lab for another run replaces the open one: its models and corpus are settled when it opens. */
  static createOrShow(extensionUri: vscode.Uri, services: MonitoringServices, key?: string, second?: string): void {
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.One;
    LabPanel.currentPanel?.dispose();
    const panel = vscode.window.createWebviewPanel(LabPanel.viewType, 'EmbedTune Embedding Lab', column, webviewOptions(extensionUri));
    LabPanel.currentPanel = new LabPanel(
      panel,
      extensionUri,
      services,
      (sessionServices, post) => new LabSession(sessionServices, post, key, second),
    );
  }

  /**
   * Restores the panel after a window reload, on the models and corpus kept in `memory`. The serializer's state (the
   * page's own query, k, wins and map choice) is not read here: the page reads it back itself, with its guards.
   */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, services: MonitoringServices): void {
    LabPanel.currentPanel?.dispose();
    LabPanel.currentPanel = new LabPanel(panel, extensionUri, services, LabSession.revive);
  }

  private constructor(
    private readonly panel: vscode.WebviewPanel,
    extensionUri: vscode.Uri,
    services: MonitoringServices,
    open: (services: LabSessionServices, post: (message: ToLab) => void) => LabSession,
  ) {
    const session = open(
      { ...services, progress: vscodeCancellableProgress, editor: vscodeConfigEditor, memory: LabPanel.memory },
      (message: ToLab) => {
        // A child's last lines can arrive after the panel closed, whose webview then throws.
        if (this.disposed) return;
        if (message.command === 'setup' && message.runId) panel.title = `Embedding Lab: ${message.runId}`;
        void panel.webview.postMessage(message);
      },
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
    this.disposed = true;
    if (LabPanel.currentPanel === this) LabPanel.currentPanel = undefined;
    this.panel.dispose();
    while (this._disposables.length) this._disposables.pop()?.dispose();
  }
}
