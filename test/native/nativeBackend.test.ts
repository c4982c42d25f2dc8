/**
 * The native TensorFlow backend, as `embedtune backend install` leaves it: found by the trainer with no NODE_PATH,
 * loaded without tfjs's kernel warnings, reporting its real device, and training the same first step as wasm.
 * The install itself is slow (a wheel download and a compile), so .ci/run does it once per version into
 * $EMBEDTUNE_NATIVE_BACKENDS_DIR, and these tests use it; without an install they skip and say why.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RunEvent, RunStartedEvent } from '../../src/shared/events/runEvents';
import { locateNativePackage } from '../../src/trainer/backend/native/locateNativeBackend';
import { NATIVE_VARIANTS } from '../../src/trainer/backend/native/nativePackages';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const CLI = resolve(__dirname, '../../dist/cli.js');
const EXAMPLES = resolve(__dirname, '../../examples/retrieval/data');
const lines = (file: string, count: number) => readFileSync(join(EXAMPLES, file), 'utf8').split('\n').slice(0, count).join('\n');

const workspaces: TempWorkspace[] = [];
after(() => workspaces.forEach((workspace) => workspace.dispose()));

function tinyRun(backend: string): { started: RunStartedEvent; losses: Map<number, number>; stderr: string; status: number | null } {
  const workspace = new TempWorkspace();
  workspaces.push(workspace);
  buildTinyBert(workspace.path('tiny'), { seed: 7 });
  workspace.write('data/train.jsonl', lines('train.jsonl', 64));
  workspace.write('data/validation.jsonl', lines('validation.jsonl', 16));
  workspace.write(
    'run.embedtune.yaml',
    `name: native
model: {base: ./tiny, max_seq_length: 32}
data: {train: data/train.jsonl, validation: data/validation.jsonl, columns: {anchor: query, positive: passage}}
strategy: {type: full}
training: {epochs: 2, batch_size: 16, learning_rate: 0.001, warmup: 1, seed: 3}
evaluation: {every: 4, metrics: [ndcg@10]}
engine: {backend: ${backend}}
output_dir: runs
`,
  );
  const child = spawnSync(process.execPath, [CLI, 'train', 'run.embedtune.yaml'], {
    cwd: workspace.root,
    encoding: 'utf8',
    timeout: 300_000,
  });
  const runDir = join(workspace.root, 'runs', readdirSync(join(workspace.root, 'runs'))[0]!);
  const events = readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunEvent);
  const started = events.find((event): event is RunStartedEvent => event.type === 'run_started')!;
  // Progress events come every few steps, or sooner when a step is slow, so two backends log different steps.
  const losses = new Map(
    events.flatMap((event) => (event.type === 'progress' && typeof event.loss === 'number' ? [[event.step, event.loss] as const] : [])),
  );
  return { started, losses, stderr: child.stderr, status: child.status };
}

/** wasm's losses on the same run: the backend the parity tests check against PyTorch step by step. */
let wasmLosses: Map<number, number> | undefined;

for (const variant of NATIVE_VARIANTS) {
  const { found, tried } = locateNativePackage(variant);
  const skip = found
    ? false
    : `no ${variant} native backend installed (${tried.join('; ')}); run \`node dist/cli.js backend install ${variant}\``;
  if (skip) console.log(`# skipped: ${skip}`);
  const preference = variant === 'gpu' ? 'node-gpu' : 'node';

  describe(`the ${variant} native backend (${found?.folder ?? 'not installed'})`, { skip }, () => {
    it('is reported by `embedtune backend status` as loading, with its TensorFlow version and device', () => {
      const status = spawnSync(process.execPath, [CLI, 'backend', 'status', '--json'], { encoding: 'utf8', timeout: 300_000 });
      assert.equal(status.status, 0, status.stderr);
      const entry = (
        JSON.parse(status.stdout) as { backends: { variant: string; loads: boolean; device: string; tensorflow: string }[] }
      ).backends.find((backend) => backend.variant === variant)!;
      console.log(`# ${variant}: TensorFlow ${entry.tensorflow}, ${entry.device}`);
      assert.equal(entry.loads, true);
      assert.match(entry.tensorflow, /^2\.\d+\.\d+$/);
      assert.match(
        entry.device,
        variant === 'cpu'
          ? /^CPU \(TensorFlow 2\.\d+\.\d+\)$/
          : /^(GPU \d: .+, [\d.]+ [GM]iB \(compute capability [\d.]+\)|no GPU found, running on the CPU.*)$/,
      );
    });

    it(`trains with backend: ${preference}, found with no NODE_PATH, reports the device, prints no kernel warnings, and follows wasm's losses step by step`, () => {
      const native = tinyRun(preference);
      assert.equal(native.status, 0, native.stderr.slice(-2000));
      assert.equal(native.started.backend, 'tensorflow');
      assert.ok(
        native.started.backend_reason.includes(found!.folder.split('/node_modules/')[0]!.replace(process.env.HOME ?? '\0', '~')),
        native.started.backend_reason,
      );
      if (variant === 'cpu') assert.match(native.started.device, /^CPU \(TensorFlow 2\.\d+\.\d+ C library\)$/);
      else assert.match(native.started.device, /^(GPU \d: .+|no GPU found, running on the CPU.*)$/);
      assert.doesNotMatch(native.stderr, /already registered/);
      wasmLosses ??= tinyRun('wasm').losses;
      const common = [...native.losses.keys()].filter((step) => wasmLosses!.has(step));
      const pairs = common.map((step) => `step ${step}: ${native.losses.get(step)!.toFixed(6)} / ${wasmLosses!.get(step)!.toFixed(6)}`);
      console.log(`# ${preference} / wasm losses: ${pairs.join(', ')}`);
      assert.ok(common.length >= 2 && common.includes(Math.max(...wasmLosses.keys())), `steps logged by both: ${common.join(', ')}`);
      // The same float32 math in another order (oneDNN against XNNPACK): equal to a few ulps at the first step, and
      // within 1e-3 after the optimizer has moved the weights.
      for (const step of common) {
        const [ours, theirs] = [native.losses.get(step)!, wasmLosses.get(step)!];
        assert.ok(Math.abs(ours - theirs) < 1e-3 * Math.max(1, Math.abs(theirs)), `step ${step}: ${ours} vs ${theirs}`);
      }
    });
  });
}
