import type { RunStartedEvent } from '../../shared/events/runEvents';
import throughputResults from '../../../bench/results/trainThroughput.json';
import type { Disposable } from '../emitter';
import type { EditorHost } from '../host/editorHost';
import type { RunChange } from '../runs/runManager';
import { INSTALL_NATIVE_BACKEND_COMMAND } from './installNativeBackendCommand';

/** The training cases of `npm run bench:train`, as bench/results/trainThroughput.json records them. */
interface ThroughputResults {
  readonly cases: readonly {
    readonly id: string;
    readonly mode: string;
    readonly embedtune: { readonly per_second: number };
    readonly embedtune_tfjs_node?: { readonly per_second: number } | null;
  }[];
}

/**
 * How much faster the native backend trained than WebAssembly on the same CPU, as `npm run bench:train` last measured
 * it (all-MiniLM-L6-v2's shape, batch 32, seq 64, 2 threads), to one decimal; undefined when the results lack it.
 */
export function measuredNativeSpeedup(results: ThroughputResults, caseId = 'minilm-64'): number | undefined {
  const measured = results.cases.find((c) => c.id === caseId && c.mode === 'train');
  const native = measured?.embedtune_tfjs_node?.per_second;
  if (!measured || !native || !(measured.embedtune.per_second > 0)) return undefined;
  return Math.round((native / measured.embedtune.per_second) * 10) / 10;
}

export const NATIVE_TRAINING_SPEEDUP = measuredNativeSpeedup(throughputResults as ThroughputResults);

const SPEEDUP_SENTENCE =
  NATIVE_TRAINING_SPEEDUP !== undefined
    ? `The native TensorFlow backend trained ${NATIVE_TRAINING_SPEEDUP}× faster on the same CPU in EmbedTune's benchmark (all-MiniLM-L6-v2, docs/benchmarks.md).`
    : 'The native TensorFlow backend trains several times faster (docs/benchmarks.md).';

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
        `This run trains on WebAssembly (${started.device}). ${SPEEDUP_SENTENCE} Install it? The next run will use it.`,
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
