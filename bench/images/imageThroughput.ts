/**
 * Images per second training a ResNet-18 shape and a ResNet-50 shape at 224x224 (random weights, random pixels,
 * softmax cross-entropy, plain SGD, BatchNorm in train mode with its running statistics updated after each step):
 * EmbedTune's ResNet on wasm (through trainableConv2d's im2col filter gradient) and on tfjs-node, and transformers'
 * ResNetForImageClassification in PyTorch, each in its own child process, in the same run. Also times the seam
 * itself: a convolution's filter gradient by im2col on wasm against the stock Conv2DBackpropFilter on cpu and
 * tfjs-node, for a few ResNet-50 layer shapes.
 *
 *   npm run bench:images [-- --batch 8 --steps 2 --warmup 1 --models resnet-18,resnet-50]
 *                         [--peers pytorch,tfjs-node,wasm] [--seam-peers wasm,cpu,tfjs-node|none] [--out FILE]
 *
 * Writes bench/results/images.json (or --out). Needs the Python peers (bench/python/setup) and the tfjs-node cache
 * ($EMBEDTUNE_NATIVE_BACKENDS_DIR, default ~/.cache/embedtune/ci-native-backends); a missing peer is reported and
 * skipped, not faked.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/trainer/backend/selectBackend';
import { im2colFilterGradient } from '../../src/trainer/backend/trainableConv2d';
import { buildRandomResNetFolder } from '../../src/trainer/model/resnet/randomResNetFolder';
import { loadResNetFolder } from '../../src/trainer/model/resnet/resnetFolder';

const ROOT = resolve(__dirname, '../..');
const THREADS = Math.min(cpus().length, 8);
const LABELS = ['a', 'b', 'c', 'd'];
const SIZE = 224;
const CHILD_TIMEOUT_MS = 60 * 60 * 1000;

/** transformers ResNetConfig keys of the two shapes (microsoft/resnet-18 and microsoft/resnet-50). */
const MODELS: Record<string, Record<string, unknown>> = {
  'resnet-18': { layer_type: 'basic', embedding_size: 64, hidden_sizes: [64, 128, 256, 512], depths: [2, 2, 2, 2] },
  'resnet-50': { layer_type: 'bottleneck', embedding_size: 64, hidden_sizes: [256, 512, 1024, 2048], depths: [3, 4, 6, 3] },
};

/** ResNet-50 layers: [batch, output height, in, out, kernel, stride]. */
const SEAM_SHAPES: ReadonlyArray<readonly [string, number, number, number, number, number]> = [
  ['stem 7x7/2, 3→64, 224²', 112, 3, 64, 7, 2],
  ['stage 1 3x3, 64→64, 56²', 56, 64, 64, 3, 1],
  ['stage 2 3x3/2, 128→128, 56²→28²', 28, 128, 128, 3, 2],
  ['stage 3 1x1, 1024→256, 14²', 14, 1024, 256, 1, 1],
];

type Peer = 'wasm' | 'tfjs-node' | 'pytorch';

interface WorkerSpec {
  readonly peer: Peer;
  readonly model: string;
  readonly batch: number;
  readonly steps: number;
  readonly warmup: number;
}

interface Options {
  batch: number;
  steps: number;
  warmup: number;
  seamBatch: number;
  models: string[];
  peers: TrainingPeer[];
  seamPeers: SeamPeer[];
  out: string;
}

const TRAINING_PEERS = ['pytorch', 'tfjs-node', 'wasm'] as const;
const SEAM_PEERS = ['wasm', 'cpu', 'tfjs-node'] as const;
type TrainingPeer = (typeof TRAINING_PEERS)[number];
type SeamPeer = (typeof SEAM_PEERS)[number];

function peerList<T extends string>(flag: string, value: string, known: readonly T[]): T[] {
  if (value === 'none') return [];
  const peers = value.split(',');
  for (const peer of peers) if (!known.includes(peer as T)) throw new Error(`${flag}: unknown peer "${peer}"; one of ${known.join(', ')}.`);
  return peers as T[];
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = {
    batch: 8,
    steps: 2,
    warmup: 1,
    seamBatch: 4,
    models: Object.keys(MODELS),
    peers: [...TRAINING_PEERS],
    seamPeers: [...SEAM_PEERS],
    out: join(ROOT, 'bench', 'results', 'images.json'),
  };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    if (flag === '--models') options.models = value.split(',');
    else if (flag === '--peers') options.peers = peerList(flag, value, TRAINING_PEERS);
    else if (flag === '--seam-peers') options.seamPeers = peerList(flag, value, SEAM_PEERS);
    else if (flag === '--out') options.out = resolve(value);
    else if (flag === '--batch' || flag === '--steps' || flag === '--warmup' || flag === '--seam-batch') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < (flag === '--warmup' ? 0 : 1)) throw new Error(`${flag} takes a positive integer, not "${value}".`);
      options[flag === '--seam-batch' ? 'seamBatch' : (flag.slice(2) as 'batch' | 'steps' | 'warmup')] = n;
    } else throw new Error(`Unknown option ${flag}; see the header of bench/images/imageThroughput.ts.`);
  }
  for (const model of options.models)
    if (!MODELS[model]) throw new Error(`Unknown model "${model}"; one of ${Object.keys(MODELS).join(', ')}.`);
  return options;
}

/** One tfjs training step: loss, gradients of the trainable variables, SGD, then the running statistics. */
async function tfjsWorker(spec: WorkerSpec): Promise<unknown> {
  const backend = await selectBackend(spec.peer === 'wasm' ? 'wasm' : 'node', { threads: THREADS });
  const folder = mkdtempSync(join(tmpdir(), 'embedtune-bench-images-'));
  try {
    buildRandomResNetFolder(folder, { config: MODELS[spec.model], labels: LABELS, seed: 0 });
    const { model } = loadResNetFolder(folder);
    const pixels = tf.randomNormal([spec.batch, SIZE, SIZE, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const labels = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: spec.batch }, (_, i) => i % LABELS.length),
        'int32',
      ),
      LABELS.length,
    );
    const variables = [...model.trainableVariables.values()];
    const step = () => {
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => tf.losses.softmaxCrossEntropy(labels, model.forward(pixels, { training: true }).logits!),
          variables,
        );
        for (const variable of variables) variable.assign(tf.sub(variable, tf.mul(grads[variable.name]!, 0.01)));
        return value;
      });
      model.updateRunningStatistics();
      const value = loss.dataSync()[0]!;
      loss.dispose();
      if (!Number.isFinite(value)) throw new Error(`The ${spec.model} loss is ${value}.`);
    };
    const seconds = timeSteps(step, spec);
    return { seconds, backend: backend.reason, tensors: tf.memory().numTensors };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

function timeSteps(step: () => void, spec: WorkerSpec): number[] {
  for (let i = 0; i < spec.warmup; i++) step();
  const seconds: number[] = [];
  for (let i = 0; i < spec.steps; i++) {
    const start = performance.now();
    step();
    seconds.push((performance.now() - start) / 1000);
  }
  return seconds;
}

/** The filter gradient of each seam shape: im2col on wasm, the stock kernel on cpu and tfjs-node. */
async function seamWorker(peer: 'wasm' | 'cpu' | 'tfjs-node', batch: number): Promise<unknown> {
  await selectBackend(peer === 'tfjs-node' ? 'node' : peer, { threads: THREADS });
  const rows: Record<string, number> = {};
  for (const [name, outSize, inChannels, outChannels, kernel, stride] of SEAM_SHAPES) {
    const inSize = (outSize - 1) * stride + kernel;
    const x = tf.randomNormal([batch, inSize, inSize, inChannels]) as tf.Tensor4D;
    const dy = tf.randomNormal([batch, outSize, outSize, outChannels]) as tf.Tensor4D;
    const shape: [number, number, number, number] = [kernel, kernel, inChannels, outChannels];
    const run = () =>
      tf.tidy(() => {
        const grad = peer === 'wasm' ? im2colFilterGradient(x, dy, shape, stride) : stockFilterGradient(x, dy, shape, stride);
        // A one-value read forces completion; wasm's dataSync of a large tensor is slow enough to skew the time.
        tf.sum(grad).dataSync();
      });
    run();
    let best = Infinity;
    for (let i = 0; i < 2; i++) {
      const start = performance.now();
      run();
      best = Math.min(best, performance.now() - start);
    }
    rows[name] = best;
    tf.dispose([x, dy]);
  }
  return rows;
}

/** The backend's own Conv2DBackpropFilter kernel (tfjs-core does not export the op). */
function stockFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: number[], stride: number): tf.Tensor {
  const attrs = { strides: [stride, stride], pad: 'valid', dataFormat: 'NHWC', filterShape };
  return tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

function nativeEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    EMBEDTUNE_NATIVE_BACKENDS_DIR:
      process.env['EMBEDTUNE_NATIVE_BACKENDS_DIR'] ?? join(homedir(), '.cache', 'embedtune', 'ci-native-backends'),
    TF_NUM_INTRAOP_THREADS: String(THREADS),
    TF_NUM_INTEROP_THREADS: '1',
    TF_CPP_MIN_LOG_LEVEL: '2',
  };
}

function runChild(args: string[], env: NodeJS.ProcessEnv, label: string): unknown {
  const command = args[0] === 'python' ? pythonPath() : process.execPath;
  const argv = args[0] === 'python' ? args.slice(1) : ['--import', 'tsx', __filename, ...args];
  const result = spawnSync(command, argv, { cwd: ROOT, env, encoding: 'utf8', timeout: CHILD_TIMEOUT_MS, maxBuffer: 16 * 2 ** 20 });
  if (result.status !== 0)
    return { error: `${label} failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr.slice(-1500)}` };
  return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '');
}

function pythonPath(): string {
  return join(process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache', 'embedtune', 'py-peers'), 'bin', 'python');
}

function imagesPerSecond(report: unknown, batch: number): number | undefined {
  const seconds = (report as { seconds?: number[] }).seconds;
  if (!seconds || seconds.length === 0) return undefined;
  return batch / (seconds.reduce((a, b) => a + b, 0) / seconds.length);
}

async function parent(options: Options): Promise<void> {
  const started = new Date();
  const training: Record<string, Record<string, unknown>> = {};
  for (const model of options.models) {
    const row: Record<string, unknown> = {};
    for (const peer of options.peers) {
      const spec: WorkerSpec = { peer, model, batch: options.batch, steps: options.steps, warmup: options.warmup };
      process.stderr.write(`${model} on ${peer}…\n`);
      const report =
        peer === 'pytorch'
          ? runChild(
              [
                'python',
                join(__dirname, 'torch_resnet_step.py'),
                JSON.stringify({ ...spec, threads: THREADS, labels: LABELS.length, size: SIZE, config: MODELS[model] }),
              ],
              // OpenMP's threads spin while they wait; on a shared 2-core machine that spin starved the step ~10x
              // (bench:images-real measured ~20 against ~200 images/s at 32x32), so they sleep instead.
              { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
              `PyTorch ${model}`,
            )
          : runChild(['--worker', JSON.stringify(spec)], peer === 'tfjs-node' ? nativeEnv() : process.env, `${peer} ${model}`);
      row[peer] = { ...(report as object), imagesPerSecond: imagesPerSecond(report, options.batch) };
      process.stderr.write(`  ${JSON.stringify(row[peer])}\n`);
    }
    training[model] = { ...row, ratios: ratios(row) };
  }
  const seam: Record<string, unknown> = {};
  for (const peer of options.seamPeers) {
    process.stderr.write(`filter gradients on ${peer}…\n`);
    seam[peer] = runChild(['--seam', peer, String(options.seamBatch)], peer === 'tfjs-node' ? nativeEnv() : process.env, `seam ${peer}`);
  }
  const result = {
    date: started.toISOString(),
    machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores; ${THREADS} threads per peer`,
    setup: {
      size: SIZE,
      batch: options.batch,
      warmup: options.warmup,
      steps: options.steps,
      labels: LABELS.length,
      optimizer: 'SGD lr 0.01',
    },
    training,
    filterGradientMs: { batch: options.seamBatch, ...seam },
  };
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

/** Each tfjs peer's images/second as a fraction of PyTorch's. */
function ratios(row: Record<string, unknown>): Record<string, number | undefined> {
  const of = (peer: string) => (row[peer] as { imagesPerSecond?: number } | undefined)?.imagesPerSecond;
  const torch = of('pytorch');
  return {
    'wasm/pytorch': torch && of('wasm') ? of('wasm')! / torch : undefined,
    'tfjs-node/pytorch': torch && of('tfjs-node') ? of('tfjs-node')! / torch : undefined,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--worker') {
    process.stdout.write(`${JSON.stringify(await tfjsWorker(JSON.parse(argv[1]!) as WorkerSpec))}\n`);
  } else if (argv[0] === '--seam') {
    process.stdout.write(`${JSON.stringify(await seamWorker(argv[1] as 'wasm' | 'cpu' | 'tfjs-node', Number(argv[2])))}\n`);
  } else {
    await parent(parseOptions(argv));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
