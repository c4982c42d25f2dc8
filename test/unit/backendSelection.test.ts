import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import { locateNativePackage } from '../../src/trainer/backend/native/locateNativeBackend';
import { selectBackend, type SelectedBackend } from '../../src/trainer/backend/selectBackend';
import { WASM_BINARIES, WASM_RUNTIME_FILES, wasmBinaryDir } from '../../src/trainer/backend/wasmBinaryDir';

const ROOT = path.resolve(__dirname, '..', '..');
const EXPECTED_THREADS = Math.min(os.availableParallelism(), 8);

// Wherever the trainer would find them: the EMBEDTUNE_NATIVE_BACKEND install, node_modules, or the per-user cache.
const TFJS_NODE_MISSING = !locateNativePackage('cpu').found && !locateNativePackage('gpu').found;

/**
 * Runs selectBackend in a fresh Node process (the wasm backend starts once per process), multiplies two matrices on
 * what it chose, and returns what it printed, how it exited and how long the whole process lived.
 */
function selectInChildProcess(
  preference: string,
  options: object,
): { selected: SelectedBackend; product: number[]; status: number | null; ms: number; stderr: string } {
  const script = `
    const tf = require('@tensorflow/tfjs-core');
    const { selectBackend } = require('./src/trainer/backend/selectBackend');
    selectBackend(${JSON.stringify(preference)}, ${JSON.stringify(options)}).then((selected) => {
      const product = Array.from(tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync());
      console.log(JSON.stringify({ selected, product }));
    });`;
  const start = performance.now();
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  const ms = performance.now() - start;
  const line = child.stdout.trim().split('\n').pop() ?? '';
  const parsed = line.startsWith('{')
    ? (JSON.parse(line) as { selected: SelectedBackend; product: number[] })
    : { selected: undefined!, product: [] };
  return { ...parsed, status: child.status, ms, stderr: child.stderr };
}

describe('selectBackend', () => {
  it(
    'picks wasm when tfjs-node is not installed, and says why the faster backends were skipped',
    { skip: !TFJS_NODE_MISSING && 'tfjs-node is installed here' },
    async () => {
      const selected = await selectBackend('auto');
      assert.equal(selected.name, 'wasm');
      assert.equal(tf.getBackend(), 'wasm');
      assert.equal(selected.threads, EXPECTED_THREADS);
      assert.match(
        selected.reason,
        new RegExp(`^tfjs-node-gpu not installed; tfjs-node not installed; wasm 4\\.22\\.0 with SIMD, ${EXPECTED_THREADS} threads?$`),
      );
      assert.match(selected.device, /^CPU \(WebAssembly SIMD, \d threads?\)$/);
    },
  );

  it(
    'refuses a named backend that is not installed, naming the package and how to get it',
    { skip: !TFJS_NODE_MISSING && 'tfjs-node is installed here' },
    async () => {
      await assert.rejects(
        selectBackend('node'),
        /^Error: The "node" backend \(@tensorflow\/tfjs-node\) is unavailable: not installed \(not in node_modules or NODE_PATH; not installed in \/.*\/tfjs-node-4\.22\.0\)\. Install it with `embedtune backend install cpu` \(in the editor: EmbedTune: Install Native Backend…\), or set backend: auto\.$/,
      );
      await assert.rejects(
        selectBackend('node-gpu'),
        /^Error: The "node-gpu" backend \(@tensorflow\/tfjs-node-gpu\) is unavailable: not installed .*tfjs-node-gpu-4\.22\.0\)\. Install it with `embedtune backend install gpu`/,
      );
    },
  );

  it('always has the plain JavaScript cpu backend', async () => {
    const selected = await selectBackend('cpu');
    assert.deepEqual(selected, { name: 'cpu', device: 'CPU (plain JavaScript)', reason: 'cpu 4.22.0, plain JavaScript' });
    assert.equal(tf.getBackend(), 'cpu');
  });

  it('switches back to the wasm backend it already started, with the same threads', async () => {
    const first = await selectBackend('wasm');
    await selectBackend('cpu');
    const again = await selectBackend('wasm');
    assert.deepEqual(again, first);
    assert.equal(tf.getBackend(), 'wasm');
    const product = tf.tidy(() =>
      Array.from(
        tf
          .matMul(
            tf.tensor2d([
              [1, 2],
              [3, 4],
            ]),
            tf.tensor2d([[5], [6]]),
          )
          .dataSync(),
      ),
    );
    assert.deepEqual(product, [17, 39]);
  });

  it('rejects a thread count that is not a whole number of at least 1', async () => {
    for (const threads of [0, 1.5, -2]) {
      await assert.rejects(
        selectBackend('wasm', { threads }),
        /The "wasm" backend .* unavailable: failed to start: threads must be a whole number of at least 1/,
      );
    }
  });
});

describe('the wasm backend in a fresh process', () => {
  const bundleDir = mkdtempSync(path.join(os.tmpdir(), 'embedtune-dist-'));
  const binariesOnlyDir = mkdtempSync(path.join(os.tmpdir(), 'embedtune-wasm-only-'));
  for (const file of WASM_RUNTIME_FILES) copyFileSync(path.join(wasmBinaryDir(), file), path.join(bundleDir, file));
  for (const file of WASM_BINARIES) copyFileSync(path.join(wasmBinaryDir(), file), path.join(binariesOnlyDir, file));
  after(() => {
    rmSync(bundleDir, { recursive: true, force: true });
    rmSync(binariesOnlyDir, { recursive: true, force: true });
  });

  it('runs threaded from just the files the build copies next to the bundle, and the process still exits by itself', () => {
    const run = selectInChildProcess('wasm', { wasmDir: bundleDir, threads: 2 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.selected.threads, 2);
    assert.equal(run.selected.reason, 'wasm 4.22.0 with SIMD, 2 threads');
    assert.deepEqual(run.product, [17, 39]);
    // Emscripten keeps pthread workers referenced; had they stayed so, the process would have run into the timeout.
    assert.ok(run.ms < 30_000, `the process took ${Math.round(run.ms)} ms to exit`);
  });

  it("removes worker-script folders that processes killed mid-start left behind, but not a starting process's", () => {
    const abandoned = mkdtempSync(path.join(os.tmpdir(), 'embedtune-wasm-'));
    const starting = mkdtempSync(path.join(os.tmpdir(), 'embedtune-wasm-'));
    const anHourAgo = new Date(Date.now() - 3600_000);
    utimesSync(abandoned, anHourAgo, anHourAgo);
    try {
      const run = selectInChildProcess('wasm', { wasmDir: bundleDir, threads: 2 });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(existsSync(abandoned), false);
      assert.equal(existsSync(starting), true);
    } finally {
      rmSync(abandoned, { recursive: true, force: true });
      rmSync(starting, { recursive: true, force: true });
    }
  });

  it('uses the single-threaded SIMD build when asked for one thread', () => {
    const run = selectInChildProcess('wasm', { wasmDir: bundleDir, threads: 1 });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.selected, {
      name: 'wasm',
      device: 'CPU (WebAssembly SIMD, 1 thread)',
      threads: 1,
      reason: 'wasm 4.22.0 with SIMD, 1 thread',
    });
    assert.deepEqual(run.product, [17, 39]);
  });

  it('falls back to one thread, saying which files are missing, when only the binaries were copied', () => {
    // 'wasm', not 'auto', which would pick a native backend where one is installed.
    const run = selectInChildProcess('wasm', { wasmDir: binariesOnlyDir, threads: 2 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.selected.threads, 1);
    assert.match(
      run.selected.reason,
      /wasm 4\.22\.0 with SIMD, 1 thread \(threads unavailable: tfjs-backend-wasm-threaded-simd\.js, tfjs-backend-wasm-threaded-simd\.worker\.js missing from /,
    );
    assert.deepEqual(run.product, [17, 39]);
  });
});

describe('errors after the wasm backend starts', () => {
  for (const threads of [1, 2]) {
    it(`reach Node's own handler with ${threads} thread(s): exit code 1 and the error's stack, not Emscripten's exit code 7`, () => {
      const script = `
        const { selectBackend } = require('./src/trainer/backend/selectBackend');
        selectBackend('wasm', { threads: ${threads} }).then(() => setTimeout(() => { throw new Error('boom after start'); }));`;
      const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      assert.equal(child.status, 1, child.stderr.slice(0, 2000));
      assert.match(child.stderr, /Error: boom after start/);
      assert.ok(child.stderr.length < 5000, `stderr holds ${child.stderr.length} characters`);
    });
  }
});

describe('wasmBinaryDir', () => {
  it('finds the binaries in the installed tfjs-backend-wasm package when no bundle folder has them', () => {
    assert.equal(path.basename(wasmBinaryDir()), 'wasm-out');
  });

  it('prefers the first folder that has them, as dist/ comes before node_modules', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'embedtune-bins-'));
    try {
      for (const file of WASM_BINARIES) copyFileSync(path.join(wasmBinaryDir(), file), path.join(dir, file));
      assert.equal(wasmBinaryDir([dir, wasmBinaryDir()]), dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names every folder it searched, and the fix, when none has them', () => {
    assert.throws(() => wasmBinaryDir(['/nowhere/dist', '/nowhere/wasm-out']), {
      message:
        "The WebAssembly backend's binaries (tfjs-backend-wasm.wasm, tfjs-backend-wasm-simd.wasm) are in none of: /nowhere/dist, /nowhere/wasm-out. " +
        'A built extension carries them next to dist/cli.js; run "npm run build", or reinstall @tensorflow/tfjs-backend-wasm.',
    });
  });
});
