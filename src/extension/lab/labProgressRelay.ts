import type { CancellableProgress } from '../backend/cancellableProgress';
import type { ToLab } from '../../shared/protocol/labMessages';

/**
 * Shows a Lab task's progress in the page as well as in the editor's notification, and lets the page's Cancel stop
 * it as the notification's does: the task gets one signal that either aborts. Several tasks (a search and a tool)
 * may run at once; each is posted under its title, and Cancel stops them all.
 */
export class LabProgressRelay {
  private readonly running = new Set<AbortController>();

  constructor(private readonly post: (message: ToLab) => void) {}

  wrap(progress: CancellableProgress): CancellableProgress {
    return (title, task) =>
      progress(title, async (report, signal) => {
        const controller = new AbortController();
        const abort = () => controller.abort();
        if (signal.aborted) abort();
        signal.addEventListener('abort', abort);
        this.running.add(controller);
        this.post({ command: 'progress', title, message: 'starting…', fraction: null });
        try {
          return await task((message) => {
            report(message);
            this.post({ command: 'progress', title, message, fraction: progressFraction(message) });
          }, controller.signal);
        } finally {
          signal.removeEventListener('abort', abort);
          this.running.delete(controller);
          this.post({ command: 'progress', title, message: null, fraction: null });
        }
      });
  }

  /** The page's Cancel: stops every running task. */
  cancel(): void {
    for (const controller of this.running) controller.abort();
  }
}

/** "… 64 of 2000 texts" or "… 64/2000 …" → 0.032; undefined when the line says no count. */
export function progressFraction(message: string): number | null {
  const match = /(\d+)(?: of |\/)(\d+)/.exec(message);
  if (!match) return null;
  const total = Number(match[2]);
  return total > 0 ? Math.min(1, Number(match[1]) / total) : null;
}
