import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

/** The WebAssembly binaries, one per CPU feature level; tfjs picks one when the backend starts. */
export const WASM_BINARIES = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'] as const;

/**
 * What the threaded backend needs beside its binary. The Emscripten glue must stay a file of its own, never
 * bundled: every pthread worker loads it again by path. The worker module is the source of the worker script.
 */
export const THREADED_WASM_SCRIPTS = ['tfjs-backend-wasm-threaded-simd.js', 'tfjs-backend-wasm-threaded-simd.worker.js'] as const;

/** Every file the wasm backend reads at run time; the build copies these next to dist/cli.js. */
export const WASM_RUNTIME_FILES: readonly string[] = [...WASM_BINARIES, ...THREADED_WASM_SCRIPTS];

/** Where the files come from in an installed tfjs-backend-wasm: its wasm-out folder holds all five. */
const PACKAGE_SUBDIR = 'wasm-out';

/**
 * The folder that holds the wasm backend's run-time files: next to the running bundle (dist/, where the build copies
 * them) or else in the installed @tensorflow/tfjs-backend-wasm package. Only the single-threaded binaries are
 * required here; the threaded backend checks for its own extra files and says which are missing.
 */
export function wasmBinaryDir(candidates: readonly string[] = defaultCandidates()): string {
  const required = ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm'];
  const found = candidates.find((dir) => required.every((file) => existsSync(path.join(dir, file))));
  if (found) return found;
  throw new Error(
    `The WebAssembly backend's binaries (${required.join(', ')}) are in none of: ${candidates.join(', ')}. ` +
      'A built extension carries them next to dist/cli.js; run "npm run build", or reinstall @tensorflow/tfjs-backend-wasm.',
  );
}

/** The files among `files` that `dir` lacks. */
export function missingFiles(dir: string, files: readonly string[]): string[] {
  return files.filter((file) => !existsSync(path.join(dir, file)));
}

function defaultCandidates(): string[] {
  // In the esbuild bundle __filename is dist/cli.js; under tsx it is this source file, whose folder holds no binaries.
  const candidates = [path.dirname(__filename)];
  try {
    const manifest = createRequire(__filename).resolve('@tensorflow/tfjs-backend-wasm/package.json');
    candidates.push(path.join(path.dirname(manifest), PACKAGE_SUBDIR));
  } catch {
    // Not installed: the bundle folder is the only place left to look, and the error above names it.
  }
  return candidates;
}
