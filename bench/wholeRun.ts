/**
 * A whole fine-tuning run, engine against engine: one config on a real task, run once by the tfjs engine (on
 * tfjs-node where bench/tfjs-node/setup has built it) and once by `engine: accelerate` (sentence-transformers on
 * PyTorch, from bench/python/setup), each as its own `embedtune train` process, 2 threads each. It reports each run's
 * wall time, peak resident memory and where the time went (from the run's events.jsonl), and writes the
 * "Whole run" section of docs/benchmarks.md and bench/results/wholeRun.json.
 *
 * The task: held-out retrieval on WordNet glosses (bench/realData/buildWordNetGlossRetrieval.ts) with the real
 * all-MiniLM-L6-v2: 600 training pairs, batch 32, max_seq_length 64, one epoch, an evaluation of 1,000 queries at
 * step 0 and one at the end.
 *
 * Run `npm run build` first (the engines run dist/cli.js), then `node --import tsx bench/wholeRun.ts`.
 * Options: --rounds N (runs per engine, taking turns, default 1) --engines tfjs,accelerate --no-docs
 *          --append (add this invocation's runs to those already in bench/results/wholeRun.json)
 *          --docs-only (write the docs section from bench/results/wholeRun.json, running nothing)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { seededPermutation } from '../src/trainer/data/seededRandom';
import { writeDocsSection } from './trainThroughput';

const ROOT = resolve(__dirname, '..');
const CACHE = join(ROOT, 'bench/.cache/whole-run');
const GLOSS = join(ROOT, 'bench/.cache/real-data/wordnet-gloss');
const PEERS = process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache/embedtune/py-peers');
const PYTHON = join(PEERS, 'bin/python');
const MINILM = join(PEERS, 'models/all-MiniLM-L6-v2');
const TFJS_NODE = join(homedir(), '.cache/embedtune/tfjs-node-4.22.0');
const RESULTS_PATH = join(ROOT, 'bench/results/wholeRun.json');
const SECTION_TITLE = '## Whole run: tfjs engine against engine: accelerate';
const TRAIN_ROWS = 600;
const VALIDATION_ROWS = 1000;
const THREADS = 2;

type Engine = 'tfjs' | 'accelerate';

interface RunEvent {
  readonly type: string;
  readonly time: string;
  readonly step?: number;
  readonly backend_reason?: string;
  readonly message?: string;
  readonly reason?: string;
}

interface Phases {
  /** Process start to run_started: loading the data, the model and the backend. */
  readonly setupSeconds: number;
  /** Each evaluation: from the progress event (or run_started) before it to the eval event. */
  readonly evaluationSeconds: number[];
  /** From the first evaluation to the last step's progress event, per optimizer step. */
  readonly secondsPerStep: number;
  readonly steps: number;
}

interface RunResult {
  readonly engine: Engine;
  readonly wallSeconds: number;
  readonly peakRssMib: number;
  readonly phases: Phases;
  readonly backend: string;
  readonly finalMetrics: Record<string, number | null>;
  readonly checkpointingLog?: string;
}

/** 600 training pairs and 1,000 held-out queries, seeded subsets of the WordNet-gloss data. */
function prepareData(): { train: string; validation: string } {
  if (!existsSync(join(GLOSS, 'train.jsonl'))) {
    const built = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/realData/buildWordNetGlossRetrieval.ts')], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    if (built.status !== 0) throw new Error(`buildWordNetGlossRetrieval.ts failed (exit ${built.status}).`);
  }
  mkdirSync(CACHE, { recursive: true });
  const subset = (file: string, rows: number, seed: number) => {
    const lines = readFileSync(join(GLOSS, file), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '');
    if (rows > lines.length) throw new Error(`${file} has ${lines.length} rows; the run needs ${rows}.`);
    const path = join(CACHE, file.replace('.jsonl', `-${rows}.jsonl`));
    writeFileSync(
      path,
      `${seededPermutation(lines.length, seed)
        .slice(0, rows)
        .map((i) => lines[i]!)
        .join('\n')}\n`,
    );
    return path;
  };
  return { train: subset('train.jsonl', TRAIN_ROWS, 7), validation: subset('validation.jsonl', VALIDATION_ROWS, 11) };
}

/** The one config both engines run; only `engine` differs. */
function writeConfig(engine: Engine, data: { train: string; validation: string }): { config: string; outputDir: string } {
  const outputDir = join(CACHE, 'runs', engine);
  rmSync(outputDir, { recursive: true, force: true });
  const config = {
    name: `whole-run-${engine}`,
    task: 'embedding',
    model: { base: MINILM, max_seq_length: 64 },
    data: { train: data.train, validation: data.validation, columns: { anchor: 'query', positive: 'passage' } },
    strategy: { type: 'full' },
    loss: { type: 'mnrl' },
    training: { epochs: 1, batch_size: 32, learning_rate: 5e-5, warmup: 0.1, seed: 42 },
    evaluation: { every: 'epoch', metrics: ['recall@10', 'mrr@10', 'ndcg@10'], primary: 'recall@10' },
    checkpoints: { every: 'epoch', keep: 1 },
    engine:
      engine === 'tfjs'
        ? { type: 'tfjs', backend: existsSync(TFJS_NODE) ? 'node' : 'auto' }
        : { type: 'accelerate', cpu: true, num_processes: 1, python: PYTHON },
    output_dir: outputDir,
  };
  const path = join(CACHE, `whole-run-${engine}.embedtune.yaml`);
  writeFileSync(path, stringify(config));
  return { config: path, outputDir };
}

/**
 * Runs `embedtune train` under a small Python parent that reports getrusage(RUSAGE_CHILDREN).ru_maxrss: the peak
 * resident memory of the largest process in the tree (the accelerate engine trains in a grandchild), measured the
 * same way for both engines.
 */
function runEngine(engine: Engine, data: { train: string; validation: string }): RunResult {
  const { config, outputDir } = writeConfig(engine, data);
  const env = {
    ...process.env,
    EMBEDTUNE_NATIVE_BACKEND: TFJS_NODE,
    TF_NUM_INTRAOP_THREADS: String(THREADS),
    TF_NUM_INTEROP_THREADS: '1',
    TF_CPP_MIN_LOG_LEVEL: '2',
    OMP_NUM_THREADS: String(THREADS),
    MKL_NUM_THREADS: String(THREADS),
    TOKENIZERS_PARALLELISM: 'false',
  };
  const wrapper =
    'import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); print("PEAK_RSS_KIB", resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)';
  const started = performance.now();
  const child = spawnSync(PYTHON, ['-c', wrapper, process.execPath, join(ROOT, 'dist/cli.js'), 'train', config], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 2 ** 20,
  });
  const wallSeconds = (performance.now() - started) / 1000;
  if (child.status !== 0)
    throw new Error(`The ${engine} run failed (exit ${child.status}):\n${child.stdout.slice(-3000)}\n${child.stderr.slice(-3000)}`);
  const peak = /PEAK_RSS_KIB (\d+)/.exec(child.stdout);
  const events = readEvents(outputDir);
  const startedAt = Date.now() - wallSeconds * 1000;
  return {
    engine,
    wallSeconds,
    peakRssMib: peak ? Number(peak[1]) / 1024 : Number.NaN,
    phases: phasesOf(events, startedAt),
    backend: events.find((e) => e.type === 'run_started')?.backend_reason ?? '',
    finalMetrics:
      (events.filter((e) => e.type === 'eval').at(-1) as unknown as { metrics: Record<string, number | null> } | undefined)?.metrics ?? {},
    ...(engine === 'tfjs'
      ? { checkpointingLog: /gradient checkpointing: [^\n]*/.exec(`${child.stdout}\n${child.stderr}`)?.[0] ?? '' }
      : {}),
  };
}

function readEvents(outputDir: string): RunEvent[] {
  const runs = spawnSync('find', [outputDir, '-name', 'events.jsonl'], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  if (runs.length !== 1) throw new Error(`Expected one events.jsonl under ${outputDir}, found ${runs.length}.`);
  return readFileSync(runs[0]!, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RunEvent);
}

function phasesOf(events: readonly RunEvent[], startedAt: number): Phases {
  const at = (e: RunEvent) => Date.parse(e.time);
  const runStarted = events.find((e) => e.type === 'run_started');
  const evaluations = events.filter((e) => e.type === 'eval');
  const evaluationSeconds = evaluations.map((evaluation) => {
    const index = events.indexOf(evaluation);
    const before = events
      .slice(0, index)
      .reverse()
      .find((e) => e.type === 'progress' || e.type === 'run_started' || e.type === 'checkpoint');
    return before ? (at(evaluation) - at(before)) / 1000 : Number.NaN;
  });
  const progress = events.filter((e) => e.type === 'progress' && (e.step ?? 0) > 0);
  const last = progress.at(-1);
  const first = evaluations[0];
  const steps = last?.step ?? 0;
  return {
    setupSeconds: runStarted ? (at(runStarted) - startedAt) / 1000 : Number.NaN,
    evaluationSeconds,
    secondsPerStep: last && first && steps > 0 ? (at(last) - at(first)) / 1000 / steps : Number.NaN,
    steps,
  };
}

function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? Number.NaN : sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function render(results: readonly RunResult[], measuredAt: string, load: readonly number[]): string {
  const walls = (engine: Engine) => results.filter((r) => r.engine === engine).map((r) => r.wallSeconds);
  const lines = [
    SECTION_TITLE,
    '',
    `Measured ${measuredAt.slice(0, 16).replace('T', ' ')} UTC · ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores) · engines taking turns · load average at the end ${load.map((l) => l.toFixed(2)).join(', ')}. Raw numbers: \`bench/results/wholeRun.json\`.`,
    '',
    `One config (\`bench/wholeRun.ts\`): all-MiniLM-L6-v2, full fine-tuning with MNRL on ${TRAIN_ROWS} WordNet-gloss pairs, batch 32, max_seq_length 64, one epoch, Recall/MRR/NDCG@10 on ${VALIDATION_ROWS.toLocaleString('en-US')} held-out queries at step 0 and at the end, a checkpoint and the exported model; run by \`embedtune train\` once with \`engine: tfjs\` and once with \`engine: accelerate\` (one CPU process, sentence-transformers on PyTorch), 2 threads each. One row per run, in the order they ran.`,
    '',
    '| Engine | wall (s) | setup (s) | evaluations (s) | s per step | peak RSS (MiB) | Recall@10 at the end |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...results.map(
      (r) =>
        `| ${r.engine} | ${fmt(r.wallSeconds)} | ${fmt(r.phases.setupSeconds)} | ${r.phases.evaluationSeconds.map((s) => fmt(s)).join(', ')} | ${fmt(r.phases.secondsPerStep, 2)} | ${fmt(r.peakRssMib, 0)} | ${fmt(100 * (r.finalMetrics['recall@10'] ?? Number.NaN), 1)}% |`,
    ),
    '',
  ];
  const tfjs = median(walls('tfjs'));
  const accelerate = median(walls('accelerate'));
  const first = (engine: Engine) => results.find((r) => r.engine === engine);
  if (Number.isFinite(tfjs) && Number.isFinite(accelerate)) {
    const log = first('tfjs')?.checkpointingLog;
    lines.push(
      `Median wall time: tfjs ${fmt(tfjs)} s, accelerate ${fmt(accelerate)} s, so the tfjs engine ran the whole job at ${fmt(accelerate / tfjs, 2)}× sentence-transformers' speed (the goal is ≥ 0.8×). Backends: ${first('tfjs')?.backend}; ${first('accelerate')?.backend}.${log ? ` The tfjs run's log: "${log}".` : ''} The phases come from each run's events.jsonl: setup is process start to \`run_started\`, an evaluation is the time from the event before it to its \`eval\` event, and s per step spans the first evaluation to the last step's progress event; the accelerate engine writes \`run_started\` before Python starts, so its first evaluation also holds loading torch, transformers and the model. Peak RSS is the largest process of each run's tree (getrusage of the children), the same measure for both.`,
      '',
    );
  }
  return lines.join('\n');
}

interface SavedResults {
  readonly measuredAt: string;
  readonly loadAverageAtEnd: number[];
  readonly results: RunResult[];
}

function main(): void {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '1' },
      engines: { type: 'string', default: 'tfjs,accelerate' },
      'no-docs': { type: 'boolean', default: false },
      append: { type: 'boolean', default: false },
      'docs-only': { type: 'boolean', default: false },
    },
  });
  if (values['docs-only']) {
    const saved = JSON.parse(readFileSync(RESULTS_PATH, 'utf8')) as SavedResults;
    const section = render(saved.results, saved.measuredAt, saved.loadAverageAtEnd);
    writeDocsSection(SECTION_TITLE, section);
    process.stdout.write(`${section}\n`);
    return;
  }
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds needs a whole number of at least 1, not "${values.rounds}".`);
  const engines = values.engines.split(',').map((e) => e.trim()) as Engine[];
  if (engines.some((e) => e !== 'tfjs' && e !== 'accelerate'))
    throw new Error(`--engines takes tfjs and accelerate, not "${values.engines}".`);
  if (!existsSync(join(ROOT, 'dist/cli.js'))) throw new Error('No dist/cli.js: run npm run build first.');
  if (!existsSync(join(MINILM, 'config.json'))) throw new Error(`No model at ${MINILM}: run bench/python/setup.`);
  const data = prepareData();
  const results: RunResult[] =
    values.append && existsSync(RESULTS_PATH) ? (JSON.parse(readFileSync(RESULTS_PATH, 'utf8')) as SavedResults).results : [];
  for (let round = 0; round < rounds; round++) {
    for (const engine of round % 2 === 0 ? engines : [...engines].reverse()) {
      const result = runEngine(engine, data);
      console.error(
        `${engine}: ${fmt(result.wallSeconds)} s, peak RSS ${fmt(result.peakRssMib, 0)} MiB, ${JSON.stringify(result.phases)} (load ${loadavg()[0]!.toFixed(2)})`,
      );
      results.push(result);
    }
  }
  const saved: SavedResults = { measuredAt: new Date().toISOString(), loadAverageAtEnd: loadavg(), results };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(RESULTS_PATH, `${JSON.stringify(saved, null, 2)}\n`);
  const section = render(results, saved.measuredAt, saved.loadAverageAtEnd);
  if (!values['no-docs']) writeDocsSection(SECTION_TITLE, section);
  process.stdout.write(`${section}\n`);
}

if (require.main === module) main();
