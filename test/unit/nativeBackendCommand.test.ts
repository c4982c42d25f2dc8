import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import type { CancellableProgress } from '../../src/extension/backend/cancellableProgress';
import { INSTALL_NATIVE_BACKEND_COMMAND, installNativeBackend } from '../../src/extension/backend/installNativeBackendCommand';
import { NATIVE_BACKEND_VARIABLE, NATIVE_CACHE_VARIABLE } from '../../src/extension/backend/nativeBackendSettings';
import { INSTALL_ACTION, measuredNativeSpeedup, NATIVE_TRAINING_SPEEDUP, WasmNotice } from '../../src/extension/backend/wasmNotice';
import { Emitter } from '../../src/extension/emitter';
import { activateMonitoring } from '../../src/extension/monitoring/activateMonitoring';
import { engineEnvironment } from '../../src/extension/runs/engineProcess';
import type { RunChange } from '../../src/extension/runs/runManager';
import { CACHE_DIR_VARIABLE, EXPLICIT_INSTALL_VARIABLE, INSTALL_RECORD } from '../../src/trainer/backend/native/nativeBackendCache';
import { RecordingEditorHost, RecordingPanels } from './support/recordingEditorHost';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const scratch = mkdtempSync(join(tmpdir(), 'embedtune-native-command-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const engine = { nodePath: process.execPath, cliPath: CLI };
const recordingProgress = (
  titles: string[],
  onReport: (message: string, abort: () => void) => void = () => undefined,
): CancellableProgress => {
  return (title, task) => {
    titles.push(title);
    const controller = new AbortController();
    return task((message) => onReport(message, () => controller.abort()), controller.signal);
  };
};

/** A PATH holding only the named programs: real ones linked in, or small scripts. */
function binFolder(name: string, programs: Record<string, string>): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  for (const [program, target] of Object.entries(programs)) {
    const path = join(dir, program);
    if (target.startsWith('#!')) {
      writeFileSync(path, target);
      chmodSync(path, 0o755);
    } else symlinkSync(target, path);
  }
  return dir;
}

const realProgram = (name: string) => spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
const realPython = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();

describe('EmbedTune: Install Native Backend…', () => {
  it('asks cpu or gpu, and does nothing when the pick is dismissed', async () => {
    const host = new RecordingEditorHost();
    host.answers.push(undefined);
    const titles: string[] = [];
    assert.equal(await installNativeBackend({ host, engine, progress: recordingProgress(titles) }), 'dismissed');
    assert.deepEqual(titles, []);
  });

  it(
    'reports each way it tried and what is missing (npm, compiler, Python), with the log in the Output channel',
    { timeout: 60_000 },
    async () => {
      const host = new RecordingEditorHost();
      host.answers.push('cpu', 'Show Log');
      const cache = join(scratch, 'cache-missing');
      const titles: string[] = [];
      const outcome = await installNativeBackend({
        host,
        engine,
        progress: recordingProgress(titles),
        baseEnvironment: { PATH: binFolder('empty-bin', {}), HOME: scratch, [CACHE_DIR_VARIABLE]: cache },
      });
      assert.equal(outcome, 'failed');
      assert.deepEqual(titles, ['EmbedTune: installing the native backend (cpu)']);
      const error = host.messages.find((message) => message.kind === 'error')!;
      assert.equal(error.message, 'The native TensorFlow backend could not be installed; training goes on using WebAssembly.');
      assert.match(error.options.detail!, /^npm: npm is not on PATH/m);
      assert.match(error.options.detail!, /^wheel-build: cannot build here: .*no C\+\+ compiler.*no make on PATH.*no Python 3/m);
      assert.ok(
        host.output.some((line) => line.startsWith('== 2. offline build')),
        host.output.join('\n'),
      );
      await new Promise((r) => setImmediate(r));
      assert.equal(host.outputShown, 1, 'Show Log opens the Output channel');
      assert.equal(existsSync(join(cache, 'tfjs-node-4.22.0', INSTALL_RECORD)), false);
    },
  );

  it('stops npm (and what it started) on Cancel, and leaves no install record', { timeout: 60_000 }, async () => {
    const pidFile = join(scratch, 'npm.pid');
    const bin = binFolder('slow-npm-bin', {
      npm: `#!/bin/sh\necho $$ > ${pidFile}\nexec /bin/sleep 60\n`,
      'g++': realProgram('g++'),
      make: realProgram('make'),
      python3: realPython,
    });
    const host = new RecordingEditorHost();
    const cache = join(scratch, 'cache-cancel');
    const reported: string[] = [];
    let waiting: NodeJS.Timeout | undefined;
    const outcome = await installNativeBackend(
      {
        host,
        engine,
        progress: recordingProgress([], (message, abort) => {
          reported.push(message);
          if (!message.startsWith('npm install @tensorflow/') || waiting) return;
          // Cancel once the slow npm is running, as a user would while it downloads.
          waiting = setInterval(() => {
            if (!existsSync(pidFile)) return;
            clearInterval(waiting);
            abort();
          }, 50);
        }),
        baseEnvironment: { PATH: bin, HOME: scratch, [CACHE_DIR_VARIABLE]: cache },
      },
      'cpu',
    );
    clearInterval(waiting);
    assert.equal(outcome, 'cancelled', host.output.join('\n'));
    assert.ok(
      reported.some((message) => message.startsWith('npm install @tensorflow/tfjs-node@4.22.0')),
      reported.join(' | '),
    );
    assert.equal(host.messages.at(-1)?.message, 'Native backend install cancelled. Training goes on using WebAssembly.');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the slow npm was killed');
    assert.equal(existsSync(join(cache, 'tfjs-node-4.22.0', INSTALL_RECORD)), false);
  });
});

describe('the engine environment from the settings', () => {
  it('passes embedtune.nativeBackend.path and cacheDir to each engine start, read at that moment', () => {
    const host = new RecordingEditorHost();
    const monitoring = activateMonitoring({
      host,
      cliPath: CLI,
      defaultNodePath: '/default/node',
      createPanels: () => new RecordingPanels(),
      logDir: join(scratch, 'logs'),
    });
    try {
      const { engine: live } = monitoring.services;
      assert.equal(engineEnvironment({ PATH: '/bin' }, live)[NATIVE_BACKEND_VARIABLE], undefined, 'an empty setting sets nothing');
      host.settings['nativeBackend.path'] = '/opt/tfjs';
      host.settings['nativeBackend.cacheDir'] = '/big/disk';
      const env = engineEnvironment({ PATH: '/bin' }, live);
      assert.deepEqual(
        [env[NATIVE_BACKEND_VARIABLE], env[NATIVE_CACHE_VARIABLE], env.ELECTRON_RUN_AS_NODE],
        ['/opt/tfjs', '/big/disk', '1'],
      );
    } finally {
      monitoring.dispose();
    }
  });

  it('applies a changed embedtune.train.nodePath to the next start, with no reload', () => {
    const host = new RecordingEditorHost();
    const monitoring = activateMonitoring({
      host,
      cliPath: CLI,
      defaultNodePath: '/default/node',
      createPanels: () => new RecordingPanels(),
      logDir: join(scratch, 'logs'),
    });
    try {
      assert.equal(monitoring.services.engine.nodePath, '/default/node');
      host.settings['train.nodePath'] = '/opt/node20/bin/node';
      assert.equal(monitoring.services.engine.nodePath, '/opt/node20/bin/node');
    } finally {
      monitoring.dispose();
    }
  });

  it("uses the trainer's variable names", () => {
    assert.equal(NATIVE_BACKEND_VARIABLE, EXPLICIT_INSTALL_VARIABLE);
    assert.equal(NATIVE_CACHE_VARIABLE, CACHE_DIR_VARIABLE);
  });
});

describe('the WebAssembly notice', () => {
  const started = (backend: string) =>
    ({
      run: { live: true },
      events: [{ type: 'run_started', backend, device: 'CPU (WebAssembly SIMD, 2 threads)' }],
      lifecycleChanged: false,
    }) as unknown as RunChange;

  it('says once that the run is on WebAssembly, by how much native is faster, and offers the install', async () => {
    const host = new RecordingEditorHost();
    const emitter = new Emitter<RunChange>();
    const notice = new WasmNotice(host, emitter.event);
    host.answers.push(INSTALL_ACTION);
    emitter.fire(started('tensorflow'));
    assert.equal(host.messages.length, 0, 'no notice for a native run');
    emitter.fire(started('wasm'));
    emitter.fire(started('wasm'));
    await new Promise((r) => setImmediate(r));
    assert.equal(host.messages.length, 1);
    assert.match(
      host.messages[0]!.message,
      /^This run trains on WebAssembly \(CPU \(WebAssembly SIMD, 2 threads\)\)\. The native TensorFlow backend trained \d+(\.\d)?× faster/,
    );
    assert.ok(host.messages[0]!.message.includes(`trained ${NATIVE_TRAINING_SPEEDUP}× faster`));
    assert.deepEqual(host.messages[0]!.actions, [INSTALL_ACTION, 'Not Now']);
    assert.deepEqual(
      host.executed.map((e) => e.id),
      [INSTALL_NATIVE_BACKEND_COMMAND],
    );
    notice.dispose();
  });

  it('quotes the speed-up that the training benchmark last measured, native pairs/s over wasm pairs/s', () => {
    const results = JSON.parse(readFileSync(join(ROOT, 'bench/results/trainThroughput.json'), 'utf8')) as {
      cases: { id: string; mode: string; embedtune: { per_second: number }; embedtune_tfjs_node?: { per_second: number } }[];
    };
    const minilm = results.cases.find((c) => c.id === 'minilm-64' && c.mode === 'train')!;
    assert.equal(NATIVE_TRAINING_SPEEDUP, Math.round((minilm.embedtune_tfjs_node!.per_second / minilm.embedtune.per_second) * 10) / 10);
    const made = { cases: [{ id: 'minilm-64', mode: 'train', embedtune: { per_second: 1.5 }, embedtune_tfjs_node: { per_second: 5.8 } }] };
    assert.equal(measuredNativeSpeedup(made), 3.9);
    assert.equal(measuredNativeSpeedup({ cases: [{ id: 'minilm-64', mode: 'train', embedtune: { per_second: 1.5 } }] }), undefined);
  });
});
