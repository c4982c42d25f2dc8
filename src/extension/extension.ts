import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { registerConfigCommands } from './configCommands';
import { VsCodeEditorHost } from './host/vscodeEditorHost';
import { createLanguageClient } from './languageClient';
import { activateMonitoring } from './monitoring/activateMonitoring';
import { createWebviewPanels } from './panels/webviewPanels';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const monitoring = activateMonitoring({
    host: new VsCodeEditorHost(context),
    cliPath: context.asAbsolutePath('dist/cli.js'),
    defaultNodePath: process.execPath,
    createPanels: (services) => createWebviewPanels(context, services),
    workspaceFolder: () => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
  });
  context.subscriptions.push(monitoring);
  client = createLanguageClient(context);
  registerConfigCommands(context, client);
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
