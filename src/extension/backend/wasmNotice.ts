import type { RunStartedEvent } from '../../shared/events/runEvents';
import type { Disposable } from '../emitter';
import type { EditorHost } from '../host/editorHost';
import type { RunChange } from '../runs/runManager';
import { INSTALL_NATIVE_BACKEND_COMMAND } from './installNativeBackendCommand';

/**
 * How much faster the native backend trained than WebAssembly on the same CPU in `npm run bench:train`
 * (bench/results/trainThroughput.json: all-MiniLM-L6-v2's shape, batch 32, seq 64, 2 threads: 5.80 against 1.50
 * pairs/s; BERT-mini 16.98 against 4.44). A unit test keeps this equal to the measured ratio.
 */
export const NATIVE_TRAINING_SPEEDUP = 3.9;

export const INSTALL_ACTION = 'Install Native Backend…';

/**
 * Says once per editor session, when a run is seen training on WebAssembly, that the native backend would be faster,
 * by how much, and offers to install it.
 */
export class WasmNotice implements Disposable {
  private shown = false;
  private readonly subscription: Disposable;

  constructor(
    private readonly host: EditorHost,
    onDidChange: (listener: (change: RunChange) => void) => Disposable,
  ) {
    this.subscription = onDidChange((change) => this.consider(change));
  }

  private consider({ run, events }: RunChange): void {
    if (this.shown || !run.live) return;
    const started = events.find((event): event is RunStartedEvent => event.type === 'run_started');
    if (!started || started.backend !== 'wasm') return;
    this.shown = true;
    void this.host
      .showMessage(
        'info',
        `This run trains on WebAssembly (${started.device}). The native TensorFlow backend trained ${NATIVE_TRAINING_SPEEDUP}× faster on the same CPU in EmbedTune's benchmark (all-MiniLM-L6-v2, docs/benchmarks.md). Install it? The next run will use it.`,
        {},
        INSTALL_ACTION,
        'Not Now',
      )
      .then((choice) => {
        if (choice === INSTALL_ACTION) void this.host.executeCommand(INSTALL_NATIVE_BACKEND_COMMAND);
      });
  }

  dispose(): void {
    this.subscription.dispose();
  }
}
