import type { EditorHost } from '../host/editorHost';

/** A task shown as a notification with a Cancel button; `report` changes its message, `signal` aborts on Cancel. */
export type CancellableProgress = <T>(
  title: string,
  task: (report: (message: string) => void, signal: AbortSignal) => Promise<T>,
) => Promise<T>;

/** Where the editor offers no Cancel button (tests, or a host without one): the same task, never cancelled. */
export function progressWithoutCancel(host: EditorHost): CancellableProgress {
  return (title, task) => host.withProgress(title, () => task(() => undefined, new AbortController().signal));
}
