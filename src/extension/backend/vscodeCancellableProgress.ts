import * as vscode from 'vscode';
import type { CancellableProgress } from './cancellableProgress';

/** A progress notification with VS Code's Cancel button, which aborts the task's signal. */
export const vscodeCancellableProgress: CancellableProgress = (title, task) =>
  Promise.resolve(
    vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      return task((message) => progress.report({ message }), controller.signal);
    }),
  );
