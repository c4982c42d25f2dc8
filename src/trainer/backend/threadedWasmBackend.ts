import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { Script } from 'node:vm';
import * as tf from '@tensorflow/tfjs-core';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type {
  BackendWasmThreadedSimdModule,
  WasmFactoryConfig,
} from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd';
import { missingFiles, THREADED_WASM_SCRIPTS } from './wasmBinaryDir';

/*
 * tfjs-backend-wasm ships a threaded SIMD build but never uses it under Node (its WASM_HAS_MULTITHREAD_SUPPORT flag
 * returns false there, tfjs issue #3830): its loader hands Emscripten blob: URLs for the worker script and for the
 * glue each worker re-imports, and Node's worker_threads take only file paths. The Emscripten glue itself supports
 * Node workers. So we start that glue ourselves with real file paths and hand the module to tfjs's own BackendWasm,
 * under the backend name 'wasm' so every registered wasm kernel applies unchanged.
 */

const GLUE = THREADED_WASM_SCRIPTS[0];
const WORKER_MODULE = THREADED_WASM_SCRIPTS[1];
const BINARY = 'tfjs-backend-wasm-threaded-simd.wasm';
/** Priority of tfjs's own wasm registration; ours replaces it at the same rank. */
export const WASM_PRIORITY = 2;
/** tfjs's C++ backend never starts more threads than its prebuilt pool of Emscripten workers. */
export const MAX_WASM_THREADS = 8;

/** The module as the glue builds it: tfjs's type plus the Emscripten runtime members we use. */
type ThreadedModule = BackendWasmThreadedSimdModule & {
  cwrap(name: string, returnType: 'number' | null, argTypes: string[]): (...args: number[]) => number;
  PThread: { runningWorkers: Array<{ unref(): void }>; unusedWorkers: Array<{ terminate(): unknown }> };
};
type ModuleFactory = (config: WasmFactoryConfig & { locateFile(file: string): string }) => Promise<ThreadedModule>;
type WasmImports = { env: Record<string, unknown> };

// lib ES2022 carries no WebAssembly types (they live in lib.dom); this is the one call made here.
declare const WebAssembly: {
  instantiate(binary: Uint8Array, imports: WasmImports): Promise<{ instance: unknown; module: unknown }>;
};

/**
 * Makes the threaded SIMD module tfjs's 'wasm' backend, with `threads` compute threads, and starts it. Throws, with
 * the registry unchanged, when a file is missing or the worker script does not compile; throws the start-up error
 * when the module does not start (tfjs has then already logged it).
 */
export async function startThreadedWasmBackend(dir: string, threads: number): Promise<void> {
  const missing = missingFiles(dir, [GLUE, WORKER_MODULE, BINARY]);
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing from ${dir}`);
  const workerScript = writeWorkerScript(dir);

  if (tf.findBackendFactory('wasm')) tf.removeBackend('wasm');
  setThreadsCount(threads);
  let failure: unknown = new Error('the threaded module did not start');
  tf.registerBackend(
    'wasm',
    async () => {
      try {
        const module = await startThreadedModule(dir, workerScript.file, threads);
        // The constructor starts the C++ thread pool, taking threads - 1 workers from Emscripten's pool of eight.
        const backend = new BackendWasm(module);
        releaseWorkers(module);
        return backend;
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        // Every worker has loaded the script by now, and releaseWorkers ensures no new one will ever need it.
        workerScript.remove();
      }
    },
    WASM_PRIORITY,
  );
  if (!(await tf.setBackend('wasm'))) throw failure;
}

/**
 * Emscripten keeps a worker that runs a pthread referenced, and the pool's threads wait forever, so without this the
 * trainer would never exit on its own. The idle spares hold an instance of the module each; no more pthreads are
 * ever created after the pool starts, so they go.
 */
function releaseWorkers(module: ThreadedModule): void {
  for (const worker of module.PThread.runningWorkers) worker.unref();
  for (const worker of module.PThread.unusedWorkers.splice(0)) void worker.terminate();
}

async function startThreadedModule(dir: string, workerScript: string, threads: number): Promise<ThreadedModule> {
  const gluePath = path.join(dir, GLUE);
  const factory = createRequire(gluePath)(gluePath) as ModuleFactory;
  let failInstantiation: (error: unknown) => void = () => {};
  const instantiationFailed = new Promise<never>((_, reject) => (failInstantiation = reject));
  const module = await Promise.race([
    factory({
      locateFile: (file) => (file.endsWith('.worker.js') ? workerScript : path.join(dir, file)),
      // Each worker evaluates this file to rebuild the module; the default would be the bundle that loaded the glue.
      mainScriptUrlOrBlob: gluePath,
      instantiateWasm: (imports: WasmImports, receiveInstance: (instance: unknown, module: unknown) => void) => {
        // The C++ side caps its thread pool at half the logical cores (it assumes hyper-threading), which leaves a
        // 2-core machine with one thread. Reporting twice the wanted count makes the cap exactly `threads`.
        imports.env.emscripten_num_logical_cores = () => 2 * threads;
        WebAssembly.instantiate(readFileSync(path.join(dir, BINARY)), imports).then(
          ({ instance, module: compiled }) => receiveInstance(instance, compiled),
          failInstantiation,
        );
        return {};
      },
    }),
    instantiationFailed,
  ]);
  // The same C-side entry points tfjs's own loader wraps; BackendWasm calls them through `module.tfjs`.
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  } as BackendWasmThreadedSimdModule['tfjs'];
  return module;
}

/**
 * Writes the pthread worker script, which the package ships only as a string export (meant for a browser Blob), to
 * a file Node can start, in a folder private to this process. Workers read it once, while the module starts.
 */
function writeWorkerScript(dir: string): { file: string; remove(): void } {
  const { wasmWorkerContents } = createRequire(path.join(dir, WORKER_MODULE))(path.join(dir, WORKER_MODULE)) as {
    wasmWorkerContents: string;
  };
  // The string is a template literal whose "\n" escapes became real newlines inside string literals; tfjs
  // re-escapes them the same way before making its Blob.
  const source = wasmWorkerContents.replace(/\n/g, '\\n');
  // A worker that fails to parse would crash the process from Emscripten's error handler instead of failing here.
  new Script(source, { filename: WORKER_MODULE });
  removeAbandonedFolders();
  // mkdtemp makes the folder readable by this user only, so no one else can swap in a script for our workers to run.
  const folder = mkdtempSync(path.join(os.tmpdir(), WORKER_FOLDER_PREFIX));
  // .cjs, because the script uses require() and a package.json with "type": "module" above /tmp would make .js ESM.
  const file = path.join(folder, 'tfjs-backend-wasm-threaded-simd.worker.cjs');
  writeFileSync(file, source);
  return { file, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

const WORKER_FOLDER_PREFIX = 'embedtune-wasm-';
/** Far longer than a start-up takes (under a few seconds), so only folders of processes killed mid-start match. */
const ABANDONED_AFTER_MS = 10 * 60 * 1000;

/** Removes worker-script folders left by processes killed while the module started, before they could clean up. */
function removeAbandonedFolders(): void {
  const uid = process.getuid?.();
  for (const name of readdirSync(os.tmpdir())) {
    if (!name.startsWith(WORKER_FOLDER_PREFIX)) continue;
    const folder = path.join(os.tmpdir(), name);
    try {
      const stats = statSync(folder);
      if ((uid === undefined || stats.uid === uid) && Date.now() - stats.mtimeMs > ABANDONED_AFTER_MS)
        rmSync(folder, { recursive: true, force: true });
    } catch {
      // Another process removed it first, or it is not ours to remove.
    }
  }
}
