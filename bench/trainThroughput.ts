/**
 * Training and encoding throughput, and peak memory, of EmbedTune (tfjs, wasm backend) against PyTorch on the CPU,
 * doing the same MNRL fine-tuning step on the same model shapes. Run with `node --import tsx bench/trainThroughput.ts`.
 *
 * Every measurement is its own child process, so that its peak RSS is its own: EmbedTune's runs this file with
 * `--worker`, PyTorch's runs bench/python/trainStep.py with the Python from `bench/python/setup`. The two peers take
 * turns, the first one alternating from round to round, so that noise on this shared 2-core machine lands on both.
 *
 * EmbedTune first tries the very step PyTorch runs (MNRL over one batch of 64 sequences). When that does not fit in
 * WebAssembly's 4 GiB memory, it says so and trains the same batch with the gradient cache (cached_mnrl), the way a
 * user would have to, with the largest chunk that fits; the tables say which.
 *
 * Options: --rounds N (turns each peer gets per case, default 2) --steps N (timed training steps per turn, default 3)
 *          --warmup N (untimed steps first, default 1) --encode-steps N (timed encode batches per turn, default 8)
 *          --cases a,b (of bert-mini-64, minilm-64, minilm-128, mpnet-128, default all) --no-encode (training only)
 *          --python PATH (default: $EMBEDTUNE_PY_PEERS/bin/python, or ~/.cache/embedtune/py-peers/bin/python)
 *          --no-profile (skip the per-kernel breakdown of one EmbedTune training step, tf.profile, in its own process)
 *          --cpu-prof (also run EmbedTune's training turns under node --cpu-prof, into bench/.cache/profiles/, and
 *                      summarize where the timed steps spend their time by src/ function)
 *          --no-checkpointing (EmbedTune keeps every layer's activations instead of recomputing them; the engine's
 *                              training.gradient_checkpointing: false) --checkpointing (always recompute them; true).
 *                              By default each worker decides as the engine's `auto` does, from the step's estimated
 *                              memory: on wasm MiniLM at batch 32 recomputes, on tfjs-node it keeps them where memory
 *                              allows.
 *          --no-tfjs-node (skip EmbedTune on tfjs-node even where bench/tfjs-node/setup has built it)
 *          --no-save (do not write bench/results/trainThroughput.json) --no-docs (do not touch docs/benchmarks.md)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { encoderOpsFor } from '../src/trainer/backend/encoderOpsFor';
import { selectBackend } from '../src/trainer/backend/selectBackend';
import { BertEncoder, type TokenBatch } from '../src/trainer/model/bert/bertEncoder';
import { parseModelConfig } from '../src/trainer/model/autoModel';
import { bertPoolerWeightShapes, expectedBertWeightShapes } from '../src/trainer/model/bertConfig';
import { elementCount, hostTensor, type NamedTensors } from '../src/trainer/model/namedTensors';
import { SentenceEmbedder } from '../src/trainer/model/sentenceEmbedder';
import type { TextTokenizer } from '../src/trainer/model/textTokenizer';
import { AdamW, clipByGlobalNorm, DEFAULT_ADAMW } from '../src/trainer/training/adamW';
import { decideGradientCheckpointing } from '../src/trainer/training/gradientCheckpointing';
import { disposeGradients, microBatchGradients, type TextBatch } from '../src/trainer/training/gradientStep';
import { latencyStats, round2, round3, type LatencyStats } from './stats';

const ROOT = resolve(__dirname, '..');
const RESULTS_PATH = join(ROOT, 'bench', 'results', 'trainThroughput.json');
const PROFILE_DIR = join(ROOT, 'bench', '.cache', 'profiles');
const DOCS_PATH = join(ROOT, 'docs', 'benchmarks.md');
const SECTION_TITLE = '## Training throughput and memory';
const PY_STEP = join(ROOT, 'bench', 'python', 'trainStep.py');

/** The issue's targets, on this 2-core machine. */
const TARGET_THROUGHPUT_RATIO = 1.0;
const TARGET_MEMORY_RATIO = 1.5;

export interface ModelShape {
  readonly name: string;
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly intermediate: number;
  readonly vocab: number;
  /** The architecture (BERT unless said): MPNet adds its relative attention bias and drops token types. */
  readonly family?: 'bert' | 'mpnet';
}

export const MINILM_L6: ModelShape = { name: 'MiniLM-L6', layers: 6, hidden: 384, heads: 12, intermediate: 1536, vocab: 30522 };
export const BERT_MINI: ModelShape = { name: 'BERT-mini', layers: 4, hidden: 256, heads: 4, intermediate: 1024, vocab: 30522 };
/** all-mpnet-base-v2's shape (110M weights). */
export const MPNET_BASE: ModelShape = {
  name: 'MPNet-base',
  layers: 12,
  hidden: 768,
  heads: 12,
  intermediate: 3072,
  vocab: 30527,
  family: 'mpnet',
};

interface BenchCase {
  readonly id: string;
  readonly shape: ModelShape;
  readonly seq: number;
}

const CASES: readonly BenchCase[] = [
  { id: 'bert-mini-64', shape: BERT_MINI, seq: 64 },
  { id: 'minilm-64', shape: MINILM_L6, seq: 64 },
  { id: 'minilm-128', shape: MINILM_L6, seq: 128 },
  { id: 'mpnet-128', shape: MPNET_BASE, seq: 128 },
];

const BATCH = 32;
export const THREADS = 2;
/** Gradient-cache chunks (sequences) EmbedTune falls back to, largest first, when the direct step does not fit. */
const CACHE_CHUNKS = [32, 16, 8] as const;
/** A child that runs this long is stuck (an allocation failure inside wasm can hang its threads); it is killed. */
const CHILD_TIMEOUT_MS = 20 * 60_000;

export type Mode = 'train' | 'encode' | 'profile' | 'matmul';
/** embedtune runs on wasm; embedtune-node is the same engine on tfjs-node, when bench/tfjs-node/setup has built it. */
export type Peer = 'embedtune' | 'embedtune-node' | 'pytorch';

/** What one child process is asked to measure; the same object goes to both peers (PyTorch ignores the loss fields). */
export interface WorkerSpec {
  readonly mode: Mode;
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly intermediate: number;
  readonly vocab: number;
  /** BERT unless said (see ModelShape.family). */
  readonly family?: 'bert' | 'mpnet';
  readonly seq: number;
  /** Pairs per training step, or sequences per encode batch. */
  readonly batch: number;
  readonly warmup: number;
  readonly steps: number;
  readonly threads: number;
  readonly seed: number;
  /** EmbedTune only: the direct step, or the gradient cache with chunks of `miniBatchSize` sequences. */
  readonly loss: 'mnrl' | 'cached_mnrl';
  readonly miniBatchSize: number;
  /** EmbedTune only: recompute each layer in the backward pass instead of keeping its activations; 'auto' as the engine. */
  readonly gradientCheckpointing: boolean | 'auto';
  /** EmbedTune only: the tfjs backend. */
  readonly backend?: 'wasm' | 'node';
}

interface KernelCost {
  readonly kernel: string;
  readonly calls: number;
  readonly ms: number;
}

/** What a child reports on the last line of its stdout. */
export interface WorkerReport {
  readonly peer: Peer;
  readonly mode: Mode;
  readonly step_seconds: number[];
  readonly losses: number[];
  readonly peak_rss_mib: number;
  /** RSS once the runtime and its tensor library are loaded, before the model exists. */
  readonly rss_after_import_mib: number;
  readonly wall_seconds: number;
  readonly versions: Record<string, string>;
  readonly threads: number;
  readonly parameters: number;
  readonly attention?: string;
  readonly blas?: string;
  readonly backend?: string;
  /** EmbedTune: the wasm memory at the end (it only grows), MiB. */
  readonly wasm_heap_mib?: number;
  /** EmbedTune: the wasm memory ran out; nothing was timed. */
  readonly out_of_memory?: string;
  /** EmbedTune, mode 'profile': one step's kernels by time. */
  readonly kernels?: KernelCost[];
  /** EmbedTune, mode 'profile': the most bytes tfjs tensors held at once during the step, MiB. */
  readonly peak_tensor_mib?: number;
  /** EmbedTune, training: whether it recomputed layers, and why (the engine's decision for the setting). */
  readonly checkpointing?: { on: boolean; reason: string };
  /** process.hrtime in µs around the timed steps, to cut a --cpu-prof profile down to them. */
  readonly timed_window_us?: [number, number];
}

interface Options {
  rounds: number;
  steps: number;
  warmup: number;
  encodeSteps: number;
  cases: BenchCase[];
  encode: boolean;
  python: string;
  profile: boolean;
  cpuProf: boolean;
  save: boolean;
  docs: boolean;
  gradientCheckpointing: boolean | 'auto';
  /** node_modules holding a built @tensorflow/tfjs-node (bench/tfjs-node/setup), or undefined to skip that peer. */
  tfjsNode: string | undefined;
}

/** The node_modules of bench/tfjs-node/setup's build, when its binding is there. */
function defaultTfjsNode(): string | undefined {
  const cache = process.env['EMBEDTUNE_TFJS_NODE_CACHE'] ?? join(homedir(), '.cache', 'embedtune', 'tfjs-node-4.22.0');
  const modules = join(cache, 'node_modules');
  return existsSync(join(modules, '@tensorflow', 'tfjs-node', 'lib', 'napi-v8', 'tfjs_binding.node')) ? modules : undefined;
}

export function defaultPython(): string {
  const peers = process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache', 'embedtune', 'py-peers');
  return join(peers, 'bin', 'python');
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = {
    rounds: 2,
    steps: 3,
    warmup: 1,
    encodeSteps: 8,
    cases: [...CASES],
    encode: true,
    python: defaultPython(),
    profile: true,
    cpuProf: false,
    save: true,
    docs: true,
    gradientCheckpointing: 'auto',
    tfjsNode: defaultTfjsNode(),
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const count = (minimum: number) => {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < minimum)
        throw new Error(`${arg} needs a whole number of at least ${minimum}, not "${argv[i]}".`);
      return value;
    };
    if (arg === '--rounds') options.rounds = count(1);
    else if (arg === '--steps') options.steps = count(1);
    else if (arg === '--warmup') options.warmup = count(0);
    else if (arg === '--encode-steps') options.encodeSteps = count(1);
    else if (arg === '--no-encode') options.encode = false;
    else if (arg === '--python') options.python = argv[++i] ?? '';
    else if (arg === '--no-profile') options.profile = false;
    else if (arg === '--cpu-prof') options.cpuProf = true;
    else if (arg === '--no-save') options.save = false;
    else if (arg === '--no-docs') options.docs = false;
    else if (arg === '--no-checkpointing') options.gradientCheckpointing = false;
    else if (arg === '--checkpointing') options.gradientCheckpointing = true;
    else if (arg === '--no-tfjs-node') options.tfjsNode = undefined;
    else if (arg === '--cases') {
      const ids = (argv[++i] ?? '').split(',').filter(Boolean);
      const unknown = ids.filter((id) => !CASES.some((c) => c.id === id));
      if (unknown.length > 0 || ids.length === 0)
        throw new Error(`--cases takes a comma-separated list of ${CASES.map((c) => c.id).join(', ')}; got "${argv[i]}".`);
      options.cases = CASES.filter((c) => ids.includes(c.id));
    } else throw new Error(`Unknown option ${arg}. See the comment at the top of bench/trainThroughput.ts.`);
  }
  return options;
}

// ---------------------------------------------------------------------------------------------------------------
// EmbedTune's worker: the optimizer step of src/trainer/training/trainingRun.ts, on a random encoder.
// ---------------------------------------------------------------------------------------------------------------

/** N(0, 0.02²) weights and unit LayerNorms from a seed (mulberry32 + Box–Muller), as a fresh BertModel has. */
function randomWeights(shapes: Map<string, number[]>, seed: number): NamedTensors {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const weights: NamedTensors = new Map();
  for (const [name, shape] of shapes) {
    const data = new Float32Array(elementCount(shape));
    if (name.endsWith('LayerNorm.weight')) data.fill(1);
    else if (!name.endsWith('LayerNorm.bias'))
      for (let i = 0; i < data.length; i++) data[i] = 0.02 * Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
    weights.set(name, hostTensor(shape, data));
  }
  return weights;
}

/** Every row exactly `seq` tokens: [CLS], random word-piece ids, [SEP]; no padding. */
function fullTokenBatch(rows: number, seq: number, vocab: number, seed: number): TokenBatch {
  let state = seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  const inputIds = new Int32Array(rows * seq);
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < seq; s++) inputIds[r * seq + s] = s === 0 ? 101 : s === seq - 1 ? 102 : 1000 + (next() % (vocab - 1000));
  }
  return {
    inputIds,
    attentionMask: new Int32Array(rows * seq).fill(1),
    tokenTypeIds: new Int32Array(rows * seq),
    batchSize: rows,
    seqLength: seq,
  };
}

/**
 * Stands in for the tokenizer so that neither peer spends time tokenizing: any list of texts becomes that many
 * full-length rows. Only `encodeBatch` is used by SentenceEmbedder.embed.
 */
function pretokenized(seq: number, vocab: number): TextTokenizer {
  const cache = new Map<number, TokenBatch>();
  const stub = {
    encodeBatch: (texts: readonly string[]): TokenBatch => {
      let batch = cache.get(texts.length);
      if (!batch) cache.set(texts.length, (batch = fullTokenBatch(texts.length, seq, vocab, 7)));
      return batch;
    },
  };
  return stub as unknown as TextTokenizer;
}

class WasmOutOfMemory extends Error {}

interface WasmModule {
  HEAPU8: Uint8Array;
  /** Emscripten's memory object; its buffer is the current size even when a kernel's thread grew it. */
  wasmMemory?: { buffer: ArrayBufferLike };
}

function wasmMemoryBytes(wasm: WasmModule): number {
  return wasm.wasmMemory?.buffer.byteLength ?? wasm.HEAPU8.length;
}

/** wasm32 addresses 4 GiB; allocations inside the C++ kernels need some headroom beyond the tensors'. */
const WASM_MEMORY_LIMIT = 4 * 2 ** 30;
const WASM_HEADROOM = 192 * 2 ** 20;

/**
 * tfjs-backend-wasm does not check `_malloc`'s result: once its 4 GiB of wasm32 memory are used up it writes to
 * address 0 and its threads hang (seen here: a MiniLM step at batch 32 spun at 100% CPU for over 10 minutes, its
 * memory at 4096 MiB a second into the forward pass). For the benchmark every kernel call checks the memory
 * afterwards, and one that leaves it within WASM_HEADROOM of the limit throws, so that a step that does not fit is
 * reported instead of hanging. (Wrapping the module's `_malloc` does not work: tfjs reaches it another way.)
 */
function guardWasmMemory(): WasmModule {
  const wasm = (tf.backend() as unknown as { wasm: WasmModule }).wasm;
  const engine = tf.engine() as unknown as { runKernel: (name: string, ...rest: unknown[]) => unknown };
  const runKernel = engine.runKernel.bind(engine);
  engine.runKernel = (name: string, ...rest: unknown[]) => {
    const result = runKernel(name, ...rest);
    const bytes = wasmMemoryBytes(wasm);
    if (bytes > WASM_MEMORY_LIMIT - WASM_HEADROOM) {
      throw new WasmOutOfMemory(
        `the wasm memory grew to ${(bytes / 2 ** 20).toFixed(0)} MiB (at a ${name} kernel), within ${WASM_HEADROOM / 2 ** 20} MiB of wasm32's 4 GiB`,
      );
    }
    return result;
  };
  return wasm;
}

/** The [m, k, n] of one encoder layer's dense products over a training step's tokens: Q, K, V, O, FFN in, FFN out. */
export function layerProducts(spec: Pick<WorkerSpec, 'batch' | 'seq' | 'hidden' | 'intermediate'>): Array<[number, number, number]> {
  const tokens = 2 * spec.batch * spec.seq;
  const { hidden: h, intermediate: f } = spec;
  return [
    [tokens, h, h],
    [tokens, h, h],
    [tokens, h, h],
    [tokens, h, h],
    [tokens, h, f],
    [tokens, f, h],
  ];
}

/** Mode 'matmul': only one layer's dense products, plain A @ B, the ceiling that the step's matrix work sets. */
function timeMatMuls(spec: WorkerSpec, started: number, rssAfterImport: number, backendReason: string): WorkerReport {
  const pairs = layerProducts(spec).map(
    ([m, k, n], i) =>
      [tf.randomNormal([m, k], 0, 1, 'float32', i), tf.randomNormal([k, n], 0, 1, 'float32', 100 + i)] as [tf.Tensor2D, tf.Tensor2D],
  );
  const stepSeconds: number[] = [];
  for (let step = 0; step < spec.warmup + spec.steps; step++) {
    const t0 = performance.now();
    for (const [a, b] of pairs) tf.tidy(() => tf.sum(tf.matMul(a, b)).dataSync());
    if (step >= spec.warmup) stepSeconds.push((performance.now() - t0) / 1000);
  }
  return {
    peer: 'embedtune',
    mode: 'matmul',
    step_seconds: stepSeconds,
    losses: [],
    peak_rss_mib: process.resourceUsage().maxRSS / 1024,
    rss_after_import_mib: rssAfterImport,
    wall_seconds: (performance.now() - started) / 1000,
    versions: { node: process.version, 'tfjs-core': tf.version_core },
    threads: spec.threads,
    parameters: 0,
    backend: backendReason,
  };
}

function hrtimeMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

async function runWorker(spec: WorkerSpec): Promise<WorkerReport> {
  const started = performance.now();
  const backend = spec.backend === 'node' ? await selectBackend('node') : await selectBackend('wasm', { threads: spec.threads });
  const wasm = spec.backend === 'node' ? undefined : guardWasmMemory();
  const rssAfterImport = process.memoryUsage().rss / 2 ** 20;
  if (spec.mode === 'matmul') return timeMatMuls(spec, started, rssAfterImport, backend.reason);
  const mpnet = spec.family === 'mpnet';
  const { config, layout } = parseModelConfig(
    {
      model_type: mpnet ? 'mpnet' : 'bert',
      vocab_size: spec.vocab,
      hidden_size: spec.hidden,
      num_hidden_layers: spec.layers,
      num_attention_heads: spec.heads,
      intermediate_size: spec.intermediate,
      // MPNet's positions start after its padding id (1), as all-mpnet-base-v2's 514 do.
      max_position_embeddings: mpnet ? 514 : 512,
      type_vocab_size: 2,
      hidden_act: 'gelu',
      hidden_dropout_prob: 0.1,
      attention_probs_dropout_prob: 0.1,
      layer_norm_eps: 1e-12,
      ...(mpnet ? { pad_token_id: 1, relative_attention_num_buckets: 32 } : {}),
    },
    'bench',
  );
  const shapes = new Map([...expectedBertWeightShapes(config, layout), ...bertPoolerWeightShapes(config)]);
  const encoder = BertEncoder.fromWeights(
    config,
    randomWeights(shapes, spec.seed),
    encoderOpsFor(backend.name),
    undefined,
    undefined,
    layout,
  );
  const checkpointing = decideGradientCheckpointing(spec.gradientCheckpointing, {
    backend: backend.name,
    config,
    parameters: encoder.parameterCount(),
    microBatch: { sequences: spec.loss === 'cached_mnrl' ? spec.miniBatchSize : 2 * spec.batch, seqLength: spec.seq },
  });
  encoder.gradientCheckpointing = checkpointing.on;
  const embedder = new SentenceEmbedder(pretokenized(spec.seq, spec.vocab), encoder, {
    pooling: 'mean',
    normalize: spec.mode === 'encode',
    maxSeqLength: spec.seq,
  });
  const texts = (prefix: string) => Array.from({ length: spec.batch }, (_, i) => `${prefix}${i}`);

  const stepSeconds: number[] = [];
  const losses: number[] = [];
  let kernels: KernelCost[] | undefined;
  let peakTensorMib: number | undefined;
  let window: [number, number] = [0, 0];
  let outOfMemory: string | undefined;
  try {
    if (spec.mode === 'encode') {
      const batch = texts('s');
      window = [hrtimeMicros(), 0];
      for (let step = 0; step < spec.warmup + spec.steps; step++) {
        const t0 = performance.now();
        const vectors = embedder.embed(batch);
        vectors.dataSync();
        vectors.dispose();
        if (step >= spec.warmup) stepSeconds.push((performance.now() - t0) / 1000);
      }
      window[1] = hrtimeMicros();
    } else {
      const trainable = new Map([...encoder.variables].filter(([, variable]) => variable.trainable));
      const optimizer = new AdamW(trainable, { ...DEFAULT_ADAMW, weightDecay: 0.01 });
      const batch: TextBatch = { anchor: texts('a'), positive: texts('p'), targets: {} };
      /** One optimizer step, as trainingRun.ts does it with one micro-batch. */
      const trainingStep = (step: number): number => {
        const { loss, gradients } = microBatchGradients(
          embedder,
          trainable,
          batch,
          { name: spec.loss, scale: 20, margin: 0, miniBatchSize: spec.miniBatchSize },
          { seed: spec.seed, step, microBatch: 0 },
        );
        clipByGlobalNorm(gradients, 1.0);
        optimizer.apply(gradients, 2e-5);
        disposeGradients(gradients);
        return loss;
      };
      for (let step = 0; step < spec.warmup; step++) losses.push(trainingStep(step));
      if (spec.mode === 'profile') {
        const t0 = performance.now();
        const profile = await tf.profile(() => {
          losses.push(trainingStep(spec.warmup));
        });
        stepSeconds.push((performance.now() - t0) / 1000);
        kernels = kernelCosts(profile.kernels, backend.name);
        peakTensorMib = profile.peakBytes / 2 ** 20;
      } else {
        window = [hrtimeMicros(), 0];
        for (let step = spec.warmup; step < spec.warmup + spec.steps; step++) {
          const t0 = performance.now();
          losses.push(trainingStep(step));
          stepSeconds.push((performance.now() - t0) / 1000);
        }
        window[1] = hrtimeMicros();
      }
    }
  } catch (error) {
    if (!(error instanceof WasmOutOfMemory)) throw error;
    outOfMemory = error.message;
  }
  return {
    peer: 'embedtune',
    mode: spec.mode,
    step_seconds: stepSeconds,
    losses,
    // maxRSS is in KiB.
    peak_rss_mib: process.resourceUsage().maxRSS / 1024,
    rss_after_import_mib: rssAfterImport,
    wall_seconds: (performance.now() - started) / 1000,
    versions: { node: process.version, 'tfjs-core': tf.version_core },
    threads: backend.threads ?? 1,
    parameters: encoder.parameterCount(),
    backend: backend.reason,
    ...(wasm ? { wasm_heap_mib: wasmMemoryBytes(wasm) / 2 ** 20 } : {}),
    ...(outOfMemory ? { out_of_memory: outOfMemory } : {}),
    ...(kernels ? { kernels } : {}),
    ...(peakTensorMib !== undefined ? { peak_tensor_mib: peakTensorMib } : {}),
    ...(spec.mode === 'encode' ? {} : { checkpointing }),
    timed_window_us: window,
  };
}

/** Time by kernel; tf.profile also lists the op scopes around kernels, which would count their time twice. */
function kernelCosts(records: Awaited<ReturnType<typeof tf.profile>>['kernels'], backendName: string): KernelCost[] {
  const byKernel = new Map<string, { calls: number; ms: number }>();
  for (const record of records) {
    if (!tf.getKernel(record.name, backendName)) continue;
    const ms = typeof record.kernelTimeMs === 'number' ? record.kernelTimeMs : 0;
    const entry = byKernel.get(record.name) ?? { calls: 0, ms: 0 };
    entry.calls++;
    entry.ms += ms;
    byKernel.set(record.name, entry);
  }
  return [...byKernel].map(([kernel, { calls, ms }]) => ({ kernel, calls, ms })).sort((a, b) => b.ms - a.ms);
}

// ---------------------------------------------------------------------------------------------------------------
// --cpu-prof: where the timed steps of EmbedTune's main thread spend their time, by src/ function.
// ---------------------------------------------------------------------------------------------------------------

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface FunctionCost {
  readonly name: string;
  /** Share of the timed window's samples with this function on the stack. */
  readonly inclusive: number;
}

/** The main thread's profile is the one with the most samples; the wasm worker threads' are nearly idle in JS. */
function summarizeCpuProfile(dir: string, window: [number, number]): FunctionCost[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => join(dir, f));
  if (files.length === 0) return [];
  const main = files.sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
  const profile = JSON.parse(readFileSync(main, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inclusive = new Map<string, number>();
  let total = 0;
  let time = profile.startTime;
  profile.samples.forEach((id, i) => {
    time += profile.timeDeltas[i]!;
    if (time < window[0] || time > window[1]) return;
    total++;
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const { functionName, url } = byId.get(at)!.callFrame;
      const srcAt = url.lastIndexOf('/src/');
      if (srcAt < 0 || url.includes('node_modules') || !functionName) continue;
      const name = `${functionName} (${url.slice(srcAt + 1)})`;
      if (!seen.has(name)) inclusive.set(name, (inclusive.get(name) ?? 0) + 1);
      seen.add(name);
    }
  });
  if (total === 0) return [];
  return [...inclusive]
    .map(([name, count]) => ({ name, inclusive: count / total }))
    .sort((a, b) => b.inclusive - a.inclusive)
    .slice(0, 25);
}

// ---------------------------------------------------------------------------------------------------------------
// The driver: alternate the peers, collect, summarize, write JSON and docs.
// ---------------------------------------------------------------------------------------------------------------

interface PeerResult {
  /** Every timed step of every round. */
  readonly stepSeconds: number[];
  /** Median seconds per step, per round. */
  readonly roundMedians: number[];
  readonly stats: LatencyStats;
  /** Pairs (train) or sequences (encode) per second, from the median step over all rounds. */
  readonly perSecond: number;
  /** Highest peak RSS of any round. */
  readonly peakRssMib: number;
  readonly rssAfterImportMib: number;
  readonly firstLosses: number[];
  readonly report: WorkerReport;
}

/** The direct EmbedTune step that did not fit, and what it reached before it ran out. */
interface OutOfMemoryAttempt {
  readonly loss: string;
  readonly message: string;
  readonly peakRssMib: number;
}

interface CaseResult {
  readonly id: string;
  readonly mode: 'train' | 'encode';
  readonly shape: ModelShape;
  readonly seq: number;
  readonly batch: number;
  readonly tokensPerStep: number;
  /** How EmbedTune's numbers were made: "mnrl" (the same step as PyTorch) or "cached_mnrl, chunks of N". */
  readonly embedtuneStep: string;
  readonly outOfMemory: OutOfMemoryAttempt[];
  readonly embedtune: PeerResult;
  readonly pytorch: PeerResult;
  /** EmbedTune ÷ PyTorch: throughput (above 1 is faster) and peak RSS (below 1 is leaner). */
  readonly throughputRatio: number;
  readonly memoryRatio: number;
  /** EmbedTune on tfjs-node, when built, and its ratios to PyTorch. */
  readonly node?: PeerResult;
  readonly nodeThroughputRatio?: number;
  readonly nodeMemoryRatio?: number;
  /** How the tfjs-node step ran ("mnrl" or "mnrl, checkpointed", as `auto` decided), and its kernel profile. */
  readonly nodeStep?: string;
  readonly nodeKernels?: KernelCost[];
  readonly nodeProfiledStepSeconds?: number;
  /** Per round, EmbedTune's median step throughput ÷ PyTorch's in the same round. */
  readonly roundThroughputRatios: number[];
  readonly kernels?: KernelCost[];
  readonly profiledStepSeconds?: number;
  readonly cpuProfile?: FunctionCost[];
}

const EMPTY_REPORT: WorkerReport = {
  peer: 'embedtune',
  mode: 'train',
  step_seconds: [],
  losses: [],
  peak_rss_mib: Number.NaN,
  rss_after_import_mib: Number.NaN,
  wall_seconds: Number.NaN,
  versions: {},
  threads: THREADS,
  parameters: 0,
};

export function runChild(
  peer: Peer,
  spec: WorkerSpec,
  options: Pick<Options, 'python' | 'tfjsNode'>,
  label: string,
  cpuProfDir?: string,
): WorkerReport {
  const common = { cwd: ROOT, encoding: 'utf8' as const, timeout: CHILD_TIMEOUT_MS, maxBuffer: 64 * 2 ** 20 };
  if (peer === 'embedtune-node') {
    if (!options.tfjsNode) throw new Error('No built tfjs-node: run bench/tfjs-node/setup.');
    // selectBackend finds the package through NODE_PATH, as it would a user's install; TensorFlow reads its pool
    // sizes from the environment when the binding starts.
    const env = {
      ...process.env,
      NODE_PATH: options.tfjsNode,
      EMBEDTUNE_NATIVE_BACKEND: dirname(options.tfjsNode),
      TF_NUM_INTRAOP_THREADS: String(THREADS),
      TF_NUM_INTEROP_THREADS: '1',
      TF_CPP_MIN_LOG_LEVEL: '2',
    };
    const nodeSpec: WorkerSpec = { ...spec, backend: 'node' };
    const result = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--worker', JSON.stringify(nodeSpec)], { ...common, env });
    if (result.status !== 0)
      throw new Error(
        `The tfjs-node ${spec.mode} worker (${label}) failed (${result.error?.message ?? `exit ${result.status}`}):\n${result.stderr.slice(-4000)}`,
      );
    return { ...(JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as WorkerReport), peer: 'embedtune-node' };
  }
  const result =
    peer === 'embedtune'
      ? spawnSync(
          process.execPath,
          [
            ...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : []),
            '--import',
            'tsx',
            __filename,
            '--worker',
            JSON.stringify(spec),
          ],
          common,
        )
      : spawnSync(options.python, [PY_STEP, JSON.stringify(spec)], {
          ...common,
          env: { ...process.env, PYTHONWARNINGS: 'ignore', TOKENIZERS_PARALLELISM: 'false' },
        });
  if (peer === 'embedtune' && result.signal && result.error) {
    // Killed at the time limit: the wasm threads hung, as they do when memory runs out inside a kernel.
    return { ...EMPTY_REPORT, mode: spec.mode, out_of_memory: `the worker hung and was killed after ${CHILD_TIMEOUT_MS / 60_000} minutes` };
  }
  if (result.status !== 0) {
    const why = result.error?.message ?? (result.signal ? `signal ${result.signal}` : `exit ${result.status}`);
    throw new Error(`The ${peer} ${spec.mode} worker (${label}) failed (${why}):\n${result.stderr.slice(-4000)}`);
  }
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as WorkerReport;
}

export function median(values: readonly number[]): number {
  return latencyStats(values).median;
}

function summarize(reports: readonly WorkerReport[], batch: number): PeerResult {
  const stepSeconds = reports.flatMap((r) => r.step_seconds);
  const stats = latencyStats(stepSeconds);
  return {
    stepSeconds,
    roundMedians: reports.map((r) => median(r.step_seconds)),
    stats,
    perSecond: batch / stats.median,
    peakRssMib: Math.max(...reports.map((r) => r.peak_rss_mib)),
    rssAfterImportMib: median(reports.map((r) => r.rss_after_import_mib)),
    firstLosses: reports[0]!.losses.slice(0, 3),
    report: reports[0]!,
  };
}

function specFor(benchCase: BenchCase, mode: Mode, options: Options): WorkerSpec {
  return plainStepSpec(benchCase.shape, benchCase.seq, BATCH, {
    mode,
    warmup: options.warmup,
    steps: mode === 'encode' ? options.encodeSteps : options.steps,
    gradientCheckpointing: options.gradientCheckpointing,
  });
}

/** The plain MNRL step (or encode batch) on a random encoder of `shape`, `batch` pairs of `seq` tokens, 2 threads. */
export function plainStepSpec(
  shape: ModelShape,
  seq: number,
  batch: number,
  run: Pick<WorkerSpec, 'mode' | 'warmup' | 'steps' | 'gradientCheckpointing'>,
): WorkerSpec {
  return {
    ...run,
    layers: shape.layers,
    hidden: shape.hidden,
    heads: shape.heads,
    intermediate: shape.intermediate,
    vocab: shape.vocab,
    ...(shape.family ? { family: shape.family } : {}),
    seq,
    batch,
    threads: THREADS,
    seed: 42,
    loss: 'mnrl',
    miniBatchSize: 2 * batch,
  };
}

function stepName(spec: WorkerSpec, report: WorkerReport | undefined): string {
  const loss = spec.loss === 'mnrl' ? 'mnrl' : `cached_mnrl, chunks of ${spec.miniBatchSize}`;
  return report?.checkpointing?.on ? `${loss}, checkpointed` : loss;
}

function runCase(benchCase: BenchCase, mode: 'train' | 'encode', options: Options, log: (line: string) => void): CaseResult {
  let spec = specFor(benchCase, mode, options);
  const fallbacks = mode === 'train' ? CACHE_CHUNKS.map((chunk) => ({ ...spec, loss: 'cached_mnrl' as const, miniBatchSize: chunk })) : [];
  const outOfMemory: OutOfMemoryAttempt[] = [];
  const reports: Record<Peer, WorkerReport[]> = { embedtune: [], 'embedtune-node': [], pytorch: [] };
  const cpuProfWindows: { dir: string; window: [number, number] }[] = [];
  const peers: Peer[] = options.tfjsNode ? ['embedtune', 'embedtune-node', 'pytorch'] : ['embedtune', 'pytorch'];
  for (let round = 0; round < options.rounds; round++) {
    const order: Peer[] = round % 2 === 0 ? peers : [...peers].reverse();
    for (const peer of order) {
      const label = `${benchCase.id}-${mode}-${peer}-round${round + 1}`;
      let report: WorkerReport;
      for (;;) {
        const profDir = peer === 'embedtune' && options.cpuProf && mode === 'train' ? join(PROFILE_DIR, label) : undefined;
        if (profDir) {
          rmSync(profDir, { recursive: true, force: true });
          mkdirSync(profDir, { recursive: true });
        }
        // tfjs-node has no 4 GiB limit: it always runs the plain step.
        report = runChild(peer, peer === 'embedtune-node' ? specFor(benchCase, mode, options) : spec, options, label, profDir);
        if (!report.out_of_memory) {
          if (profDir && report.timed_window_us) cpuProfWindows.push({ dir: profDir, window: report.timed_window_us });
          break;
        }
        const what = mode === 'train' ? stepName(spec, report) : 'encode';
        if (!outOfMemory.some((o) => o.loss === what))
          outOfMemory.push({ loss: what, message: report.out_of_memory, peakRssMib: report.peak_rss_mib });
        log(`  ${label}: ${what} does not fit: ${report.out_of_memory}`);
        const next = fallbacks.shift();
        // Nothing smaller to try: the round is recorded with no timed steps, and the tables say "n/a".
        if (!next) break;
        spec = next;
      }
      reports[peer].push(report);
      const perSecond = BATCH / median(report.step_seconds);
      log(
        `  ${label}: ${perSecond.toFixed(2)} ${mode === 'train' ? 'pairs' : 'sequences'}/s, peak RSS ${report.peak_rss_mib.toFixed(0)} MiB (load ${loadavg()[0]!.toFixed(2)})`,
      );
    }
  }
  let kernels: KernelCost[] | undefined;
  let profiledStepSeconds: number | undefined;
  let nodeProfile: WorkerReport | undefined;
  if (mode === 'train' && options.profile) {
    const profiled = runChild('embedtune', { ...spec, mode: 'profile', steps: 1 }, options, `${benchCase.id}-profile`);
    kernels = profiled.kernels;
    profiledStepSeconds = profiled.step_seconds[0];
    log(
      `  ${benchCase.id}: profiled one step (${profiledStepSeconds?.toFixed(1)} s; tensors peaked at ${profiled.peak_tensor_mib?.toFixed(0)} MiB, wasm memory ${profiled.wasm_heap_mib?.toFixed(0)} MiB, peak RSS ${profiled.peak_rss_mib.toFixed(0)} MiB)`,
    );
    if (options.tfjsNode) {
      nodeProfile = runChild(
        'embedtune-node',
        { ...specFor(benchCase, mode, options), mode: 'profile', steps: 1 },
        options,
        `${benchCase.id}-profile-node`,
      );
      log(
        `  ${benchCase.id}: profiled one tfjs-node step (${nodeProfile.step_seconds[0]?.toFixed(1)} s; tensors peaked at ${nodeProfile.peak_tensor_mib?.toFixed(0)} MiB, peak RSS ${nodeProfile.peak_rss_mib.toFixed(0)} MiB)`,
      );
    }
  }
  const cpuProfile = cpuProfWindows.length > 0 ? summarizeCpuProfile(cpuProfWindows[0]!.dir, cpuProfWindows[0]!.window) : undefined;
  const embedtune = summarize(reports.embedtune, BATCH);
  const pytorch = summarize(reports.pytorch, BATCH);
  const node = reports['embedtune-node'].length > 0 ? summarize(reports['embedtune-node'], BATCH) : undefined;
  const nodeSpec = specFor(benchCase, mode, options);
  return {
    ...(node && mode === 'train' ? { nodeStep: stepName(nodeSpec, node.report) } : {}),
    ...(nodeProfile?.kernels ? { nodeKernels: nodeProfile.kernels, nodeProfiledStepSeconds: nodeProfile.step_seconds[0] ?? NaN } : {}),
    ...(node
      ? { node, nodeThroughputRatio: node.perSecond / pytorch.perSecond, nodeMemoryRatio: node.peakRssMib / pytorch.peakRssMib }
      : {}),
    id: benchCase.id,
    mode,
    shape: benchCase.shape,
    seq: benchCase.seq,
    batch: BATCH,
    tokensPerStep: (mode === 'train' ? 2 : 1) * BATCH * benchCase.seq,
    embedtuneStep: mode === 'train' ? stepName(spec, reports.embedtune[0]) : 'encode',
    outOfMemory,
    embedtune,
    pytorch,
    throughputRatio: embedtune.perSecond / pytorch.perSecond,
    memoryRatio: embedtune.peakRssMib / pytorch.peakRssMib,
    roundThroughputRatios: embedtune.roundMedians.map((seconds, i) => pytorch.roundMedians[i]! / seconds),
    ...(kernels ? { kernels } : {}),
    ...(profiledStepSeconds !== undefined ? { profiledStepSeconds } : {}),
    ...(cpuProfile ? { cpuProfile } : {}),
  };
}

/** One layer's dense products alone, both peers: the share of the gap that is matrix-multiply speed. */
interface GemmResult {
  readonly id: string;
  readonly label: string;
  readonly gflop: number;
  readonly embedtuneGflops: number;
  readonly nodeGflops?: number;
  readonly pytorchGflops: number;
  readonly ratio: number;
}

function runGemm(benchCase: BenchCase, options: Options, log: (line: string) => void): GemmResult {
  const spec: WorkerSpec = { ...specFor(benchCase, 'matmul', options), warmup: 1, steps: 5 };
  const flops = layerProducts(spec).reduce((sum, [m, k, n]) => sum + 2 * m * k * n, 0);
  const medians: Record<Peer, number[]> = { embedtune: [], 'embedtune-node': [], pytorch: [] };
  const peers: Peer[] = options.tfjsNode ? ['embedtune', 'embedtune-node', 'pytorch'] : ['embedtune', 'pytorch'];
  for (let round = 0; round < options.rounds; round++) {
    const order: Peer[] = round % 2 === 0 ? peers : [...peers].reverse();
    for (const peer of order)
      medians[peer].push(median(runChild(peer, spec, options, `${benchCase.id}-matmul-${peer}-round${round + 1}`).step_seconds));
  }
  const gflops = (peer: Peer) => flops / median(medians[peer]) / 1e9;
  const result = {
    id: benchCase.id,
    label: `${benchCase.shape.name}, seq ${benchCase.seq}`,
    gflop: flops / 1e9,
    embedtuneGflops: gflops('embedtune'),
    ...(options.tfjsNode ? { nodeGflops: gflops('embedtune-node') } : {}),
    pytorchGflops: gflops('pytorch'),
    ratio: gflops('embedtune') / gflops('pytorch'),
  };
  log(
    `  ${benchCase.id}: one layer's products, EmbedTune ${fmt(result.embedtuneGflops, 1)} GFLOP/s, PyTorch ${fmt(result.pytorchGflops, 1)} GFLOP/s (${fmt(result.ratio)}×)`,
  );
  return result;
}

interface RunMeta {
  readonly measuredAt: string;
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly options: { rounds: number; steps: number; warmup: number; encodeSteps: number };
  readonly python: string;
  readonly embedtuneBackend: string;
  readonly torch: string;
  readonly transformers: string;
  readonly blas: string;
  readonly attention: string;
  readonly openblasCoretype: string | null;
  readonly loadAverageAtEnd: number[];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--worker') {
    const report = await runWorker(JSON.parse(argv[1] ?? '{}') as WorkerSpec);
    process.stdout.write(`${JSON.stringify(report)}\n`);
    // The wasm thread pool would otherwise keep the process alive.
    process.exit(0);
  }
  const options = parseOptions(argv);
  if (!existsSync(options.python)) {
    throw new Error(`No Python at ${options.python}. Run bench/python/setup first (or set EMBEDTUNE_PY_PEERS, or pass --python).`);
  }
  const log = (line: string) => process.stderr.write(`${line}\n`);
  log(
    `trainThroughput: ${options.cases.map((c) => c.id).join(', ')}; ${options.rounds} rounds × (${options.warmup} warm-up + ${options.steps} timed steps); Python ${options.python}`,
  );

  const results: CaseResult[] = [];
  const gemm: GemmResult[] = [];
  for (const benchCase of options.cases) {
    log(`${benchCase.id}: training`);
    results.push(runCase(benchCase, 'train', options, log));
    gemm.push(runGemm(benchCase, options, log));
  }
  if (options.encode) {
    for (const benchCase of options.cases) {
      log(`${benchCase.id}: encoding`);
      results.push(runCase(benchCase, 'encode', options, log));
    }
  }

  const torchReport = results[0]!.pytorch.report;
  const meta: RunMeta = {
    measuredAt: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    options: { rounds: options.rounds, steps: options.steps, warmup: options.warmup, encodeSteps: options.encodeSteps },
    python: options.python,
    embedtuneBackend: results[0]!.embedtune.report.backend ?? 'wasm',
    torch: torchReport.versions['torch'] ?? '?',
    transformers: torchReport.versions['transformers'] ?? '?',
    blas: torchReport.blas ?? '?',
    attention: torchReport.attention ?? '?',
    openblasCoretype: process.env['OPENBLAS_CORETYPE'] ?? null,
    loadAverageAtEnd: loadavg().map(round2),
  };

  if (options.save) {
    mkdirSync(dirname(RESULTS_PATH), { recursive: true });
    writeFileSync(
      RESULTS_PATH,
      `${JSON.stringify({ meta, cases: results.map(toJson), matmul: gemm.map((g) => ({ ...g, gflop: round2(g.gflop), embedtuneGflops: round2(g.embedtuneGflops), pytorchGflops: round2(g.pytorchGflops), ratio: round3(g.ratio) })) }, null, 2)}\n`,
    );
  }
  const section = renderSection(meta, results, gemm, options);
  if (options.docs) writeDocs(section);
  process.stdout.write(`${section}\n`);
}

function toJson(result: CaseResult): unknown {
  const peer = (p: PeerResult) => ({
    per_second: round2(p.perSecond),
    step_seconds: {
      median: round3(p.stats.median),
      min: round3(p.stats.min),
      max: round3(p.stats.max),
      mean: round3(p.stats.mean),
      n: p.stats.n,
    },
    round_median_step_seconds: p.roundMedians.map(round3),
    peak_rss_mib: round2(p.peakRssMib),
    rss_after_import_mib: round2(p.rssAfterImportMib),
    ...(p.report.wasm_heap_mib !== undefined ? { wasm_heap_mib: round2(p.report.wasm_heap_mib) } : {}),
    first_losses: p.firstLosses.map(round3),
    parameters: p.report.parameters,
    threads: p.report.threads,
    versions: p.report.versions,
    samples: p.stepSeconds.map(round3),
  });
  return {
    id: result.id,
    mode: result.mode,
    shape: result.shape,
    seq: result.seq,
    batch: result.batch,
    unit: result.mode === 'train' ? 'pairs/s' : 'sequences/s',
    tokens_per_step: result.tokensPerStep,
    embedtune_step: result.embedtuneStep,
    out_of_memory: result.outOfMemory.map((o) => ({ step: o.loss, message: o.message, peak_rss_mib: round2(o.peakRssMib) })),
    embedtune: peer(result.embedtune),
    ...(result.node
      ? {
          embedtune_tfjs_node: peer(result.node),
          tfjs_node_throughput_ratio: round3(result.nodeThroughputRatio!),
          tfjs_node_memory_ratio: round3(result.nodeMemoryRatio!),
        }
      : {}),
    pytorch: peer(result.pytorch),
    throughput_ratio: round3(result.throughputRatio),
    round_throughput_ratios: result.roundThroughputRatios.map(round3),
    memory_ratio: round3(result.memoryRatio),
    ...(result.kernels
      ? {
          profiled_step_seconds: round3(result.profiledStepSeconds ?? NaN),
          kernels: result.kernels.map((k) => ({ ...k, ms: round2(k.ms) })),
        }
      : {}),
    ...(result.nodeStep ? { tfjs_node_step: result.nodeStep } : {}),
    ...(result.nodeKernels
      ? {
          tfjs_node_profiled_step_seconds: round3(result.nodeProfiledStepSeconds ?? NaN),
          tfjs_node_kernels: result.nodeKernels.map((k) => ({ ...k, ms: round2(k.ms) })),
        }
      : {}),
    ...(result.cpuProfile ? { cpu_profile_inclusive: result.cpuProfile.map((f) => ({ ...f, inclusive: round3(f.inclusive) })) } : {}),
  };
}

export function fmt(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function verdict(pass: boolean): string {
  return pass ? '**pass**' : '**FAIL**';
}

/** EmbedTune's rate, or why there is none. */
function embedtuneRate(result: CaseResult, digits: number): string {
  if (Number.isFinite(result.embedtune.perSecond)) return fmt(result.embedtune.perSecond, digits);
  return result.outOfMemory.length > 0 ? 'out of wasm memory' : 'n/a';
}

function caseLabel(result: CaseResult): string {
  return `${result.shape.name}, seq ${result.seq}`;
}

function renderSection(meta: RunMeta, results: readonly CaseResult[], gemm: readonly GemmResult[], options: Options): string {
  const training = results.filter((r) => r.mode === 'train');
  const encoding = results.filter((r) => r.mode === 'encode');
  const range = (values: number[]) => (values.length > 1 ? ` (rounds ${fmt(Math.min(...values))}–${fmt(Math.max(...values))}×)` : '');
  const stepNote = (r: CaseResult) => (r.embedtuneStep.startsWith('mnrl') ? '' : ` ‡`);
  const lines: string[] = [
    SECTION_TITLE,
    '',
    `Measured ${meta.measuredAt.slice(0, 16).replace('T', ' ')} UTC · Node ${meta.node} · ${meta.cpu} (${meta.cores} cores) · EmbedTune: ${meta.embedtuneBackend} · ` +
      `PyTorch ${meta.torch} (${meta.blas}, ${meta.attention} attention, 2 threads), transformers ${meta.transformers}` +
      (meta.openblasCoretype ? ` · OPENBLAS_CORETYPE=${meta.openblasCoretype}` : '') +
      ` · ${meta.options.rounds} rounds per case, peers alternating · load average at the end ${meta.loadAverageAtEnd.join(', ')}.`,
    '',
    '### Targets',
    '',
    '| Target | Case | Result | |',
    '| --- | --- | --- | --- |',
    ...training.map(
      (r) =>
        `| training throughput ≥ ${fmt(TARGET_THROUGHPUT_RATIO, 1)}× PyTorch's | ${caseLabel(r)}${stepNote(r)} | ${fmt(r.throughputRatio)}×${range(r.roundThroughputRatios)} | ${verdict(r.throughputRatio >= TARGET_THROUGHPUT_RATIO)} |`,
    ),
    ...training.map(
      (r) =>
        `| peak memory ≤ ${fmt(TARGET_MEMORY_RATIO, 1)}× PyTorch's | ${caseLabel(r)}${stepNote(r)} | ${fmt(r.memoryRatio)}× | ${verdict(r.memoryRatio <= TARGET_MEMORY_RATIO)} |`,
    ),
    ...training
      .filter((r) => r.nodeThroughputRatio !== undefined)
      .flatMap((r) => [
        `| on tfjs-node: training throughput ≥ ${fmt(TARGET_THROUGHPUT_RATIO, 1)}× PyTorch's | ${caseLabel(r)} | ${fmt(r.nodeThroughputRatio!)}× | ${verdict(r.nodeThroughputRatio! >= TARGET_THROUGHPUT_RATIO)} |`,
        `| on tfjs-node: peak memory ≤ ${fmt(TARGET_MEMORY_RATIO, 1)}× PyTorch's | ${caseLabel(r)} | ${fmt(r.nodeMemoryRatio!)}× | ${verdict(r.nodeMemoryRatio! <= TARGET_MEMORY_RATIO)} |`,
      ]),
    '',
    `### Training: one MNRL optimizer step, batch ${BATCH} pairs (${2 * BATCH} sequences)`,
    '',
    '| Case | EmbedTune step | EmbedTune pairs/s | PyTorch pairs/s | ratio | EmbedTune s/step (min–max) | PyTorch s/step (min–max) | EmbedTune peak RSS (MiB) | PyTorch peak RSS (MiB) | RSS ratio |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...training.map(
      (r) =>
        `| ${caseLabel(r)} | ${r.embedtuneStep}${stepNote(r)} | ${embedtuneRate(r, 2)} | ${fmt(r.pytorch.perSecond)} | ${fmt(r.throughputRatio)}× | ` +
        `${fmt(r.embedtune.stats.median, 1)} (${fmt(r.embedtune.stats.min, 1)}–${fmt(r.embedtune.stats.max, 1)}) | ` +
        `${fmt(r.pytorch.stats.median, 1)} (${fmt(r.pytorch.stats.min, 1)}–${fmt(r.pytorch.stats.max, 1)}) | ${fmt(r.embedtune.peakRssMib, 0)} | ${fmt(r.pytorch.peakRssMib, 0)} | ${fmt(r.memoryRatio)}× |`,
    ),
    '',
  ];
  const onNode = results.filter((r) => r.node);
  if (onNode.length > 0) {
    lines.push(
      '### The same steps on tfjs-node',
      '',
      "EmbedTune's engine unchanged on `@tensorflow/tfjs-node` 4.22 (TensorFlow's C library, oneDNN; 2 intra-op threads), which `auto` picks first wherever it is installed. It cannot install here (its install downloads libtensorflow), so `bench/tfjs-node/setup` builds its binding against the TensorFlow C API in PyPI's tensorflow-cpu wheel; the benchmark uses that build when present. No 4 GiB limit, so every step is the plain one; activation checkpointing is as `training.gradient_checkpointing: auto` decides from the step's estimated memory and the memory available (the step column says which), and the encoder products are `tensorflowEncoderOps`.",
      '',
      '| Case | mode | step | tfjs-node per s | PyTorch per s | ratio | tfjs-node peak RSS (MiB) | PyTorch peak RSS (MiB) | RSS ratio |',
      '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...onNode.map(
        (r) =>
          `| ${caseLabel(r)} | ${r.mode === 'train' ? 'training (pairs)' : 'encoding (sequences)'} | ${r.nodeStep ?? 'encode'} | ${fmt(r.node!.perSecond)} | ${fmt(r.pytorch.perSecond)} | ${fmt(r.nodeThroughputRatio!)}× | ${fmt(r.node!.peakRssMib, 0)} | ${fmt(r.pytorch.peakRssMib, 0)} | ${fmt(r.nodeMemoryRatio!)}× |`,
      ),
      '',
    );
  }
  const ooms = training.filter((r) => r.outOfMemory.length > 0);
  if (ooms.length > 0) {
    lines.push(
      `‡ EmbedTune could not run the same step: ${ooms
        .map(
          (r) =>
            `${caseLabel(r)}: ${r.outOfMemory.map((o) => `${o.loss} ran out of wasm memory (${o.message}; peak RSS ${fmt(o.peakRssMib, 0)} MiB)`).join('; ')}`,
        )
        .join('. ')}. ` +
        'WebAssembly (wasm32) addresses at most 4 GiB. Its numbers are for the same batch trained with the gradient cache (`loss.type: cached_mnrl`), ' +
        'which gives the same gradients but runs every forward pass twice; PyTorch runs the plain step.',
      '',
    );
  }
  if (encoding.length > 0) {
    lines.push(
      `### Encoding: inference, batch ${BATCH} sequences, mean pooling and normalization`,
      '',
      '| Case | EmbedTune sequences/s | PyTorch sequences/s | ratio | EmbedTune peak RSS (MiB) | PyTorch peak RSS (MiB) | RSS ratio |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...encoding.map(
        (r) =>
          `| ${caseLabel(r)} | ${embedtuneRate(r, 1)} | ${fmt(r.pytorch.perSecond, 1)} | ${fmt(r.throughputRatio)}× | ${fmt(r.embedtune.peakRssMib, 0)} | ${fmt(r.pytorch.peakRssMib, 0)} | ${fmt(r.memoryRatio)}× |`,
      ),
      '',
    );
  }
  if (gemm.length > 0) {
    lines.push(
      '### Matrix products alone: the ceiling',
      '',
      "One encoder layer's six dense products over a training step's tokens (Q, K, V, attention output, FFN in, FFN out), plain float32 `A @ B` and nothing else: tfjs's wasm `matMul` (XNNPACK, WebAssembly SIMD128, 2 threads) against `torch.matmul` (MKL, 2 threads). Most of a training step is these products and their gradients, so this ratio bounds the training ratio from above, whatever the rest of the step does.",
      '',
      '| Case | GFLOP per layer | EmbedTune wasm GFLOP/s | EmbedTune tfjs-node GFLOP/s | PyTorch GFLOP/s | wasm ratio | wasm training ratio, same case | tfjs-node ratio | tfjs-node training ratio, same case | tfjs-node step, share of its ceiling |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...gemm.map((g) => {
        const train = training.find((r) => r.id === g.id);
        const nodeRatio = g.nodeGflops !== undefined ? g.nodeGflops / g.pytorchGflops : undefined;
        const nodeTrain = train?.nodeThroughputRatio;
        return (
          `| ${g.label} | ${fmt(g.gflop, 1)} | ${fmt(g.embedtuneGflops, 1)} | ${g.nodeGflops !== undefined ? fmt(g.nodeGflops, 1) : 'not built'} | ${fmt(g.pytorchGflops, 1)} | ${fmt(g.ratio)}× | ${train ? `${fmt(train.throughputRatio)}×` : 'n/a'} | ` +
          `${nodeRatio !== undefined ? `${fmt(nodeRatio)}×` : 'n/a'} | ${nodeTrain !== undefined ? `${fmt(nodeTrain)}×` : 'n/a'} | ${nodeRatio !== undefined && nodeTrain !== undefined ? `${fmt((100 * nodeTrain) / nodeRatio, 0)}%` : 'n/a'} |`
        );
      }),
      '',
      'The last column is the tfjs-node training ratio over its matrix-product ratio: 100% would mean the step loses nothing to PyTorch beyond the speed of the products themselves.',
      '',
    );
  }
  const profiles = training.flatMap((r) => [
    ...(r.kernels && r.kernels.length > 0
      ? [{ label: `${caseLabel(r)}, wasm (${fmt(r.profiledStepSeconds ?? NaN, 1)} s)`, kernels: r.kernels }]
      : []),
    ...(r.nodeKernels && r.nodeKernels.length > 0
      ? [
          {
            label: `${caseLabel(r)}, tfjs-node, ${r.nodeStep ?? ''} (${fmt(r.nodeProfiledStepSeconds ?? NaN, 1)} s)`,
            kernels: r.nodeKernels,
          },
        ]
      : []),
  ]);
  if (profiles.length > 0) {
    lines.push(
      "### Where EmbedTune's training step spends its time",
      '',
      `One step after ${options.warmup} warm-up step(s), under \`tf.profile\` in its own process, by tfjs kernel (share of the summed kernel time; calls in the step). The tfjs-node step is checkpointed or not as in its throughput row.`,
      '',
      `| Kernel | ${profiles.map((p) => p.label).join(' | ')} |`,
      `| --- | ${profiles.map(() => '---:').join(' | ')} |`,
    );
    const totals = profiles.map((p) => p.kernels.reduce((sum, k) => sum + k.ms, 0));
    const names = [...new Set(profiles.flatMap((p) => p.kernels.slice(0, 10).map((k) => k.kernel)))];
    for (const name of names) {
      const cells = profiles.map((p, i) => {
        const k = p.kernels.find((entry) => entry.kernel === name);
        return k ? `${fmt((100 * k.ms) / totals[i]!, 1)}% (${k.calls})` : '—';
      });
      lines.push(`| ${name} | ${cells.join(' | ')} |`);
    }
    lines.push(
      `| all kernels, calls | ${profiles.map((p) => `${fmt(p.kernels.reduce((sum, k) => sum + k.ms, 0) / 1000, 2)} s, ${p.kernels.reduce((sum, k) => sum + k.calls, 0)}`).join(' | ')} |`,
      '',
    );
  }
  const cpuProfiled = training.filter((r) => r.cpuProfile && r.cpuProfile.length > 0);
  for (const r of cpuProfiled) {
    lines.push(
      `CPU profile of the timed steps, ${caseLabel(r)} (main thread; share of samples with the function on the stack): ` +
        r
          .cpuProfile!.slice(0, 15)
          .map((f) => `${f.name} ${fmt(100 * f.inclusive, 0)}%`)
          .join(' · '),
      '',
    );
  }
  const firstTrain = training[0];
  const minilmParameters = results.find((r) => r.shape === MINILM_L6)?.embedtune.report.parameters;
  lines.push(
    '### Setup',
    '',
    `- Shapes, random weights: MiniLM-L6 (6 layers, hidden 384, 12 heads, intermediate 1536, vocab 30522${minilmParameters ? `; ${minilmParameters.toLocaleString('en-US')} parameters` : ''}) and BERT-mini (4 layers, hidden 256, 4 heads, intermediate 1024, vocab 30522). ` +
      'Token batches are built directly at exactly the sequence length ([CLS], random word pieces, [SEP], no padding), so neither peer tokenizes.',
    "- EmbedTune: the optimizer step of `src/trainer/training/trainingRun.ts` — `microBatchGradients` (anchors and positives as one batch, mean pooling, MNRL with scale 20), `clipByGlobalNorm(1.0)`, `AdamW.apply` (weight decay 0.01) — on the wasm backend (`selectBackend('wasm')`, `encoderOpsFor('wasm')`), dropout 0.1 on hidden states and attention probabilities as in the config, and activation checkpointing as `training.gradient_checkpointing: auto` decides (\"checkpointed\": each layer is recomputed in the backward pass, one more forward pass than PyTorch's step).",
    "- PyTorch: `bench/python/trainStep.py` — transformers `BertModel` (no pooler, which sentence-transformers never uses) in train mode, the same pooling and loss over one batch of anchors and positives, `clip_grad_norm_(1.0)`, `torch.optim.AdamW` with Hugging Face Trainer's weight-decay groups, `torch.set_num_threads(2)`. The Python is `bench/python/setup`'s.",
    `- Each measurement is its own child process, so peak RSS (\`getrusage\` maxrss, the largest of the rounds) is that process's alone. RSS once the runtime and tensor library are loaded, before any model: EmbedTune ${fmt(firstTrain?.embedtune.rssAfterImportMib ?? NaN, 0)} MiB (Node, tsx, the wasm module and its threads), PyTorch ${fmt(firstTrain?.pytorch.rssAfterImportMib ?? NaN, 0)} MiB (Python, torch with its CUDA libraries mapped, transformers).`,
    `- Per child: ${options.warmup} warm-up step(s), then ${options.steps} timed training steps (or ${options.encodeSteps} encode batches). Throughput is the batch size over the median step time of all rounds; the ratio range is over rounds, each peer's median in the same round.`,
    `- First losses (both start near ln 32 ≈ 3.47): ${training.map((r) => `${caseLabel(r)} EmbedTune ${r.embedtune.firstLosses.map((l) => fmt(l, 3)).join(', ')} / PyTorch ${r.pytorch.firstLosses.map((l) => fmt(l, 3)).join(', ')}`).join('; ')}.`,
    '',
    'Raw samples: `bench/results/trainThroughput.json`.',
    '',
  );
  return lines.join('\n');
}

function writeDocs(section: string): void {
  writeDocsSection(SECTION_TITLE, section);
}

/** Replaces the section titled `title` of docs/benchmarks.md (up to the next `## ` heading), creating the file if needed. */
export function writeDocsSection(title: string, section: string): void {
  const current = existsSync(DOCS_PATH) ? readFileSync(DOCS_PATH, 'utf8') : '# Benchmarks\n';
  const start = current.indexOf(`${title}\n`);
  let next: string;
  if (start < 0) {
    next = `${current.trimEnd()}\n\n${section}`;
  } else {
    const after = current.slice(start + title.length);
    const end = after.search(/\n## /);
    next = current.slice(0, start) + section + (end < 0 ? '' : `\n${after.slice(end + 1)}`);
  }
  mkdirSync(dirname(DOCS_PATH), { recursive: true });
  writeFileSync(DOCS_PATH, `${next.trimEnd()}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  });
}
