/**
 * Encoder-ops throughput on the wasm backend: one MiniLM-L6-shaped encoder layer (hidden 384, 12 heads, FFN 1536,
 * batch 32 × seq 64 = 2048 tokens), forward and backward, with referenceEncoderOps (stock tfjs ops) against
 * fastEncoderOps, single-threaded and threaded. Also the word-embedding gradient (30522 × 384 table) and, for scale,
 * one AdamW update of that table. Run with `node --import tsx bench/encoderOps.ts`.
 *
 * Options: --threads 1,2 (wasm thread counts; each runs in its own process, since the backend starts once)
 *          --rounds N (times the thread counts alternate, default 2) --reps N (timed runs, default 5) --warmup N (default 1)
 *          --reference-reps N (timed runs of the ~10× slower stock ops, default 2; 0 skips them)
 *          --no-save (do not write bench/results/encoderOps.json)
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { referenceEncoderOps, type EncoderOps } from '../src/trainer/backend/encoderOps';
import { fastEncoderOps } from '../src/trainer/backend/fastEncoderOps';
import { selectBackend } from '../src/trainer/backend/selectBackend';
import { AdamW, DEFAULT_ADAMW } from '../src/trainer/training/adamW';
import { latencyStats, round2, type LatencyStats } from './stats';

const RESULTS_PATH = join(resolve(__dirname, '..'), 'bench', 'results', 'encoderOps.json');

const SHAPE = { batch: 32, seq: 64, hidden: 384, heads: 12, intermediate: 1536, vocab: 30522 } as const;
const TOKENS = SHAPE.batch * SHAPE.seq;
const HEAD_DIM = SHAPE.hidden / SHAPE.heads;
const LAYER_NORM_EPS = 1e-12;

/** Matmul FLOPs of one layer: forward products, and twice as many for their gradients. */
const DENSE_SHAPES: ReadonlyArray<readonly [number, number]> = [
  [SHAPE.hidden, SHAPE.hidden], // query
  [SHAPE.hidden, SHAPE.hidden], // key
  [SHAPE.hidden, SHAPE.hidden], // value
  [SHAPE.hidden, SHAPE.hidden], // attention output
  [SHAPE.hidden, SHAPE.intermediate],
  [SHAPE.intermediate, SHAPE.hidden],
];
const FORWARD_FLOPS =
  DENSE_SHAPES.reduce((sum, [inputs, outputs]) => sum + 2 * TOKENS * inputs * outputs, 0) +
  2 * (2 * SHAPE.batch * SHAPE.heads * SHAPE.seq * SHAPE.seq * HEAD_DIM);
const STEP_FLOPS = 3 * FORWARD_FLOPS;

interface Options extends Repetitions {
  threads: number[];
  /** Times the whole set of thread counts runs. */
  rounds: number;
  /** Timed runs of the stock ops, which take ten times as long; 0 skips them. */
  referenceReps: number;
  save: boolean;
  child: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = { threads: [1, 2], rounds: 2, reps: 5, warmup: 1, referenceReps: 2, save: true, child: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const count = () => {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 0) throw new Error(`${arg} needs a whole number`);
      return value;
    };
    if (arg === '--threads') options.threads = String(argv[++i]).split(',').map(Number);
    else if (arg === '--reps') options.reps = count();
    else if (arg === '--rounds') options.rounds = Math.max(1, count());
    else if (arg === '--warmup') options.warmup = count();
    else if (arg === '--reference-reps') options.referenceReps = count();
    else if (arg === '--no-save') options.save = false;
    else if (arg === '--child') options.child = true;
    else throw new Error(`unknown option ${arg}`);
  }
  if (options.threads.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--threads needs whole numbers of at least 1, e.g. 1,2');
  return options;
}

interface Repetitions {
  reps: number;
  warmup: number;
}

/** Milliseconds of each timed run of `step`, after `warmup` untimed ones (the first builds XNNPACK operators). */
function timeRuns(step: () => void, { reps, warmup }: Repetitions): LatencyStats {
  for (let i = 0; i < warmup; i++) step();
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    step();
    samples.push(performance.now() - start);
  }
  return latencyStats(samples);
}

const random = (shape: number[], scale = 1) => tf.tidy(() => tf.mul(tf.randomNormal(shape, 0, 1, 'float32', 7), scale));

interface LayerWeights {
  readonly dense: Array<{ kernel: tf.Tensor2D; bias: tf.Tensor1D }>;
  readonly norms: Array<{ gamma: tf.Tensor1D; beta: tf.Tensor1D }>;
}

function makeWeights(): LayerWeights {
  return {
    dense: DENSE_SHAPES.map(([inputs, outputs]) => ({
      kernel: random([inputs, outputs], 0.02) as tf.Tensor2D,
      bias: random([outputs], 0.02) as tf.Tensor1D,
    })),
    norms: [0, 1].map(() => ({ gamma: tf.ones([SHAPE.hidden]) as tf.Tensor1D, beta: tf.zeros([SHAPE.hidden]) as tf.Tensor1D })),
  };
}

function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, LAYER_NORM_EPS))), gamma), beta);
}

function gelu(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
}

/** One BERT encoder layer, as src/trainer/model/bert/bertEncoder.ts runs it (without dropout). */
function encoderLayer(ops: EncoderOps, x: tf.Tensor2D, weights: LayerWeights, maskBias: tf.Tensor): tf.Tensor2D {
  const [query, key, value, attentionOut, up, down] = weights.dense.map(
    ({ kernel, bias }) =>
      (input: tf.Tensor2D) =>
        ops.dense(input, kernel, bias),
  );
  const splitHeads = (t: tf.Tensor2D) =>
    tf.transpose(tf.reshape(t, [SHAPE.batch, SHAPE.seq, SHAPE.heads, HEAD_DIM]), [0, 2, 1, 3]) as tf.Tensor4D;
  const logits = tf.add(tf.mul(ops.attentionScores(splitHeads(query!(x)), splitHeads(key!(x))), 1 / Math.sqrt(HEAD_DIM)), maskBias);
  const context = ops.attentionContext(tf.softmax(logits) as tf.Tensor4D, splitHeads(value!(x)));
  const merged = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [TOKENS, SHAPE.hidden]) as tf.Tensor2D;
  const attended = layerNorm(tf.add(attentionOut!(merged), x), weights.norms[0]!.gamma, weights.norms[0]!.beta);
  return layerNorm(tf.add(down!(gelu(up!(attended)) as tf.Tensor2D), attended), weights.norms[1]!.gamma, weights.norms[1]!.beta);
}

/** Gradients of a weighted sum of `f`'s output with respect to every input, then disposed: one training-step's work. */
function backwardStep(f: (...inputs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], probe: tf.Tensor): void {
  // wasm runs every kernel synchronously, so the gradients exist when this returns; reading them back would add a
  // copy out of the heap (30 ms for the embedding table's) that training never makes.
  tf.tidy(() => {
    tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), probe)))(inputs);
  });
}

function flatten(weights: LayerWeights): tf.Tensor[] {
  return [...weights.dense.flatMap(({ kernel, bias }) => [kernel, bias]), ...weights.norms.flatMap(({ gamma, beta }) => [gamma, beta])];
}

function unflatten(tensors: tf.Tensor[]): LayerWeights {
  const dense = DENSE_SHAPES.map((_, i) => ({ kernel: tensors[2 * i] as tf.Tensor2D, bias: tensors[2 * i + 1] as tf.Tensor1D }));
  const offset = 2 * DENSE_SHAPES.length;
  const norms = [0, 1].map((i) => ({ gamma: tensors[offset + 2 * i] as tf.Tensor1D, beta: tensors[offset + 2 * i + 1] as tf.Tensor1D }));
  return { dense, norms };
}

interface OpsResult {
  layerStepMs: LatencyStats;
  /** The same products alone (six dense layers and two attention products, forward and backward). */
  matmulOnlyMs: LatencyStats;
  matmulGflops: number;
  /** Share of the layer step outside the products: layernorm, GELU, softmax, transposes, bias gradients. */
  otherOpsMs: number;
}

function measureOps(ops: EncoderOps, reps: Repetitions): OpsResult {
  const x = random([TOKENS, SHAPE.hidden]) as tf.Tensor2D;
  const weights = makeWeights();
  const maskBias = tf.zeros([SHAPE.batch, 1, 1, SHAPE.seq]);
  const probe = random([TOKENS, SHAPE.hidden]);
  const layerStepMs = timeRuns(
    () =>
      backwardStep((input, ...rest) => encoderLayer(ops, input as tf.Tensor2D, unflatten(rest), maskBias), [x, ...flatten(weights)], probe),
    reps,
  );

  const q = random([SHAPE.batch, SHAPE.heads, SHAPE.seq, HEAD_DIM]) as tf.Tensor4D;
  const k = random([SHAPE.batch, SHAPE.heads, SHAPE.seq, HEAD_DIM]) as tf.Tensor4D;
  const probs = tf.tidy(() => tf.softmax(random([SHAPE.batch, SHAPE.heads, SHAPE.seq, SHAPE.seq]))) as tf.Tensor4D;
  const wide = random([TOKENS, SHAPE.intermediate]) as tf.Tensor2D;
  const productInputs = [x, wide, q, k, probs, ...flatten(weights).slice(0, 2 * DENSE_SHAPES.length)];
  const products = (...inputs: tf.Tensor[]) => {
    const [input, wideInput, qs, ks, ps, ...dense] = inputs as [
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor4D,
      tf.Tensor4D,
      tf.Tensor4D,
      ...tf.Tensor[],
    ];
    const terms = DENSE_SHAPES.map(([inputs], i) =>
      tf.sum(ops.dense(inputs === SHAPE.hidden ? input : wideInput, dense[2 * i] as tf.Tensor2D, dense[2 * i + 1] as tf.Tensor1D)),
    );
    terms.push(tf.sum(ops.attentionScores(qs, ks)), tf.sum(ops.attentionContext(ps, ks)));
    return tf.addN(terms);
  };
  const one = tf.scalar(1);
  const matmulOnlyMs = timeRuns(() => backwardStep(products, productInputs, one), reps);
  tf.dispose([x, maskBias, probe, q, k, probs, wide, one, ...flatten(weights)]);
  // From the fastest runs: other processes on the machine can only add time, never take it away.
  return {
    layerStepMs,
    matmulOnlyMs,
    matmulGflops: round2(STEP_FLOPS / matmulOnlyMs.min / 1e6),
    otherOpsMs: round2(layerStepMs.min - matmulOnlyMs.min),
  };
}

interface EmbeddingResult {
  /** Lookup of 2048 ids and its dense [vocab, dim] gradient, through fastEncoderOps (scatter-add). */
  scatterGradientMs: LatencyStats;
  /** The same through tf.gather's own gradient (UnsortedSegmentSum; ours on wasm). */
  gatherGradientMs: LatencyStats;
  /** One AdamW step (src/trainer/training/adamW.ts) on the 30522 × 384 table with that dense gradient. */
  adamWTableUpdateMs: LatencyStats;
  uniqueIds: number;
}

function measureEmbedding(reps: Repetitions): EmbeddingResult {
  const initial = random([SHAPE.vocab, SHAPE.hidden], 0.02);
  const table = tf.variable(initial as tf.Tensor2D, true, 'word_embeddings');
  initial.dispose();
  // Zipf-like ids, as real text repeats frequent tokens: most of a batch falls in the first few thousand rows.
  const idValues = Int32Array.from({ length: TOKENS }, (_, i) => Math.floor(SHAPE.vocab * Math.pow(((i * 7919) % TOKENS) / TOKENS, 3)));
  const ids = tf.tensor1d(idValues, 'int32');
  const probe = random([TOKENS, SHAPE.hidden]);
  const lookupGradient = (lookup: EncoderOps['embeddingLookup']) => () =>
    backwardStep((t) => lookup(t as tf.Tensor2D, ids), [table], probe);
  const scatterGradientMs = timeRuns(lookupGradient(fastEncoderOps.embeddingLookup), reps);
  const gatherGradientMs = timeRuns(lookupGradient(referenceEncoderOps.embeddingLookup), reps);

  const optimizer = new AdamW(new Map([['embeddings.word_embeddings.weight', table]]), { ...DEFAULT_ADAMW, weightDecay: 0.01 });
  const gradient = tf.tidy(
    () => tf.grads((t: tf.Tensor) => tf.sum(tf.mul(fastEncoderOps.embeddingLookup(t as tf.Tensor2D, ids), probe)))([table])[0]!,
  );
  const adamWTableUpdateMs = timeRuns(() => {
    optimizer.apply(new Map([['embeddings.word_embeddings.weight', gradient]]), 1e-5);
  }, reps);
  optimizer.dispose();
  tf.dispose([table, ids, probe, gradient]);
  return { scatterGradientMs, gatherGradientMs, adamWTableUpdateMs, uniqueIds: new Set(idValues).size };
}

interface ChildResult {
  threads: number;
  backend: string;
  reference?: OpsResult;
  fast: OpsResult;
  speedup?: number;
  embedding: EmbeddingResult;
  /** Tensors left after the encoder-op measurements (the AdamW timing is excluded: its constructor leaks its zeros). */
  leakedTensors: number;
}

async function runChild(options: Options): Promise<void> {
  const selected = await selectBackend('wasm', { threads: options.threads[0]! });
  const before = tf.memory().numTensors;
  const fast = measureOps(fastEncoderOps, options);
  const reference =
    options.referenceReps > 0 ? measureOps(referenceEncoderOps, { reps: options.referenceReps, warmup: options.warmup }) : undefined;
  const leakedTensors = tf.memory().numTensors - before;
  const embedding = measureEmbedding(options);
  const result: ChildResult = {
    threads: selected.threads ?? 1,
    backend: selected.reason,
    ...(reference ? { reference, speedup: round2(reference.layerStepMs.min / fast.layerStepMs.min) } : {}),
    fast,
    embedding,
    leakedTensors,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function runChildProcess(threads: number, referenceReps: number, options: Options): ChildResult {
  const args = [...process.execArgv, __filename, '--child', '--threads', String(threads), '--reps', String(options.reps)];
  args.push('--warmup', String(options.warmup), '--reference-reps', String(referenceReps));
  console.error(`wasm, ${threads} thread(s)${referenceReps > 0 ? ', with the stock ops' : ''}…`);
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (child.status !== 0) throw new Error(`the ${threads}-thread run failed (exit ${child.status}):\n${child.stderr}`);
  return JSON.parse(child.stdout.trim().split('\n').pop()!) as ChildResult;
}

function runParent(options: Options): void {
  // Thread counts alternate, round after round, so that a burst of load from other processes hits one round of each
  // rather than every run of one; the summary keeps each count's fastest round. Stock ops run in the first round only.
  const rounds: ChildResult[][] = [];
  for (let round = 0; round < options.rounds; round++) {
    rounds.push(options.threads.map((threads) => runChildProcess(threads, round === 0 ? options.referenceReps : 0, options)));
  }
  const best = options.threads.map((threads) => {
    const runs = rounds.map((results) => results.find((r) => r.threads === threads)!);
    const fastest = runs.reduce((a, b) => (b.fast.layerStepMs.min < a.fast.layerStepMs.min ? b : a));
    const reference = runs[0]!.reference;
    return { ...fastest, ...(reference ? { reference, speedup: round2(reference.layerStepMs.min / fastest.fast.layerStepMs.min) } : {}) };
  });
  const single = best.find((r) => r.threads === 1);
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverageAtEnd: loadavg().map(round2),
    options: {
      threads: options.threads,
      reps: options.reps,
      warmup: options.warmup,
      referenceReps: options.referenceReps,
      rounds: options.rounds,
    },
    note:
      'Derived figures (GFLOP/s, other-ops time, speedups) use the fastest run of each kind, and "best" the fastest round per thread count: ' +
      'other processes on a shared machine only ever add time.',
    workload: { ...SHAPE, headDim: HEAD_DIM, tokens: TOKENS, matmulGflopPerLayerStep: round2(STEP_FLOPS / 1e9) },
    best,
    threadSpeedup: single
      ? Object.fromEntries(
          best
            .filter((r) => r !== single)
            .map((r) => [`${r.threads} threads vs 1`, round2(single.fast.layerStepMs.min / r.fast.layerStepMs.min)]),
        )
      : {},
    rounds,
  };
  for (const r of best) {
    const ref = r.reference ? `reference ${Math.round(r.reference.layerStepMs.min)} ms (${r.reference.matmulGflops} GFLOP/s), ` : '';
    console.log(
      `wasm ${r.threads} thread(s): ${ref}fast ${Math.round(r.fast.layerStepMs.min)} ms per layer step (${r.fast.matmulGflops} GFLOP/s in products)` +
        (r.speedup ? `, ${r.speedup}× faster` : '') +
        `; embedding grad ${Math.round(r.embedding.scatterGradientMs.min)} ms (gather's own: ${Math.round(r.embedding.gatherGradientMs.min)} ms),` +
        ` AdamW on the table ${Math.round(r.embedding.adamWTableUpdateMs.min)} ms`,
    );
  }
  console.log(
    Object.entries(report.threadSpeedup)
      .map(([k, v]) => `${k}: ${v}×`)
      .join(', '),
  );
  if (options.save) writeFileSync(RESULTS_PATH, `${JSON.stringify(report, null, 2)}\n`);
}

const options = parseOptions(process.argv.slice(2));
if (options.child) {
  runChild(options).catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
} else {
  runParent(options);
}
