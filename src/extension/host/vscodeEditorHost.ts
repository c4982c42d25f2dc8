import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { Disposable } from '../emitter';
import type { EditorHost, MessageKind, MessageOptions, PickItem, StatusItem, TextQuestion } from './editorHost';

const CONFIG_GLOB = '**/*.embedtune.{yaml,yml,json}';
const EXCLUDE_GLOB = '**/{node_modules,.git}/**';

/** EditorHost over the real VS Code API: each method is a direct call, with no logic worth testing on its own. */
export class VsCodeEditorHost implements EditorHost {
  private readonly output: vscode.OutputChannel;

  constructor(private readonly context: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('EmbedTune Training');
    context.subscriptions.push(this.output);
  }

  registerCommand(id: string, handler: (...args: unknown[]) => unknown): Disposable {
    return vscode.commands.registerCommand(id, handler);
  }

  executeCommand(id: string, ...args: unknown[]): Promise<unknown> {
    return Promise.resolve(vscode.commands.executeCommand(id, ...args));
  }

  isWorkspaceTrusted(): boolean {
    return vscode.workspace.isTrusted;
  }

  async findConfigFiles(): Promise<string[]> {
    const uris = await vscode.workspace.findFiles(CONFIG_GLOB, EXCLUDE_GLOB, 500);
    return uris.filter((uri) => uri.scheme === 'file').map((uri) => uri.fsPath);
  }

  async configFor(resource: unknown): Promise<string | undefined> {
    let uri: vscode.Uri | undefined;
    if (resource instanceof vscode.Uri) uri = resource;
    else if (typeof resource === 'string' && existsSync(resource)) uri = vscode.Uri.file(resource);
    else if (typeof resource === 'string' && /^[a-z][\w+.-]*:/i.test(resource)) uri = vscode.Uri.parse(resource);
    else {
      const active = vscode.window.activeTextEditor?.document;
      if (active && /\.embedtune\.(ya?ml|json)$/i.test(active.fileName)) uri = active.uri;
    }
    if (!uri || uri.scheme !== 'file' || !/\.embedtune\.(ya?ml|json)$/i.test(uri.fsPath)) return undefined;
    const open = vscode.workspace.textDocuments.find((document) => document.uri.toString() === uri!.toString());
    if (open?.isDirty) await open.save();
    return uri.fsPath;
  }

  showMessage(kind: MessageKind, message: string, options: MessageOptions = {}, ...actions: string[]): Promise<string | undefined> {
    const show =
      kind === 'error'
        ? vscode.window.showErrorMessage
        : kind === 'warning'
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    return Promise.resolve(show(message, { modal: options.modal ?? false, detail: options.detail }, ...actions));
  }

  async pick<T>(items: readonly PickItem<T>[], options: { title: string; placeholder?: string }): Promise<T | undefined> {
    const picked = await vscode.window.showQuickPick(
      items.map((item) => ({ label: item.label, description: item.description, detail: item.detail, item })),
      { title: options.title, placeHolder: options.placeholder, matchOnDescription: true, matchOnDetail: true },
    );
    return picked?.item.value;
  }

  async pickFile(options: {
    title: string;
    defaultPath?: string;
    filters?: Record<string, string[]>;
    folders?: boolean;
  }): Promise<string | undefined> {
    const uris = await vscode.window.showOpenDialog({
      title: options.title,
      defaultUri: options.defaultPath ? vscode.Uri.file(options.defaultPath) : undefined,
      filters: options.filters,
      canSelectFiles: !options.folders,
      canSelectFolders: options.folders ?? false,
      canSelectMany: false,
    });
    return uris?.[0]?.fsPath;
  }

  async pickSaveLocation(options: { title: string; defaultPath: string; filters?: Record<string, string[]> }): Promise<string | undefined> {
    const uri = await vscode.window.showSaveDialog({
      title: options.title,
      defaultUri: vscode.Uri.file(options.defaultPath),
      filters: options.filters,
    });
    return uri?.fsPath;
  }

  async askText(options: TextQuestion): Promise<string | undefined> {
    const { validate } = options;
    const text = await vscode.window.showInputBox({
      title: options.title,
      placeHolder: options.placeholder,
      prompt: options.prompt,
      // The box stays open when focus moves away (to look a model id up, say).
      ignoreFocusOut: true,
      validateInput: validate ? (value) => validate(value.trim()) : undefined,
    });
    return text?.trim();
  }

  async openFile(path: string): Promise<void> {
    await vscode.window.showTextDocument(vscode.Uri.file(path), { preview: false });
  }

  async revealInExplorer(path: string): Promise<void> {
    await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(path));
  }

  async showProblems(): Promise<void> {
    await vscode.commands.executeCommand('workbench.actions.view.problems');
  }

  withProgress<T>(title: string, task: () => Promise<T>): Promise<T> {
    return Promise.resolve(vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, task));
  }

  appendOutput(lines: readonly string[]): void {
    for (const line of lines) this.output.appendLine(line);
  }

  showOutput(): void {
    this.output.show(true);
  }

  createStatusItem(): StatusItem {
    const item = vscode.window.createStatusBarItem('embedtune.run', vscode.StatusBarAlignment.Left, 10);
    item.name = 'EmbedTune Training';
    return {
      get text() {
        return item.text;
      },
      set text(value: string) {
        item.text = value;
      },
      get tooltip() {
        return typeof item.tooltip === 'string' ? item.tooltip : '';
      },
      set tooltip(value: string) {
        item.tooltip = value;
      },
      get command() {
        const command = item.command;
        return command && typeof command === 'object' ? { command: command.command, arguments: command.arguments ?? [] } : undefined;
      },
      set command(value) {
        item.command = value ? { title: 'Show Dashboard', command: value.command, arguments: value.arguments } : undefined;
      },
      show: () => item.show(),
      hide: () => item.hide(),
      dispose: () => item.dispose(),
    };
  }

  setContext(key: string, value: unknown): void {
    void vscode.commands.executeCommand('setContext', key, value);
  }

  setting<T>(key: string, fallback: T): T {
    return vscode.workspace.getConfiguration('embedtune').get<T>(key, fallback);
  }

  get extensionUri(): vscode.Uri {
    return this.context.extensionUri;
  }
}
