import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's CommonJS build registers no gradients (the @tensorflow/tfjs bundle does), and training needs them all.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
// Named imports, not bare ones: both packages declare themselves side-effect free, so esbuild drops a bare import
// and with it the backend registration.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import type { TfjsBackend } from '../../shared/config/configTypes';
import { loadNativeBackend } from './native/loadNativeBackend';
import { displayPath, locateNativePackage, type LocatedNativePackage } from './native/locateNativeBackend';
import type { NativeVariant } from './native/nativePackages';
import { probeNativeBackend } from './native/probeNativeBackend';
import { describeTensorflowDevices } from './native/tensorflowDevices';
import { registerSegmentSumKernels } from './segmentSumKernels';
import { MAX_WASM_THREADS, startThreadedWasmBackend, WASM_PRIORITY } from './threadedWasmBackend';
import { wasmBinaryDir } from './wasmBinaryDir';
import { withoutAddedProcessHandlers } from './withoutAddedProcessHandlers';

/** The backend a run asks for: `engine.backend`, declared once with the config types. */
export type { TfjsBackend as BackendPreference };

export interface SelectedBackend {
  /** tfjs's name for the backend now active: 'tensorflow', 'wasm' or 'cpu'. */
  readonly name: string;
  /** What runs the math, in words. */
  readonly device: string;
  /** Compute threads, where the backend lets us choose them (wasm). */
  readonly threads?: number;
  /** Which backend runs and why each faster one does not, e.g. "tfjs-node not installed; wasm with SIMD, 2 threads". */
  readonly reason: string;
}

export interface SelectBackendOptions {
  /** wasm compute threads; default one per available core, at most 8. 1 uses the single-threaded SIMD build. */
  readonly threads?: number;
  /** The folder holding the wasm run-time files; default {@link wasmBinaryDir}. */
  readonly wasmDir?: string;
}

type Attempt = (options: SelectBackendOptions) => Promise<SelectedBackend>;

/** Failure of one backend, phrased to follow its name: "not installed", "failed to load: …". */
class BackendUnavailable extends Error {
  /** Where it looked, for an error about a named backend; the auto reason keeps to the short message. */
  constructor(
    message: string,
    readonly detail?: string,
  ) {
    super(message);
  }
}

const ATTEMPTS: Record<Exclude<TfjsBackend, 'auto'>, Attempt> = {
  'node-gpu': () => useTensorflow('gpu'),
  node: () => useTensorflow('cpu'),
  wasm: useWasm,
  cpu: useCpu,
};

const AUTO_ORDER = ['node-gpu', 'node', 'wasm', 'cpu'] as const;

const PACKAGE_OF: Record<Exclude<TfjsBackend, 'auto'>, string> = {
  'node-gpu': '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/**
 * Makes the fastest usable tfjs backend active. 'auto' tries CUDA (tfjs-node-gpu), then TensorFlow on the CPU
 * (tfjs-node), then WebAssembly (SIMD, with threads where it can), then plain JavaScript; the optional packages are
 * simply skipped when they are not installed. A named preference that cannot start is an error, never a fallback.
 */
export async function selectBackend(preference: TfjsBackend, options: SelectBackendOptions = {}): Promise<SelectedBackend> {
  registerSegmentSumKernels();
  if (preference !== 'auto') {
    try {
      return await ATTEMPTS[preference](options);
    } catch (error) {
      const why =
        error instanceof BackendUnavailable
          ? `${error.message}${error.detail ? ` (${error.detail})` : ''}`
          : `failed to start: ${firstLine(error)}`;
      throw new Error(`The "${preference}" backend (${PACKAGE_OF[preference]}) is unavailable: ${why}. ${remedy(preference)}`);
    }
  }
  const skipped: string[] = [];
  for (const candidate of AUTO_ORDER) {
    try {
      const selected = await ATTEMPTS[candidate](options);
      return { ...selected, reason: [...skipped, selected.reason].join('; ') };
    } catch (error) {
      const why = error instanceof BackendUnavailable ? error.message : `failed to start: ${firstLine(error)}`;
      skipped.push(`${shortName(candidate)} ${why}`);
    }
  }
  throw new Error(`No tfjs backend could start: ${skipped.join('; ')}.`);
}

/**
 * tfjs-node or tfjs-node-gpu, wherever locateNativePackage finds it: the install a setting names, node_modules, or the
 * cache that `embedtune backend install` fills. No NODE_PATH and no restart: each training process looks again.
 */
async function useTensorflow(variant: NativeVariant): Promise<SelectedBackend> {
  const { found, tried } = locateNativePackage(variant);
  if (!found) throw new BackendUnavailable('not installed', tried.join('; '));
  // TensorFlow names the GPU it creates only in its log, so a child process loads the package first and reads it.
  const probe = variant === 'gpu' ? await probeNativeBackend(found) : undefined;
  if (probe && !probe.ok) throw new BackendUnavailable(`failed to load from ${displayPath(found.folder)}: ${probe.error}`);
  let usingGpu: boolean;
  try {
    ({ usingGpu } = await loadNativeBackend(found));
  } catch (error) {
    throw new BackendUnavailable(`failed to load from ${displayPath(found.folder)}: ${firstLine(error)}`);
  }
  const tensorflow = tensorflowVersion();
  const device =
    variant === 'gpu' && probe?.devices
      ? describeTensorflowDevices(probe.devices, usingGpu)
      : `CPU (TensorFlow${tensorflow ? ` ${tensorflow}` : ''} C library)`;
  return { name: 'tensorflow', device, reason: `${nativeOrigin(found, tensorflow)} on ${device}` };
}

/** "tfjs-node 4.22.0 (TensorFlow 2.12.1) from ~/.cache/embedtune/native-backends/tfjs-node-4.22.0" */
function nativeOrigin(found: LocatedNativePackage, tensorflow: string | undefined): string {
  const where =
    found.source === 'setting'
      ? `the install EMBEDTUNE_NATIVE_BACKEND names (${displayPath(found.folder)})`
      : found.source === 'cache'
        ? displayPath(found.folder)
        : `node_modules (${displayPath(found.folder)})`;
  return `${shortName(found.packageName)} ${found.version}${tensorflow ? ` (TensorFlow ${tensorflow})` : ''} from ${where}`;
}

function tensorflowVersion(): string | undefined {
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: unknown } }).binding;
  return typeof binding?.TF_Version === 'string' ? binding.TF_Version : undefined;
}

/** How the wasm backend was set up; it starts once per process, so later selections report the same. */
let wasmSetup: WasmSetup | undefined;

interface WasmSetup {
  /** The thread count asked for when wasm started, which may differ from the count it got. */
  readonly requested: number;
  readonly simd: boolean;
  /** Why the threads are fewer than requested, if they are. */
  readonly note: string;
}

async function useWasm(options: SelectBackendOptions): Promise<SelectedBackend> {
  if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
    throw new Error(`threads must be a whole number of at least 1, not ${options.threads}`);
  }
  if (!wasmSetup) wasmSetup = await withoutAddedProcessHandlers(() => startWasm(options));
  else if (!(await tf.setBackend('wasm'))) throw new BackendUnavailable('failed to start');
  const threads = getThreadsCount();
  const { simd } = wasmSetup;
  const note =
    options.threads !== undefined && Math.min(options.threads, MAX_WASM_THREADS) !== wasmSetup.requested
      ? ` (already running; threads are fixed once wasm starts)`
      : wasmSetup.note;
  const threadWords = `${threads} thread${threads === 1 ? '' : 's'}`;
  return {
    name: 'wasm',
    device: `CPU (WebAssembly${simd ? ' SIMD' : ''}, ${threadWords})`,
    threads,
    reason: `wasm ${version_wasm} with ${simd ? 'SIMD' : 'no SIMD'}, ${threadWords}${note}`,
  };
}

async function startWasm(options: SelectBackendOptions): Promise<WasmSetup> {
  const dir = options.wasmDir ?? wasmBinaryDir();
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const wanted = Math.min(options.threads ?? os.availableParallelism(), MAX_WASM_THREADS);
  let note = (options.threads ?? 0) > MAX_WASM_THREADS ? ` (tfjs's pool holds at most ${MAX_WASM_THREADS})` : '';

  if (simd && wanted > 1) {
    const stockFactory = tf.findBackendFactory('wasm');
    try {
      await startThreadedWasmBackend(dir, wanted);
      return { requested: wanted, simd, note };
    } catch (error) {
      note = ` (threads unavailable: ${firstLine(error)})`;
    }
    // Back to tfjs's own single-threaded loader, which the threaded one replaced in the registry.
    if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm');
    if (stockFactory) tf.registerBackend('wasm', stockFactory, WASM_PRIORITY);
  } else if (!simd) {
    note = ' (this runtime lacks WebAssembly SIMD, which the threaded build needs)';
  }
  setWasmPaths(`${dir}${path.sep}`);
  if (!(await tf.setBackend('wasm'))) throw new BackendUnavailable(`failed to start from ${dir}`);
  return { requested: wanted, simd, note };
}

async function useCpu(): Promise<SelectedBackend> {
  if (!(await tf.setBackend('cpu'))) throw new BackendUnavailable('failed to start');
  return { name: 'cpu', device: 'CPU (plain JavaScript)', reason: `cpu ${version_cpu}, plain JavaScript` };
}

function shortName(candidate: string): string {
  return candidate
    .replace('@tensorflow/', '')
    .replace(/^node-gpu$/, 'tfjs-node-gpu')
    .replace(/^node$/, 'tfjs-node');
}

function remedy(preference: Exclude<TfjsBackend, 'auto'>): string {
  switch (preference) {
    case 'node-gpu':
      return 'Install it with `embedtune backend install gpu` (in the editor: EmbedTune: Install Native Backend…), or set backend: auto.';
    case 'node':
      return 'Install it with `embedtune backend install cpu` (in the editor: EmbedTune: Install Native Backend…), or set backend: auto.';
    case 'wasm':
    case 'cpu':
      return 'Reinstall EmbedTune, or set backend: auto.';
  }
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0]!.trim();
}
