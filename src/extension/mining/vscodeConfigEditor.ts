import * as vscode from 'vscode';
import type { ConfigTextEditor } from './configTextEditor';

/** Edits the config's document with a WorkspaceEdit on the exact range (undoable, comments kept), then saves it. */
export const vscodeConfigEditor: ConfigTextEditor = {
  async edit(configPath, change) {
    const document = await vscode.workspace.openTextDocument(vscode.Uri.file(configPath));
    const replacement = change(document.getText());
    if (!replacement) return false;
    const edit = new vscode.WorkspaceEdit();
    const range = new vscode.Range(document.positionAt(replacement.range.start), document.positionAt(replacement.range.end));
    edit.replace(document.uri, range, replacement.newText);
    if (!(await vscode.workspace.applyEdit(edit))) return false;
    return document.save();
  },
};
