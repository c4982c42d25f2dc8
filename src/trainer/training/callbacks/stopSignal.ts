// Counterpart: EmbedTuneRunCallback.on_step_end (its StopSignal, via _any_process_stopping) in run_callback.py.
import type { StepLogs, TrainingCallback, TrainingControl } from './callbackList';

/** Ends the run after the current step when the user asked it to stop (SIGTERM, SIGINT, or the editor's Stop). */
export class StopSignal implements TrainingCallback {
  constructor(private readonly signal: { readonly requested: boolean }) {}

  async onStepEnd(_logs: StepLogs, control: TrainingControl): Promise<void> {
    if (control.stopReason) return;
    // Each step runs synchronously; yielding here lets a signal or message be handled between steps.
    await new Promise((resolveTurn) => setImmediate(resolveTurn));
    if (this.signal.requested) control.stop('stopped');
  }
}
