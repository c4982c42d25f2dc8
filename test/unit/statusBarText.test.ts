import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ProgressEvent, RunEvent } from '../../src/shared/events/runEvents';
import { RunProgress } from '../../src/shared/monitor/runProgress';
import type { RunLifecycle } from '../../src/shared/protocol/runListEntry';
import { backendLabel, formatRunStatus } from '../../src/extension/statusBar/statusBarText';

const recorded = readFileSync(join(__dirname, '../webview/fixtures/tiny-run/events.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as RunEvent);

function status(lifecycle: RunLifecycle, events: RunEvent[], now?: number, failure: string | null = null, others = 0) {
  return formatRunStatus(
    { label: 'tiny-run', configPath: '/w/tiny.embedtune.yaml', lifecycle, progress: new RunProgress().add(events), failure },
    now,
    others,
  );
}

describe('the status bar text', () => {
  it('while training: epoch, percent, loss, the latest primary metric, throughput, ETA and the backend', () => {
    const cut = recorded.findIndex((e) => e.type === 'progress' && e.step === 10);
    const last = recorded[cut] as ProgressEvent;
    const { text, tooltip } = status('running', recorded.slice(0, cut + 1), Date.parse(last.time));
    assert.equal(
      text,
      `$(sync~spin) epoch 2/4 · 41% · loss ${last.loss!.toFixed(3)} · ndcg@10 0.4301 · ${Math.round(last.examples_per_second)} pairs/s · ETA ${Math.round(last.eta_seconds!)}s · wasm`,
    );
    assert.match(
      tooltip,
      /^EmbedTune run tiny-run \(running\)\nConfig: \/w\/tiny\.embedtune\.yaml\nBackend: wasm on CPU \(WebAssembly SIMD, 2 threads\)\nModel: \.\/tiny \(full\)\nStep 10\/24 · epoch 1\.67 of 4\nBest: checkpoints\/step-4, ndcg@10 0\.4455 at step 4\nClick to open the dashboard\.$/,
    );
  });

  it('says how a run ended, with its best metric', () => {
    assert.equal(status('completed', recorded).text, '$(check) done · ndcg@10 0.5294');
    assert.equal(status('stopped', recorded.slice(0, 20)).text, '$(debug-stop) stopped at step 13 · best ndcg@10 0.4807');
    const failed = status('crashed', recorded.slice(0, 20), undefined, 'The engine was killed by SIGKILL before the run finished.');
    assert.equal(failed.text, '$(error) crashed at step 13 · best ndcg@10 0.4807');
    assert.match(failed.tooltip, /Error: The engine was killed by SIGKILL/);
  });

  it('names the backend in a word: TensorFlow on a GPU or the CPU (a GPU build that found none), wasm, plain JavaScript', () => {
    assert.equal(backendLabel('tensorflow', 'GPU 0: NVIDIA H200, 134.8 GiB (compute capability 9.0)'), 'TF GPU');
    assert.equal(backendLabel('tensorflow', 'no GPU found, running on the CPU'), 'TF CPU');
    assert.equal(backendLabel('tensorflow', 'CPU (TensorFlow 2.12.1 C library)'), 'TF CPU');
    assert.equal(backendLabel('wasm', 'CPU (WebAssembly SIMD, 2 threads)'), 'wasm');
    assert.equal(backendLabel('cpu', 'CPU (plain JavaScript)'), 'JS CPU');
  });

  it('while the engine loads, and with other runs going at the same time', () => {
    assert.equal(status('starting', []).text, '$(sync~spin) EmbedTune: starting tiny.embedtune.yaml…');
    assert.match(status('running', recorded.slice(0, 5), undefined, null, 2).text, / \(\+2 more\)$/);
  });
});
