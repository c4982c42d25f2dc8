import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { formatRunPlan } from '../shared/config/runPlan';
import { DryRunRequest } from '../shared/protocol/languageMessages';

export function isConfigDocument(document: vscode.TextDocument): boolean {
  return /\.embedtune\.(ya?ml|json)$/i.test(document.fileName) || document.languageId === 'embedtune';
}

/** The config the command is about: the one passed from a menu or code lens, else the active editor's. */
async function targetConfig(resource: unknown): Promise<vscode.TextDocument | undefined> {
  if (resource instanceof vscode.Uri) return vscode.workspace.openTextDocument(resource);
  if (typeof resource === 'string') return vscode.workspace.openTextDocument(vscode.Uri.parse(resource));
  const active = vscode.window.activeTextEditor?.document;
  if (active && isConfigDocument(active)) return active;
  void vscode.window.showWarningMessage('EmbedTune: open a *.embedtune.yaml or *.embedtune.json file first.');
  return undefined;
}

export function registerConfigCommands(context: vscode.ExtensionContext, client: LanguageClient): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('embedtune.validateConfig', async (resource?: unknown) => {
      const document = await targetConfig(resource);
      if (!document) return;
      const result = await client.sendRequest<DryRunRequest.Result | null>(DryRunRequest.method, { uri: document.uri.toString() });
      if (!result) return;
      const name = vscode.workspace.asRelativePath(document.uri);
      if (result.errors === 0 && result.warnings === 0) {
        void vscode.window.showInformationMessage(`EmbedTune: ${name} is valid.`);
        return;
      }
      const choice = await vscode.window.showWarningMessage(
        `EmbedTune: ${name} has ${result.errors} error(s) and ${result.warnings} warning(s).`,
        'Show Problems',
      );
      if (choice === 'Show Problems') await vscode.commands.executeCommand('workbench.actions.view.problems');
    }),
    vscode.commands.registerCommand('embedtune.showDryRun', async (resource?: unknown) => {
      const document = await targetConfig(resource);
      if (!document) return;
      const result = await client.sendRequest<DryRunRequest.Result | null>(DryRunRequest.method, { uri: document.uri.toString() });
      if (!result) return;
      const detail = [...formatRunPlan(result.plan), `${result.errors} error(s), ${result.warnings} warning(s)`].join('\n');
      void vscode.window.showInformationMessage(`EmbedTune dry run of ${vscode.workspace.asRelativePath(document.uri)}`, {
        modal: true,
        detail,
      });
    }),
  );
}
