import type { Disposable } from '../emitter';

/**
 * The part of the VS Code API that the monitoring features use, and nothing more. `vscodeEditorHost.ts` implements
 * it with 'vscode'; everything behind it (commands, the run manager, the status bar, the panel sessions) is plain
 * TypeScript that tests drive with a small recording host instead of a mock of the whole vscode module.
 */
export interface EditorHost {
  registerCommand(id: string, handler: (...args: unknown[]) => unknown): Disposable;
  executeCommand(id: string, ...args: unknown[]): Promise<unknown>;
  /** Workspace Trust: an untrusted workspace may not run code from its files, and training does. */
  isWorkspaceTrusted(): boolean;
  /** Every `*.embedtune.{yaml,yml,json}` in the workspace, as absolute paths. */
  findConfigFiles(): Promise<string[]>;
  /**
   * The config file a command is about: the resource passed by a menu, or the active editor's config. Unsaved
   * changes are saved first, since the engine reads the file from disk. Undefined when there is none.
   */
  configFor(resource: unknown): Promise<string | undefined>;
  showMessage(kind: MessageKind, message: string, options?: MessageOptions, ...actions: string[]): Promise<string | undefined>;
  pick<T>(items: readonly PickItem<T>[], options: { title: string; placeholder?: string }): Promise<T | undefined>;
  pickFile(options: {
    title: string;
    defaultPath?: string;
    filters?: Record<string, string[]>;
    folders?: boolean;
  }): Promise<string | undefined>;
  pickSaveLocation(options: { title: string; defaultPath: string; filters?: Record<string, string[]> }): Promise<string | undefined>;
  /**
   * A one-line text box (VS Code's input box). `validate` gets what is typed, trimmed, and returns why it cannot be
   * accepted, which the box shows while the text stays unaccepted; undefined when the box is dismissed.
   */
  askText(options: TextQuestion): Promise<string | undefined>;
  openFile(path: string): Promise<void>;
  revealInExplorer(path: string): Promise<void>;
  showProblems(): Promise<void>;
  withProgress<T>(title: string, task: () => Promise<T>): Promise<T>;
  /** The "EmbedTune Training" output channel. */
  appendOutput(lines: readonly string[]): void;
  showOutput(): void;
  createStatusItem(): StatusItem;
  setContext(key: string, value: unknown): void;
  setting<T>(key: string, fallback: T): T;
}

export type MessageKind = 'info' | 'warning' | 'error';

export interface MessageOptions {
  readonly modal?: boolean;
  readonly detail?: string;
}

export interface TextQuestion {
  readonly title: string;
  readonly placeholder?: string;
  /** A line under the box saying what to type. */
  readonly prompt?: string;
  readonly validate?: (text: string) => string | undefined;
}

export interface PickItem<T> {
  readonly label: string;
  readonly description?: string;
  readonly detail?: string;
  readonly value: T;
}

/** A status bar item. */
export interface StatusItem extends Disposable {
  text: string;
  tooltip: string;
  command: { command: string; arguments: unknown[] } | undefined;
  show(): void;
  hide(): void;
}

/** Opens the webview panels; the VS Code implementation creates or reveals them. */
export interface PanelOpener {
  /** With `compare`, the dashboard shows `key` compared with those runs. */
  showDashboard(key?: string, compare?: readonly string[]): void;
  showCheckpoints(key?: string): void;
  /** The Embedding Lab for a run's models, or for models the user picks when no key is given. */
  showLab?(key?: string): void;
}
