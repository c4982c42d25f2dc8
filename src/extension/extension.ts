import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { applyPythonSetting, registerAccelerateCommands } from './accelerate/accelerateCommands';
import { vscodeCancellableProgress } from './backend/vscodeCancellableProgress';
import { registerConfigCommands } from './configCommands';
import { VsCodeEditorHost } from './host/vscodeEditorHost';
import { createLanguageClient } from './languageClient';
import { activateMonitoring } from './monitoring/activateMonitoring';
import { registerMineHardNegativesCommand } from './mining/mineHardNegativesCommand';
import { vscodeConfigEditor } from './mining/vscodeConfigEditor';
import { createWebviewPanels } from './panels/webviewPanels';
import { registerPreviewDataCommand } from './preview/previewDataCommand';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const host = new VsCodeEditorHost(context);
  const workspaceFolder = () => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  // Before the run manager reattaches or starts anything: it passes the setting on to the engine it starts.
  applyPythonSetting(host, workspaceFolder());
  const monitoring = activateMonitoring({
    host,
    cliPath: context.asAbsolutePath('dist/cli.js'),
    defaultNodePath: process.execPath,
    createPanels: (services) => createWebviewPanels(context, services),
    workspaceFolder: () => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    cancellableProgress: vscodeCancellableProgress,
  });
  context.subscriptions.push(monitoring);
  context.subscriptions.push(
    registerMineHardNegativesCommand({
      host,
      engine: monitoring.services.engine,
      progress: vscodeCancellableProgress,
      editor: vscodeConfigEditor,
    }),
    registerPreviewDataCommand({
      host,
      engine: monitoring.services.engine,
      progress: vscodeCancellableProgress,
      // vscode.open shows an image in the image viewer, where showTextDocument would refuse a binary file.
      openInEditor: async (path) => {
        await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(path));
      },
    }),
  );
  context.subscriptions.push(
    ...registerAccelerateCommands({
      host,
      engine: monitoring.services.engine,
      requirementsPath: context.asAbsolutePath('python/embedtune_accelerate/requirements.txt'),
      workspaceFolder,
      updateSetting: (key, value) =>
        Promise.resolve(
          vscode.workspace
            .getConfiguration('embedtune')
            .update(key, value, workspaceFolder() ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global),
        ),
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('embedtune.accelerate.pythonPath')) applyPythonSetting(host, workspaceFolder());
    }),
  );
  client = createLanguageClient(context);
  registerConfigCommands(context, client);
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
