/** Something to undo: the same shape as vscode.Disposable, so either kind goes into `context.subscriptions`. */
export interface Disposable {
  dispose(): void;
}

/**
 * A typed event source for the modules that must not import 'vscode' (the run manager and the panel sessions).
 * `event(listener)` subscribes and returns the subscription, as vscode.EventEmitter does.
 */
export class Emitter<T> implements Disposable {
  private listeners: ((value: T) => void)[] = [];

  readonly event = (listener: (value: T) => void): Disposable => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };

  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch (error) {
        // One broken listener must not stop the others, nor the run manager's poll loop.
        console.error('EmbedTune: an event listener threw', error);
      }
    }
  }

  dispose(): void {
    this.listeners = [];
  }
}
