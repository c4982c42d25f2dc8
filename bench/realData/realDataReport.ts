/**
 * The check on real data (issue 6): fine-tunes the real all-MiniLM-L6-v2 with every strategy on two real tasks and
 * writes docs/results.md.
 *
 * - Spam or ham (bench/realData/spamAssassin.embedtune.yaml): a classifier on the SpamAssassin e-mails, against a
 *   frozen-encoder baseline (every layer and the embeddings frozen, so only the linear head trains).
 * - Reverse dictionary (bench/realData/wordnetGloss.embedtune.yaml): a WordNet 3.1 definition must retrieve the
 *   words of its synset among every validation synset, against the base model's Recall@10 (the step-0 evaluation).
 *
 * Every run is the product's own `embedtune train` (dist/cli.js) in its own process, on the config beside this file
 * with the strategy, learning rate and training subset of the case; the score before and after come from the run's
 * events.jsonl, the settings from its config.resolved.yaml, the wall time from the process, and the peak memory from
 * the kernel's count of its resident set (getrusage's maxrss, written at exit by peakRssOnExit.cjs). The training sets are seeded subsets, because MiniLM trains at
 * 1.5 (wasm) to 6 (tfjs-node) pairs a second on this 2-core machine; the validation sets are whole.
 *
 * Run with `npm run bench:real` after `npm run build`. Options:
 *   --backend node|wasm  (default node where bench/tfjs-node/setup has built it, else wasm; results are kept per backend,
 *                         and docs/results.md compares a case's wasm run with its tfjs-node run)
 *   --cases a,b          (of spam:baseline, spam:full, spam:freeze, spam:adapter, spam:lora, gloss:full, gloss:freeze,
 *                         gloss:adapter, gloss:lora; default all)
 *   --spam-train N       (training e-mails, default 1000)   --gloss-train N (training pairs, default 2400)
 *   --model DIR          (default: the all-MiniLM-L6-v2 folder that bench/python/setup installs)
 *   --no-docs            (do not write docs/results.md; bench/results/realData.json is always written, merged by case)
 *   --docs-only          (run nothing; summarize the recorded runs again from their folders and write docs/results.md)
 * A case that fails is recorded as failed, its old result dropped, and the others still run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml, parseDocument } from 'yaml';
import type { EvalEvent, ProgressEvent, RunEvent, RunFinishedEvent, RunStartedEvent } from '../../src/shared/events/runEvents';
import { trainsTaskHead } from '../../src/shared/config/taskRequirements';
import { seededPermutation } from '../../src/trainer/data/seededRandom';
import type { BackendOption, CaseResult, RealDataResults, RunSettings, Strategy, Task } from './realDataTypes';
import { writeResultsDoc } from './resultsDoc';

const ROOT = resolve(__dirname, '../..');
const CACHE = join(ROOT, 'bench/.cache/real-data');
const RESULTS = join(ROOT, 'bench/results/realData.json');
const TRAIN_THROUGHPUT = join(ROOT, 'bench/results/trainThroughput.json');
const TFJS_NODE = join(homedir(), '.cache/embedtune/tfjs-node-4.22.0/node_modules');
const MINILM = join(process.env.EMBEDTUNE_PY_PEERS ?? join(homedir(), '.cache/embedtune/py-peers'), 'models/all-MiniLM-L6-v2');
const PEAK_RSS_PRELOAD = join(__dirname, 'peakRssOnExit.cjs');
const THREADS = 2;
/**
 * The classifier head's rate in every spam case, SetFit's default for its differentiable head: the head starts
 * random on unit-length embeddings, and at an encoder's rate it would still be near chance after one epoch.
 */
const SPAM_HEAD_LEARNING_RATE = 1e-2;

interface Case {
  readonly task: Task;
  readonly strategy: Strategy;
  readonly learningRate: number;
  /** What goes under `strategy:` in the config. */
  readonly strategyConfig: Record<string, unknown>;
  readonly description: string;
  /** Passes over the training subset, where the task's one epoch would leave the case short of converging. */
  readonly epochs?: number;
}

/**
 * Learning rates as practitioners set them for each strategy: small for updating pretrained weights, larger for the
 * freshly initialised parameters of adapters, LoRA and a linear probe.
 */
const CASES: readonly Case[] = [
  {
    task: 'spam',
    strategy: 'baseline',
    // Nothing in the encoder trains, so only the head's rate (SPAM_HEAD_LEARNING_RATE) matters.
    learningRate: 1e-2,
    strategyConfig: { type: 'freeze', freeze_layers: 6, freeze_embeddings: true },
    description: 'frozen encoder (all 6 layers and the embeddings), linear head only, 3 epochs',
    // A step without an encoder backward pass is cheap, so the probe gets three passes: a baseline short of
    // converging would flatter the fine-tuned strategies.
    epochs: 3,
  },
  ...(['spam', 'gloss'] as const).flatMap((task): Case[] => [
    { task, strategy: 'full', learningRate: 5e-5, strategyConfig: { type: 'full' }, description: 'every parameter' },
    {
      task,
      strategy: 'freeze',
      learningRate: 5e-5,
      strategyConfig: { type: 'freeze', freeze_layers: 4, freeze_embeddings: true },
      description: 'bottom 4 of 6 layers and the embeddings frozen',
    },
    {
      task,
      strategy: 'adapter',
      learningRate: 5e-4,
      strategyConfig: { type: 'adapter', adapter: { size: 64 } },
      description: 'Houlsby adapters, size 64',
    },
    {
      task,
      strategy: 'lora',
      learningRate: 5e-4,
      strategyConfig: { type: 'lora', lora: { r: 8, alpha: 16, dropout: 0.1, targets: ['query', 'key', 'value', 'dense'] } },
      description: 'LoRA r 8, alpha 16 on query, key, value and dense',
    },
  ]),
];

interface TaskSetup {
  readonly baseConfig: string;
  readonly dataDir: string;
  readonly builder: string;
  readonly trainRows: number;
  readonly overrides: ReadonlyArray<readonly [readonly string[], unknown]>;
}

interface Options {
  readonly backend: BackendOption;
  readonly cases: readonly Case[];
  readonly spamTrain: number;
  readonly glossTrain: number;
  readonly model: string;
  readonly docs: boolean;
  readonly docsOnly: boolean;
}

interface Measured {
  readonly wallSeconds: number;
  readonly peakRssMib: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string' },
      cases: { type: 'string' },
      'spam-train': { type: 'string', default: '1000' },
      'gloss-train': { type: 'string', default: '2400' },
      model: { type: 'string', default: MINILM },
      'no-docs': { type: 'boolean', default: false },
      'docs-only': { type: 'boolean', default: false },
    },
  });
  const tfjsNodeBuilt = existsSync(join(TFJS_NODE, '@tensorflow/tfjs-node'));
  const backend = values.backend ?? (tfjsNodeBuilt ? 'node' : 'wasm');
  if (backend !== 'node' && backend !== 'wasm') throw new Error(`--backend takes node or wasm, not ${backend}.`);
  const wanted = values.cases?.split(',').map((name) => name.trim());
  const unknown = wanted?.filter((name) => !CASES.some((c) => caseName(c) === name)) ?? [];
  if (unknown.length > 0) throw new Error(`Unknown case ${unknown.join(', ')}; the cases are ${CASES.map(caseName).join(', ')}.`);
  const docsOnly = values['docs-only'];
  if (!docsOnly) {
    if (backend === 'node' && !tfjsNodeBuilt)
      throw new Error(`No tfjs-node in ${TFJS_NODE}: run bench/tfjs-node/setup, or pass --backend wasm.`);
    if (!existsSync(join(values.model, 'config.json')))
      throw new Error(`No model at ${values.model}: run bench/python/setup, or pass --model.`);
    if (!existsSync(join(ROOT, 'dist/cli.js'))) throw new Error('No dist/cli.js: run npm run build first.');
  }
  return {
    backend,
    cases: wanted ? CASES.filter((c) => wanted.includes(caseName(c))) : CASES,
    spamTrain: positiveInteger(values['spam-train'], '--spam-train'),
    glossTrain: positiveInteger(values['gloss-train'], '--gloss-train'),
    model: values.model,
    docs: !values['no-docs'],
    docsOnly,
  };
}

function positiveInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} takes a positive whole number, not ${text}.`);
  return value;
}

const caseName = (c: Pick<Case, 'task' | 'strategy'>) => `${c.task}:${c.strategy}`;
const resultKey = (name: string, backend: BackendOption) => `${name}@${backend}`;

function taskSetup(task: Task, options: Options): TaskSetup {
  if (task === 'spam') {
    return {
      baseConfig: join(ROOT, 'bench/realData/spamAssassin.embedtune.yaml'),
      dataDir: join(CACHE, 'spam-assassin'),
      builder: join(ROOT, 'bench/realData/buildSpamAssassin.ts'),
      trainRows: options.spamTrain,
      // The subject and the opening lines decide most e-mails; 128 tokens keep a step affordable on 2 cores.
      overrides: [
        [['model', 'max_seq_length'], 128],
        [['training', 'epochs'], 1],
        [['training', 'batch_size'], 16],
        [['training', 'head_learning_rate'], SPAM_HEAD_LEARNING_RATE],
      ],
    };
  }
  return {
    baseConfig: join(ROOT, 'bench/realData/wordnetGloss.embedtune.yaml'),
    dataDir: join(CACHE, 'wordnet-gloss'),
    builder: join(ROOT, 'bench/realData/buildWordNetGlossRetrieval.ts'),
    trainRows: options.glossTrain,
    overrides: [
      [['training', 'epochs'], 1],
      [['training', 'batch_size'], 32],
    ],
  };
}

/** A seeded subset of the training rows, so that every strategy of a task trains on the same rows in the same order. */
function trainingSubset(setup: TaskSetup): string {
  const source = join(setup.dataDir, 'train.jsonl');
  if (!existsSync(source)) {
    console.log(`building the data with ${setup.builder}…`);
    const built = spawnSync(process.execPath, ['--import', 'tsx', setup.builder], { cwd: ROOT, stdio: 'inherit' });
    if (built.status !== 0) throw new Error(`${setup.builder} failed (exit ${built.status}).`);
  }
  const rows = readFileSync(source, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
  if (setup.trainRows > rows.length) throw new Error(`Asked for ${setup.trainRows} training rows; ${source} has ${rows.length}.`);
  const subset = seededPermutation(rows.length, 7)
    .slice(0, setup.trainRows)
    .map((index) => rows[index]!);
  const path = join(setup.dataDir, `train-${setup.trainRows}.jsonl`);
  writeFileSync(path, subset.join('\n') + '\n');
  return path;
}

function writeCaseConfig(c: Case, setup: TaskSetup, train: string, options: Options): { config: string; outputDir: string } {
  const document = parseDocument(readFileSync(setup.baseConfig, 'utf8'));
  const outputDir = join(CACHE, 'runs', `${c.task}-${c.strategy}${options.backend === 'node' ? '' : `-${options.backend}`}`);
  document.setIn(['model', 'base'], options.model);
  document.setIn(['data', 'train'], train);
  document.setIn(['data', 'validation'], join(setup.dataDir, 'validation.jsonl'));
  document.setIn(['strategy'], document.createNode(c.strategyConfig));
  document.setIn(['training', 'learning_rate'], c.learningRate);
  document.setIn(['engine'], document.createNode({ type: 'tfjs', backend: options.backend }));
  document.setIn(['output_dir'], outputDir);
  for (const [path, value] of setup.overrides) document.setIn(path as string[], value);
  if (c.epochs !== undefined) document.setIn(['training', 'epochs'], c.epochs);
  const dir = join(CACHE, 'configs');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, `${c.task}-${c.strategy}-${options.backend}.embedtune.yaml`);
  writeFileSync(config, document.toString());
  return { config, outputDir };
}

async function runTraining(config: string, options: Options, logPath: string): Promise<Measured> {
  const peakFile = `${logPath}.peak-rss`;
  rmSync(peakFile, { force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', EMBEDTUNE_PEAK_RSS_FILE: peakFile };
  if (options.backend === 'node') {
    // selectBackend finds the package through NODE_PATH, as it would a user's global install.
    Object.assign(env, { NODE_PATH: TFJS_NODE, TF_NUM_INTRAOP_THREADS: String(THREADS), TF_NUM_INTEROP_THREADS: '1' });
  }
  const started = performance.now();
  const child = spawn(process.execPath, ['--require', PEAK_RSS_PRELOAD, join(ROOT, 'dist/cli.js'), 'train', config], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    log.push(text);
    const lines = (partial + text).split(/\r?\n|\r/);
    partial = lines.pop() ?? '';
    for (const line of lines) if (/^(eval|run|best)/.test(line.trim())) console.log(`    ${line.trim()}`);
  });
  child.stderr.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  // 'close' comes after both pipes have drained, so the log is whole.
  const code = await new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('close', (exitCode) => done(exitCode));
  });
  writeFileSync(logPath, log.join(''));
  if (code !== 0)
    throw new Error(`embedtune train ${config} exited with ${code}; its output is in ${logPath}:\n${log.join('').slice(-3000)}`);
  if (!existsSync(peakFile)) throw new Error(`embedtune train ${config} left no peak RSS in ${peakFile}.`);
  return { wallSeconds: (performance.now() - started) / 1000, peakRssMib: Number(readFileSync(peakFile, 'utf8')) / 1024 };
}

function onlyRunFolder(outputDir: string): string {
  const runs = readdirSync(outputDir, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  if (runs.length !== 1) throw new Error(`Expected one run folder in ${outputDir}, found ${runs.length}.`);
  return join(outputDir, runs[0]!.name);
}

function readEvents(runDir: string): RunEvent[] {
  return readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RunEvent);
}

function readSettings(runDir: string, strategy: Strategy): RunSettings {
  const resolved = parseYaml(readFileSync(join(runDir, 'config.resolved.yaml'), 'utf8')) as {
    task: string;
    loss: { type: string };
    model: { max_seq_length: number };
    training: {
      batch_size: number;
      epochs: number;
      learning_rate: number;
      head_learning_rate?: number;
      warmup: number;
      scheduler: string;
      seed: number;
    };
  };
  return {
    max_seq_length: resolved.model.max_seq_length,
    batch_size: resolved.training.batch_size,
    epochs: resolved.training.epochs,
    learning_rate: strategy === 'baseline' ? null : resolved.training.learning_rate,
    head_learning_rate: trainsTaskHead(resolved.task, resolved.loss.type)
      ? (resolved.training.head_learning_rate ?? resolved.training.learning_rate)
      : null,
    warmup: resolved.training.warmup,
    scheduler: resolved.training.scheduler,
    seed: resolved.training.seed,
  };
}

/**
 * Seconds spent in optimizer steps: the gaps between consecutive events after the step-0 evaluation, up to the last
 * step, leaving out every gap that ends in an evaluation or a checkpoint, since those events are written when that
 * work finishes.
 */
function trainingSeconds(events: readonly RunEvent[], firstEval: EvalEvent, lastProgress: ProgressEvent): number {
  const from = events.indexOf(firstEval);
  const to = events.indexOf(lastProgress);
  let seconds = 0;
  for (let i = from + 1; i <= to; i++) {
    const event = events[i]!;
    if (event.type === 'eval' || event.type === 'checkpoint') continue;
    seconds += (Date.parse(event.time) - Date.parse(events[i - 1]!.time)) / 1000;
  }
  return seconds;
}

function summarize(c: Case, backendOption: BackendOption, runDir: string, measured: Measured, finishedAt: string): CaseResult {
  const events = readEvents(runDir);
  const started = events.find((e): e is RunStartedEvent => e.type === 'run_started');
  const finished = events.find((e): e is RunFinishedEvent => e.type === 'run_finished');
  const evals = events.filter((e): e is EvalEvent => e.type === 'eval');
  const progress = events.filter((e): e is ProgressEvent => e.type === 'progress');
  if (!started || !finished || evals.length < 2 || progress.length === 0)
    throw new Error(`${runDir} lacks run_started, run_finished, a before and an after evaluation, or progress.`);
  if (finished.reason !== 'completed') throw new Error(`${runDir} ended ${finished.reason}, not completed.`);
  const first = evals[0]!;
  const last = evals.at(-1)!;
  const lastProgress = progress.at(-1)!;
  if (first.step !== 0) throw new Error(`${runDir}: the first evaluation is at step ${first.step}, not before training.`);
  if (lastProgress.step !== started.total_steps || last.step !== started.total_steps) {
    throw new Error(
      `${runDir}: the last step is ${lastProgress.step} and the last evaluation at ${last.step}, of ${started.total_steps} steps.`,
    );
  }
  const trainSeconds = trainingSeconds(events, first, lastProgress);
  return {
    case: caseName(c),
    backend_option: backendOption,
    task: c.task,
    strategy: c.strategy,
    description: c.description,
    settings: readSettings(runDir, c.strategy),
    backend: started.backend,
    backend_reason: started.backend_reason,
    train_rows: started.dataset.train_rows,
    validation_rows: started.dataset.validation_rows,
    steps: lastProgress.step,
    trainable_parameters: started.trainable_parameters,
    total_parameters: started.total_parameters,
    before: { ...first.metrics },
    after: { ...last.metrics },
    wall_seconds: round(measured.wallSeconds, 1),
    train_seconds: round(trainSeconds, 1),
    seconds_per_step: round(trainSeconds / lastProgress.step, 2),
    peak_rss_mib: round(measured.peakRssMib, 0),
    rss_first_step_mib: round(progress[0]!.memory_mb.rss, 0),
    rss_last_step_mib: round(lastProgress.memory_mb.rss, 0),
    final_loss: lastProgress.loss,
    run_dir: relative(ROOT, runDir),
    finished_at: finishedAt,
  };
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

function loadResults(): RealDataResults {
  if (!existsSync(RESULTS)) return { machine: machineLine(), cases: {}, failed: {} };
  const saved = JSON.parse(readFileSync(RESULTS, 'utf8')) as Partial<RealDataResults>;
  // Results recorded before the backend was part of the key were all tfjs-node runs.
  const cases = Object.fromEntries(
    Object.values(saved.cases ?? {}).map((result) => {
      const backendOption = result.backend_option ?? (result.backend === 'wasm' ? 'wasm' : 'node');
      return [resultKey(result.case, backendOption), { ...result, backend_option: backendOption }];
    }),
  );
  return { machine: saved.machine ?? machineLine(), cases, failed: saved.failed ?? {} };
}

function saveResults(results: RealDataResults): void {
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');
}

/** Summarizes every recorded run again from its folder, keeping the process's own measurements. */
function resummarize(results: RealDataResults): RealDataResults {
  const cases: Record<string, CaseResult> = {};
  for (const [key, saved] of Object.entries(results.cases)) {
    const c = CASES.find((candidate) => caseName(candidate) === saved.case);
    const runDir = resolve(ROOT, saved.run_dir);
    if (!c || !existsSync(join(runDir, 'events.jsonl'))) throw new Error(`${key}: its run folder ${runDir} is gone; run the case again.`);
    cases[key] = summarize(
      c,
      saved.backend_option,
      runDir,
      { wallSeconds: saved.wall_seconds, peakRssMib: saved.peak_rss_mib },
      saved.finished_at,
    );
  }
  return { ...results, cases };
}

async function main(): Promise<void> {
  const options = parseOptions();
  let results = loadResults();
  if (options.docsOnly) {
    results = resummarize(results);
    saveResults(results);
    writeResultsDoc(results, TRAIN_THROUGHPUT);
    return;
  }
  const subsets = new Map<Task, string>();
  for (const c of options.cases) {
    const name = caseName(c);
    const key = resultKey(name, options.backend);
    try {
      const setup = taskSetup(c.task, options);
      if (!subsets.has(c.task)) subsets.set(c.task, trainingSubset(setup));
      const { config, outputDir } = writeCaseConfig(c, setup, subsets.get(c.task)!, options);
      rmSync(outputDir, { recursive: true, force: true });
      mkdirSync(outputDir, { recursive: true });
      console.log(`${name}: ${c.description}, learning rate ${c.learningRate}, ${setup.trainRows} training rows, ${options.backend}`);
      const measured = await runTraining(config, options, join(outputDir, 'train.log'));
      const result = summarize(c, options.backend, onlyRunFolder(outputDir), measured, new Date().toISOString());
      results = { machine: machineLine(), cases: { ...results.cases, [key]: result }, failed: withoutKey(results.failed, key) };
      console.log(
        `  before ${JSON.stringify(result.before)}\n  after  ${JSON.stringify(result.after)}\n  ${result.wall_seconds} s wall, ${result.seconds_per_step} s/step, peak RSS ${result.peak_rss_mib} MiB`,
      );
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`${key} failed: ${message}`);
      // Its run folder is gone or incomplete, so an older result would no longer be backed by one.
      results = {
        ...results,
        cases: withoutKey(results.cases, key),
        failed: { ...results.failed, [key]: { case: key, error: message, failed_at: new Date().toISOString() } },
      };
    }
    saveResults(results);
  }
  if (options.docs) writeResultsDoc(results, TRAIN_THROUGHPUT);
  if (Object.keys(results.failed).length > 0) process.exitCode = 1;
}

function withoutKey<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([name]) => name !== key));
}

function machineLine(): string {
  return `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
