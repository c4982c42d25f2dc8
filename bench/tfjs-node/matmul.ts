/**
 * How fast one float32 matMul of [4096, 256] @ [256, 1024] (2.1 GFLOP) runs on tfjs-node, built by
 * bench/tfjs-node/setup, against PyTorch on the same shape, and against EmbedTune's wasm backend for scale.
 * Run `bench/tfjs-node/setup` first, then `node --import tsx bench/tfjs-node/matmul.ts`.
 *
 * Each measurement is its own child process, because TensorFlow reads its thread count (TF_NUM_INTRAOP_THREADS) once,
 * when tfjs-node creates its context, and wasm fixes its threads when it starts. tfjs-node is reached the way the
 * trainer reaches it: selectBackend('node') with the cache's node_modules on NODE_PATH, so a pass here also shows that
 * the trainer picks the cached package up. Before timing, each tfjs worker checks its product against a reference
 * computed in float64 on the CPU and a tf.grads gradient against its closed form, so a fast wrong answer fails.
 *
 * Options: --iterations N (timed products per run, default 20) --warmup N (untimed first, default 3)
 *          --rounds N (runs per peer and thread count, taking turns; default 2)
 *          --threads a,b (default "2,default": 2 threads, then each library's own default)
 *          --package PATH (the built tfjs-node; default $EMBEDTUNE_TFJS_NODE_CACHE or ~/.cache/embedtune/tfjs-node-4.22.0)
 *          --python PATH (default $EMBEDTUNE_PY_PEERS/bin/python, or ~/.cache/embedtune/py-peers/bin/python)
 *          --no-wasm (skip the wasm rows) --no-save (do not write bench/tfjs-node/matmul.json)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/trainer/backend/selectBackend';
import { latencyStats, type LatencyStats } from '../stats';

const M = 4096;
const K = 256;
const N = 1024;
const FLOP = 2 * M * K * N;
const RESULTS_PATH = join(__dirname, 'matmul.json');

type Peer = 'tfjs-node' | 'wasm' | 'torch';

interface WorkerReport {
  readonly peer: Peer;
  /** What the library reports it runs on, e.g. selectBackend's reason or torch's thread count. */
  readonly backend: string;
  readonly threads: number | 'default';
  readonly ms: readonly number[];
  /** The same product, timed until its values are back in JavaScript (tfjs only; torch's are in memory already). */
  readonly msWithReadback?: readonly number[];
  /** CPU time over wall time across the timed products: how many cores the product really kept busy. */
  readonly busyCores: number;
  readonly versions: Record<string, string>;
}

interface Row {
  readonly peer: Peer;
  readonly threads: number | 'default';
  readonly backend: string;
  readonly ms: LatencyStats;
  /** From the median product time. */
  readonly gflops: number;
  /** From the fastest product, the least disturbed by other work on a shared machine. */
  readonly bestGflops: number;
  readonly busyCores: number;
  /** GFLOP per second of CPU time the products took: per-core efficiency, which contention for the cores disturbs less. */
  readonly gflopPerCpuSecond: number;
  readonly gflopsWithReadback?: number;
  readonly versions: Record<string, string>;
}

interface Options {
  iterations: number;
  warmup: number;
  rounds: number;
  threads: Array<number | 'default'>;
  packageDir: string;
  python: string;
  wasm: boolean;
  save: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const options: Options = {
    iterations: 20,
    warmup: 3,
    rounds: 2,
    threads: [2, 'default'],
    packageDir: join(
      process.env['EMBEDTUNE_TFJS_NODE_CACHE'] ?? join(homedir(), '.cache', 'embedtune', 'tfjs-node-4.22.0'),
      'node_modules',
      '@tensorflow',
      'tfjs-node',
    ),
    python: join(process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache', 'embedtune', 'py-peers'), 'bin', 'python'),
    wasm: true,
    save: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    const count = (min: number): number => {
      const text = value();
      const parsed = Number(text);
      if (!Number.isInteger(parsed) || parsed < min) throw new Error(`${flag} must be a whole number of at least ${min}, not "${text}"`);
      return parsed;
    };
    if (flag === '--iterations') options.iterations = count(1);
    else if (flag === '--warmup') options.warmup = count(0);
    else if (flag === '--rounds') options.rounds = count(1);
    else if (flag === '--threads') options.threads = value().split(',').map(parseThreads);
    else if (flag === '--package') options.packageDir = resolve(value());
    else if (flag === '--python') options.python = resolve(value());
    else if (flag === '--no-wasm') options.wasm = false;
    else if (flag === '--no-save') options.save = false;
    else
      throw new Error(
        `Unknown option ${flag}. Options: --iterations N --warmup N --rounds N --threads a,b --package PATH --python PATH --no-wasm --no-save`,
      );
  }
  return options;
}

function parseThreads(text: string): number | 'default' {
  if (text === 'default') return 'default';
  const threads = Number(text);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads takes whole numbers of at least 1 or "default", not "${text}"`);
  return threads;
}

// ---------------------------------------------------------------------------------------------------------------- worker

/** Checks values, then times the product; runs inside a child whose thread settings are already fixed. */
async function runTfjsWorker(
  peer: 'tfjs-node' | 'wasm',
  threads: number | 'default',
  iterations: number,
  warmup: number,
): Promise<WorkerReport> {
  const backend =
    peer === 'tfjs-node' ? await selectBackend('node') : await selectBackend('wasm', threads === 'default' ? {} : { threads });
  checkProductAndGradient();
  const a = tf.randomNormal([M, K], 0, 1, 'float32', 1);
  const b = tf.randomNormal([K, N], 0, 1, 'float32', 2);
  const ms: number[] = [];
  const msWithReadback: number[] = [];
  let cpuMicros = 0;
  for (let i = 0; i < warmup + iterations; i++) {
    const cpu0 = process.cpuUsage();
    // TensorFlow's eager runtime executes on the CPU synchronously, so matMul returns with the product computed; the
    // wasm backend also computes in the call.
    const t0 = performance.now();
    const product = tf.matMul(a, b);
    const t1 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    product.dataSync();
    const t2 = performance.now();
    product.dispose();
    if (i >= warmup) {
      cpuMicros += cpu.user + cpu.system;
      ms.push(t1 - t0);
      msWithReadback.push(t2 - t0);
    }
  }
  return {
    peer,
    backend: backend.reason,
    threads,
    ms,
    msWithReadback,
    busyCores: cpuMicros / 1000 / ms.reduce((sum, value) => sum + value, 0),
    versions: { node: process.version, 'tfjs-core': tf.version_core },
  };
}

/** A small product against float64 arithmetic, and d(sum((xW)^2))/dx = 2 (xW) Wᵀ against tf.grads. */
function checkProductAndGradient(): void {
  const rows = 33;
  const inner = 17;
  const cols = 9;
  const xValues = Array.from({ length: rows * inner }, (_, i) => Math.sin(i) * 2);
  const wValues = Array.from({ length: inner * cols }, (_, i) => Math.cos(i * 0.7));
  const x = tf.tensor2d(xValues, [rows, inner]);
  const w = tf.tensor2d(wValues, [inner, cols]);
  const product = tf.matMul(x, w).dataSync();
  const expected = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      let sum = 0;
      for (let k = 0; k < inner; k++) sum += xValues[r * inner + k]! * wValues[k * cols + c]!;
      expected[r * cols + c] = sum;
    }
  }
  assertClose('matMul', product, expected);
  const [gradient] = tf.grads((input: tf.Tensor) => tf.sum(tf.square(tf.matMul(input, w))))([x]);
  const expectedGradient = new Float64Array(rows * inner);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < inner; k++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += 2 * expected[r * cols + c]! * wValues[k * cols + c]!;
      expectedGradient[r * inner + k] = sum;
    }
  }
  assertClose('tf.grads of sum((x W)^2)', gradient!.dataSync(), expectedGradient);
  tf.dispose([x, w, gradient!]);
}

function assertClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  for (let i = 0; i < expected.length; i++) {
    const tolerance = 1e-4 * Math.max(1, Math.abs(expected[i]!));
    if (!(Math.abs(actual[i]! - expected[i]!) <= tolerance)) {
      throw new Error(`${what} is wrong at element ${i}: ${actual[i]} instead of ${expected[i]}`);
    }
  }
}

const TORCH_WORKER = `
import json, sys, time, torch
threads, iterations, warmup, m, k, n = sys.argv[1], *map(int, sys.argv[2:])
if threads != "default":
    torch.set_num_threads(int(threads))
generator = torch.Generator().manual_seed(0)
a = torch.randn(m, k, generator=generator)
b = torch.randn(k, n, generator=generator)
ms = []
cpu_seconds = 0.0
with torch.inference_mode():
    for i in range(warmup + iterations):
        cpu0, t0 = time.process_time(), time.perf_counter()
        torch.matmul(a, b)
        t1, cpu1 = time.perf_counter(), time.process_time()
        if i >= warmup:
            ms.append((t1 - t0) * 1000)
            cpu_seconds += cpu1 - cpu0
blas = "MKL" if "Math Kernel Library" in torch.__config__.show() else "other BLAS"
print(json.dumps({"peer": "torch", "backend": f"torch on the CPU ({blas}), {torch.get_num_threads()} threads",
                  "threads": threads if threads == "default" else int(threads), "ms": ms,
                  "busyCores": cpu_seconds * 1000 / sum(ms),
                  "versions": {"torch": torch.__version__}}))
`;

// ---------------------------------------------------------------------------------------------------------------- parent

function runChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv, label: string): WorkerReport {
  const child = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  const lastLine = child.stdout?.trim().split('\n').pop() ?? '';
  if (child.status !== 0 || !lastLine.startsWith('{')) {
    const why = child.error ? child.error.message : (child.stderr ?? '').trim().split('\n').slice(-5).join('\n');
    throw new Error(`The ${label} run failed (exit ${child.status}):\n${why}`);
  }
  return JSON.parse(lastLine) as WorkerReport;
}

/** One report holding every round's samples; busy cores weighted by each round's time. */
function poolReports(reports: readonly WorkerReport[]): WorkerReport {
  const total = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0);
  const first = reports[0]!;
  const readback = reports.every((report) => report.msWithReadback) ? reports.flatMap((report) => report.msWithReadback!) : undefined;
  return {
    ...first,
    ms: reports.flatMap((report) => report.ms),
    ...(readback ? { msWithReadback: readback } : {}),
    busyCores: total(reports.map((report) => report.busyCores * total(report.ms))) / total(reports.map((report) => total(report.ms))),
  };
}

function toRow(report: WorkerReport): Row {
  const ms = latencyStats(report.ms);
  const withReadback = report.msWithReadback ? latencyStats(report.msWithReadback) : undefined;
  return {
    peer: report.peer,
    threads: report.threads,
    backend: report.backend,
    ms,
    gflops: FLOP / (ms.median / 1000) / 1e9,
    bestGflops: FLOP / (ms.min / 1000) / 1e9,
    busyCores: report.busyCores,
    gflopPerCpuSecond: (FLOP * report.ms.length) / ((report.busyCores * report.ms.reduce((sum, value) => sum + value, 0)) / 1000) / 1e9,
    ...(withReadback ? { gflopsWithReadback: FLOP / (withReadback.median / 1000) / 1e9 } : {}),
    versions: report.versions,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--worker') {
    const [peer, threads, iterations, warmup] = argv.slice(1);
    const report = await runTfjsWorker(peer as 'tfjs-node' | 'wasm', parseThreads(threads!), Number(iterations), Number(warmup));
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const options = parseOptions(argv);
  if (!existsSync(join(options.packageDir, 'lib', 'napi-v8', 'tfjs_binding.node'))) {
    throw new Error(
      `No built tfjs-node at ${options.packageDir} (lib/napi-v8/tfjs_binding.node is missing). Run bench/tfjs-node/setup first, or pass --package.`,
    );
  }
  if (!existsSync(options.python)) throw new Error(`No Python at ${options.python}. Run bench/python/setup first, or pass --python.`);
  // node_modules above the package, so that createRequire(...)('@tensorflow/tfjs-node') in selectBackend resolves it.
  const nodePath = dirname(dirname(options.packageDir));
  const runOne = (peer: Peer, threads: number | 'default'): WorkerReport => {
    const label = `${peer} (${threads} threads)`;
    if (peer === 'torch') {
      const args = ['-c', TORCH_WORKER, String(threads), ...[options.iterations, options.warmup, M, K, N].map(String)];
      return runChild(options.python, args, process.env, label);
    }
    const args = ['--import', 'tsx', __filename, '--worker', peer, String(threads), String(options.iterations), String(options.warmup)];
    if (peer === 'wasm') return runChild(process.execPath, args, process.env, label);
    const tfThreads = threads === 'default' ? {} : { TF_NUM_INTRAOP_THREADS: String(threads), TF_NUM_INTEROP_THREADS: '1' };
    return runChild(process.execPath, args, { ...process.env, NODE_PATH: nodePath, TF_CPP_MIN_LOG_LEVEL: '2', ...tfThreads }, label);
  };
  const peers: Peer[] = options.wasm ? ['tfjs-node', 'torch', 'wasm'] : ['tfjs-node', 'torch'];
  // Peers take turns, the first one rotating from round to round, so that bursts of other work on a shared machine
  // land on all of them; each (peer, threads) row pools its rounds' samples.
  const pooled = new Map<string, WorkerReport[]>();
  for (let round = 0; round < options.rounds; round++) {
    for (const threads of options.threads) {
      for (let turn = 0; turn < peers.length; turn++) {
        const peer = peers[(round + turn) % peers.length]!;
        const key = `${peer}|${threads}`;
        pooled.set(key, [...(pooled.get(key) ?? []), runOne(peer, threads)]);
      }
    }
  }
  const rows = options.threads.flatMap((threads) => peers.map((peer) => toRow(poolReports(pooled.get(`${peer}|${threads}`)!))));
  console.log(
    `matMul [${M}, ${K}] @ [${K}, ${N}], float32, ${(FLOP / 1e9).toFixed(2)} GFLOP; median of ${options.rounds} × ${options.iterations} after ${options.warmup} warm-up each`,
  );
  console.log(`${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg()[0]!.toFixed(1)} at the end\n`);
  console.log(
    '| peer | threads | median ms | GFLOP/s (median) | GFLOP/s (best) | GFLOP/s with readback | busy cores | GFLOP per CPU-second | runs on |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) {
    const readback = row.gflopsWithReadback === undefined ? '–' : row.gflopsWithReadback.toFixed(0);
    const cells = [
      row.peer,
      row.threads,
      row.ms.median.toFixed(2),
      row.gflops.toFixed(0),
      row.bestGflops.toFixed(0),
      readback,
      row.busyCores.toFixed(2),
      row.gflopPerCpuSecond.toFixed(0),
      row.backend,
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
  if (options.save) {
    const results = {
      shape: [M, K, N],
      rounds: options.rounds,
      iterations: options.iterations,
      warmup: options.warmup,
      cpus: cpus().length,
      measuredAt: new Date().toISOString(),
      rows,
    };
    writeFileSync(RESULTS_PATH, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nwrote ${RESULTS_PATH}`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
