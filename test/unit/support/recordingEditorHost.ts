import type { Disposable } from '../../../src/extension/emitter';
import type {
  EditorHost,
  MessageKind,
  MessageOptions,
  PanelOpener,
  PickItem,
  StatusItem,
  TextQuestion,
} from '../../../src/extension/host/editorHost';

export interface ShownMessage {
  readonly kind: MessageKind;
  readonly message: string;
  readonly options: MessageOptions;
  readonly actions: string[];
}

/**
 * An EditorHost that records what the extension asked the editor to do and answers dialogs from a script. It is
 * the small interface the monitoring code is written against, not a mock of the vscode module.
 */
export class RecordingEditorHost implements EditorHost {
  readonly commands = new Map<string, (...args: unknown[]) => unknown>();
  readonly messages: ShownMessage[] = [];
  readonly output: string[] = [];
  readonly opened: string[] = [];
  readonly revealed: string[] = [];
  readonly executed: { id: string; args: unknown[] }[] = [];
  readonly context = new Map<string, unknown>();
  readonly statusItems: RecordedStatusItem[] = [];
  /** Each text typed into an `askText` box, with the message its validation showed (undefined when it was accepted). */
  readonly typed: TypedText[] = [];
  trusted = true;
  configFiles: string[] = [];
  activeConfig: string | undefined;
  settings: Record<string, unknown> = {};
  outputShown = 0;
  problemsShown = 0;
  /**
   * Answers for the next dialogs, in order: a message's chosen action, a pick's value, a picked path, or the text
   * typed into a text box (a list of texts: typed one after another until the box's validation accepts one; when it
   * accepts none, the user gives up and dismisses the box). Undefined dismisses any of them.
   */
  readonly answers: unknown[] = [];

  registerCommand(id: string, handler: (...args: unknown[]) => unknown): Disposable {
    if (this.commands.has(id)) throw new Error(`command ${id} registered twice`);
    this.commands.set(id, handler);
    return { dispose: () => this.commands.delete(id) };
  }
  async executeCommand(id: string, ...args: unknown[]): Promise<unknown> {
    this.executed.push({ id, args });
    return this.commands.get(id)?.(...args);
  }
  isWorkspaceTrusted(): boolean {
    return this.trusted;
  }
  async findConfigFiles(): Promise<string[]> {
    return this.configFiles;
  }
  async configFor(resource: unknown): Promise<string | undefined> {
    return typeof resource === 'string' && /\.embedtune\.(ya?ml|json)$/.test(resource) ? resource : this.activeConfig;
  }
  async showMessage(kind: MessageKind, message: string, options: MessageOptions = {}, ...actions: string[]): Promise<string | undefined> {
    this.messages.push({ kind, message, options, actions });
    return actions.length > 0 ? (this.answers.shift() as string | undefined) : undefined;
  }
  async pick<T>(items: readonly PickItem<T>[]): Promise<T | undefined> {
    const answer = this.answers.shift();
    if (typeof answer === 'function') return (answer as (items: readonly PickItem<T>[]) => T | undefined)(items);
    return answer as T | undefined;
  }
  async pickFile(): Promise<string | undefined> {
    return this.answers.shift() as string | undefined;
  }
  async pickSaveLocation(): Promise<string | undefined> {
    return this.answers.shift() as string | undefined;
  }
  async askText(options: TextQuestion): Promise<string | undefined> {
    const answer = this.answers.shift();
    if (answer === undefined) return undefined;
    const attempts: unknown[] = Array.isArray(answer) ? answer : [answer];
    for (const attempt of attempts) {
      if (typeof attempt !== 'string') throw new Error(`a text box was answered with ${JSON.stringify(attempt)}, not a text`);
      const text = attempt.trim();
      const refused = options.validate?.(text);
      this.typed.push({ title: options.title, text, refused });
      if (refused === undefined) return text;
    }
    return undefined;
  }
  async openFile(path: string): Promise<void> {
    this.opened.push(path);
  }
  async revealInExplorer(path: string): Promise<void> {
    this.revealed.push(path);
  }
  async showProblems(): Promise<void> {
    this.problemsShown++;
  }
  withProgress<T>(_title: string, task: () => Promise<T>): Promise<T> {
    return task();
  }
  appendOutput(lines: readonly string[]): void {
    this.output.push(...lines);
  }
  showOutput(): void {
    this.outputShown++;
  }
  createStatusItem(): StatusItem {
    const item = new RecordedStatusItem();
    this.statusItems.push(item);
    return item;
  }
  setContext(key: string, value: unknown): void {
    this.context.set(key, value);
  }
  setting<T>(key: string, fallback: T): T {
    return (key in this.settings ? this.settings[key] : fallback) as T;
  }

  /** Runs a registered command as the editor would. */
  async run(id: string, ...args: unknown[]): Promise<unknown> {
    const handler = this.commands.get(id);
    if (!handler) throw new Error(`command ${id} is not registered`);
    return handler(...args);
  }
}

export interface TypedText {
  readonly title: string;
  readonly text: string;
  readonly refused: string | undefined;
}

export class RecordedStatusItem implements StatusItem {
  text = '';
  tooltip = '';
  command: { command: string; arguments: unknown[] } | undefined;
  visible = false;
  disposed = false;
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  dispose(): void {
    this.disposed = true;
  }
}

export class RecordingPanels implements PanelOpener {
  readonly dashboards: (string | undefined)[] = [];
  readonly checkpoints: (string | undefined)[] = [];
  showDashboard(key?: string): void {
    this.dashboards.push(key);
  }
  showCheckpoints(key?: string): void {
    this.checkpoints.push(key);
  }
}
