/**
 * The image real-data check (issue 17): a small random ResNet fine-tuned on a 4-class, imbalanced Fashion-MNIST subset
 * (bench/realImages/buildFashionSubset.ts) with softmax against focal loss, on the tfjs engine and, side by side, the
 * same config on the accelerate engine (transformers' Trainer in PyTorch).
 *
 * As in bench/realData/realDataReport.ts, every run is the product's own `embedtune train` (dist/cli.js) in its own
 * process; the scores before (the step-0 evaluation) and after (the last step's) come from the run's events.jsonl, the
 * settings from its config.resolved.yaml, the wall time from the process. Every run starts from the same model folder
 * (its SHA-256 is recorded) on the same files.
 *
 * Pretrained ImageNet weights cannot be downloaded on this machine (no network beyond package registries), so the
 * backbone is random, built by buildRandomResNetFolder with transformers' own initialisation; "before" is therefore
 * chance, and the check measures what training from scratch reaches in a few epochs, not the seed's transfer learning.
 * The base folder's head predicts 10 placeholder classes, so both engines replace it with a new 4-class head, as the
 * seed replaces ResNet50's last layer; each engine draws that head from its own generator (seeded by training.seed),
 * so the step-0 scores of the two engines differ a little while the backbone is identical.
 *
 * On 2026-12-04 dist/cli.js still refused image-classification on engine accelerate before launch
 * (accelerate-option-unsupported, src/shared/config/checks/accelerateChecks.ts), so the accelerate cases ran with
 * `--cli` on the bundle of bench/realImages/buildLiftedCli.mjs (that one check lifted); the docs mark those rows.
 *
 * Run with `npm run bench:images-real` after `npm run build`. Options:
 *   --backend node|wasm   (tfjs engine's backend, default node from the native backend cache, else wasm)
 *   --cases a,b           (of softmax@tfjs, focal@tfjs, softmax@accelerate, focal@accelerate; default all)
 *   --epochs N            (default 6)
 *   --seeds a,b           (training.seed of each run, default 42: the head's draw, the batch order and augmentation;
 *                         the backbone stays the same folder. Results are kept per case and seed)
 *   --cli FILE            (the embedtune CLI bundle to run, default dist/cli.js; a case run with another is recorded
 *                         with its path, and docs/results.md says so in its row)
 *   --no-docs             (do not write the section of docs/results.md; bench/results/imagesReal.json is always written)
 *   --docs-only           (run nothing; write the docs section from bench/results/imagesReal.json)
 * A case that fails is recorded as failed with its error, its old result dropped, and the others still run.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg, totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseYaml, stringify } from 'yaml';
import type { EvalEvent, ProgressEvent, RunEvent, RunFinishedEvent, RunStartedEvent } from '../../src/shared/events/runEvents';
import { buildRandomResNetFolder } from '../../src/trainer/model/resnet/randomResNetFolder';
import { buildFashionSubset, IMAGE_SIDE } from './buildFashionSubset';
import { writeImagesResultsSection } from './imagesResultsDoc';
import {
  PRIMARY_SEED,
  type Engine,
  type ImageCaseResult,
  type ImageRunSettings,
  type Loss,
  type RealImagesResults,
} from './realImagesTypes';

const ROOT = resolve(__dirname, '../..');
const CACHE = join(ROOT, 'bench/.cache/real-images');
const DATA = join(CACHE, 'fashion-4');
const MODEL = join(CACHE, 'resnet18-random');
const RESULTS = join(ROOT, 'bench/results/imagesReal.json');
const NATIVE_BACKENDS = process.env['EMBEDTUNE_NATIVE_BACKENDS_DIR'] ?? join(homedir(), '.cache/embedtune/ci-native-backends');
const PEERS = process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache/embedtune/py-peers');
const PYTHON = join(PEERS, 'bin/python');
const DATA_SEED = 17;
const MODEL_SEED = 17;
const THREADS = 2;

/**
 * ResNet-18's shape (basic blocks, depths 2-2-2-2, widths 64-512, 11.2 M parameters): the seed's ResNet50 is 2 GFLOPs a
 * 224² image, too dear to train from scratch on 2 shared cores; ResNet-18 at 32² trains an epoch of 1,080 images in
 * seconds. BatchNorm at identity, as transformers initialises it.
 */
const RESNET_18: Record<string, unknown> = {
  layer_type: 'basic',
  embedding_size: 64,
  hidden_sizes: [64, 128, 256, 512],
  depths: [2, 2, 2, 2],
};
/** 32×32 in, no resampling (the images are already 32×32), pixels scaled to [-1, 1]. */
const PREPROCESSOR: Record<string, unknown> = {
  image_processor_type: 'ViTImageProcessor',
  do_resize: true,
  size: { height: IMAGE_SIDE, width: IMAGE_SIDE },
  resample: 2,
  do_rescale: true,
  rescale_factor: 1 / 255,
  do_normalize: true,
  image_mean: [0.5, 0.5, 0.5],
  image_std: [0.5, 0.5, 0.5],
};
/** The base's head: placeholder classes, so that both engines put a new 4-class head in its place. */
const BASE_LABELS = Array.from({ length: 10 }, (_, i) => `class_${i}`);

const LOSSES: Record<Loss, Record<string, unknown>> = {
  softmax: { type: 'softmax' },
  // Focal loss as the seed uses it against imbalance, with inverse-frequency class weights as its alpha.
  focal: { type: 'focal', gamma: 2, class_weights: 'balanced' },
};
const ALL_CASES = (['tfjs', 'accelerate'] as const).flatMap((engine) => (['softmax', 'focal'] as const).map((loss) => ({ loss, engine })));

interface Options {
  readonly backend: 'node' | 'wasm';
  readonly cases: readonly { loss: Loss; engine: Engine }[];
  readonly epochs: number;
  readonly seeds: readonly number[];
  readonly cli: string;
  readonly docs: boolean;
  readonly docsOnly: boolean;
}

const caseName = (c: { loss: Loss; engine: Engine }) => `${c.loss}@${c.engine}`;
const runKey = (c: { loss: Loss; engine: Engine }, seed: number) => (seed === PRIMARY_SEED ? caseName(c) : `${caseName(c)}/seed-${seed}`);

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string' },
      cases: { type: 'string' },
      epochs: { type: 'string', default: '6' },
      seeds: { type: 'string', default: String(PRIMARY_SEED) },
      cli: { type: 'string', default: join(ROOT, 'dist/cli.js') },
      'no-docs': { type: 'boolean', default: false },
      'docs-only': { type: 'boolean', default: false },
    },
  });
  const nativeBuilt = existsSync(join(NATIVE_BACKENDS, 'tfjs-node-4.22.0/node_modules/@tensorflow/tfjs-node'));
  const backend = values.backend ?? (nativeBuilt ? 'node' : 'wasm');
  if (backend !== 'node' && backend !== 'wasm') throw new Error(`--backend takes node or wasm, not ${backend}.`);
  const wanted = values.cases?.split(',').map((name) => name.trim());
  const unknown = wanted?.filter((name) => !ALL_CASES.some((c) => caseName(c) === name)) ?? [];
  if (unknown.length > 0) throw new Error(`Unknown case ${unknown.join(', ')}; the cases are ${ALL_CASES.map(caseName).join(', ')}.`);
  const epochs = Number(values.epochs);
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`--epochs takes a positive whole number, not ${values.epochs}.`);
  const seeds = values.seeds.split(',').map((text) => Number(text.trim()));
  if (seeds.some((seed) => !Number.isInteger(seed) || seed < 0)) throw new Error(`--seeds takes whole numbers, not ${values.seeds}.`);
  const cases = wanted ? ALL_CASES.filter((c) => wanted.includes(caseName(c))) : ALL_CASES;
  if (!values['docs-only']) {
    if (!existsSync(values.cli)) throw new Error(`No ${values.cli}: run npm run build first.`);
    if (cases.some((c) => c.engine === 'accelerate') && !existsSync(PYTHON))
      throw new Error(`No Python peers at ${PEERS} for the accelerate cases: run bench/python/setup, or pass --cases.`);
  }
  return { backend, cases, epochs, seeds, cli: resolve(values.cli), docs: !values['no-docs'], docsOnly: values['docs-only'] };
}

function prepareModel(): RealImagesResults['model'] {
  rmSync(MODEL, { recursive: true, force: true });
  buildRandomResNetFolder(MODEL, { config: RESNET_18, labels: BASE_LABELS, seed: MODEL_SEED, preprocessor: PREPROCESSOR });
  const sha256 = createHash('sha256')
    .update(readFileSync(join(MODEL, 'model.safetensors')))
    .digest('hex');
  return { description: 'ResNet-18 shape, random (transformers initialisation), seed 17', config: RESNET_18, sha256 };
}

function writeConfig(c: { loss: Loss; engine: Engine }, seed: number, options: Options): { config: string; outputDir: string } {
  const folder = `${c.loss}-${c.engine}${c.engine === 'tfjs' && options.backend !== 'node' ? `-${options.backend}` : ''}`;
  const outputDir = join(CACHE, 'runs', seed === PRIMARY_SEED ? folder : `${folder}-seed-${seed}`);
  const engine =
    c.engine === 'tfjs' ? { type: 'tfjs', backend: options.backend } : { type: 'accelerate', cpu: true, num_processes: 1, python: PYTHON };
  const config = {
    name: `fashion-4-${c.loss}`,
    task: 'image-classification',
    model: { base: MODEL },
    data: { train: join(DATA, 'train'), validation: join(DATA, 'validation') },
    // The seed's augmentation: flips and a small rotation (a vertical flip would make garments upside down).
    preprocess: { augment: { horizontal_flip: 0.5, rotation: 10 } },
    strategy: { type: 'full' },
    loss: LOSSES[c.loss],
    training: { epochs: options.epochs, batch_size: 32, learning_rate: 1e-3, warmup: 0.05, seed },
    evaluation: { every: 'epoch', metrics: ['map', 'accuracy', 'f1'] },
    early_stopping: { enabled: false },
    checkpoints: { every: 'epoch', keep: 1 },
    engine,
    output_dir: outputDir,
  };
  const dir = join(CACHE, 'configs');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${c.loss}-${c.engine}-seed-${seed}.embedtune.yaml`);
  writeFileSync(path, stringify(config));
  return { config: path, outputDir };
}

async function runTraining(cli: string, config: string, engine: Engine, logPath: string): Promise<number> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TF_CPP_MIN_LOG_LEVEL: '2',
    EMBEDTUNE_NATIVE_BACKENDS_DIR: NATIVE_BACKENDS,
    TF_NUM_INTRAOP_THREADS: String(THREADS),
    TF_NUM_INTEROP_THREADS: '1',
    // PyTorch gets the same two threads. GNU OpenMP's threads spin while they wait; on this shared, oversubscribed
    // machine that made a ResNet-18 step 10 times slower with 2 threads than with 1, so waiting threads sleep.
    OMP_NUM_THREADS: String(THREADS),
    OMP_WAIT_POLICY: 'PASSIVE',
  };
  const started = performance.now();
  const child = spawn(process.execPath, [cli, 'train', config], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    log.push(chunk.toString());
    for (const line of chunk.toString().split(/\r?\n/))
      if (/^(eval|run|backend|image)/.test(line.trim())) console.log(`    ${line.trim()}`);
  });
  child.stderr.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  const code = await new Promise<number | null>((done, fail) => {
    child.on('error', fail);
    child.on('close', (exitCode) => done(exitCode));
  });
  writeFileSync(logPath, log.join(''));
  if (code !== 0)
    throw new Error(`embedtune train ${config} (${engine}) exited with ${code}; output in ${logPath}:\n${log.join('').slice(-3000)}`);
  return (performance.now() - started) / 1000;
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

function readSettings(runDir: string): ImageRunSettings {
  const resolved = parseYaml(readFileSync(join(runDir, 'config.resolved.yaml'), 'utf8')) as {
    loss: Record<string, unknown>;
    preprocess?: { augment?: Record<string, unknown> };
    training: {
      batch_size: number;
      epochs: number;
      learning_rate: number;
      warmup: number;
      scheduler: string;
      weight_decay: number;
      seed: number;
    };
  };
  const t = resolved.training;
  return {
    batch_size: t.batch_size,
    epochs: t.epochs,
    learning_rate: t.learning_rate,
    warmup: t.warmup,
    scheduler: t.scheduler,
    weight_decay: t.weight_decay,
    seed: t.seed,
    loss: resolved.loss,
    augment: resolved.preprocess?.augment ?? {},
  };
}

/** Seconds in optimizer steps: gaps between events after the step-0 evaluation, leaving out those ending in an evaluation or a checkpoint. */
function trainingSeconds(events: readonly RunEvent[], firstEval: EvalEvent, lastProgress: ProgressEvent): number {
  let seconds = 0;
  for (let i = events.indexOf(firstEval) + 1; i <= events.indexOf(lastProgress); i++) {
    const event = events[i]!;
    if (event.type === 'eval' || event.type === 'checkpoint') continue;
    seconds += (Date.parse(event.time) - Date.parse(events[i - 1]!.time)) / 1000;
  }
  return seconds;
}

interface Measured {
  readonly wallSeconds: number;
  readonly loadBefore: number;
  readonly loadAfter: number;
}

function summarize(c: { loss: Loss; engine: Engine }, runDir: string, measured: Measured, cli: string): ImageCaseResult {
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
  if (lastProgress.step !== started.total_steps || last.step !== started.total_steps)
    throw new Error(
      `${runDir}: the last step is ${lastProgress.step}, the last evaluation at ${last.step}, of ${started.total_steps} steps.`,
    );
  const perClass = Object.fromEntries(
    Object.entries(last.per_class ?? {}).map(([name, scores]) => [name, scores.average_precision ?? null]),
  );
  return {
    case: caseName(c),
    loss: c.loss,
    engine: c.engine,
    backend: started.backend,
    settings: readSettings(runDir),
    train_rows: started.dataset.train_rows,
    validation_rows: started.dataset.validation_rows,
    steps: lastProgress.step,
    trainable_parameters: started.trainable_parameters,
    total_parameters: started.total_parameters,
    before: { ...first.metrics },
    after: { ...last.metrics },
    after_per_class_ap: perClass,
    wall_seconds: round(measured.wallSeconds, 1),
    train_seconds: round(trainingSeconds(events, first, lastProgress), 1),
    final_loss: lastProgress.loss,
    load_before: round(measured.loadBefore, 2),
    load_after: round(measured.loadAfter, 2),
    cli: relative(ROOT, cli),
    run_dir: relative(ROOT, runDir),
    finished_at: new Date().toISOString(),
  };
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

function machineLine(): string {
  return `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

function loadResults(): RealImagesResults | undefined {
  return existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as RealImagesResults) : undefined;
}

function saveResults(results: RealImagesResults): void {
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');
}

function without<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([name]) => name !== key));
}

async function main(): Promise<void> {
  const options = parseOptions();
  const saved = loadResults();
  if (options.docsOnly) {
    if (!saved) throw new Error(`No ${RESULTS} yet: run the cases first.`);
    writeImagesResultsSection(saved);
    return;
  }
  console.log(`building the data in ${DATA} and the model in ${MODEL}…`);
  const classes = buildFashionSubset(DATA, DATA_SEED);
  const model = prepareModel();
  // Results of another model or data would not be comparable: keep old cases only when both are unchanged.
  const comparable = saved && saved.model.sha256 === model.sha256 && JSON.stringify(saved.data.classes) === JSON.stringify(classes);
  let results: RealImagesResults = {
    machine: machineLine(),
    data: { classes, image_side: IMAGE_SIDE, seed: DATA_SEED },
    model,
    cases: comparable ? saved.cases : {},
    failed: comparable ? saved.failed : {},
  };
  for (const seed of options.seeds) for (const c of options.cases) results = await runCase(c, seed, options, results);
  if (options.docs) writeImagesResultsSection(results);
  if (Object.keys(results.failed).length > 0) process.exitCode = 1;
}

/** One `embedtune train` of a case and seed, recorded (or its failure) and saved at once. */
async function runCase(
  c: { loss: Loss; engine: Engine },
  seed: number,
  options: Options,
  before: RealImagesResults,
): Promise<RealImagesResults> {
  let results = before;
  const name = runKey(c, seed);
  try {
    const { config, outputDir } = writeConfig(c, seed, options);
    rmSync(outputDir, { recursive: true, force: true });
    mkdirSync(outputDir, { recursive: true });
    console.log(`${name}: ${options.epochs} epochs${c.engine === 'tfjs' ? `, backend ${options.backend}` : ''}`);
    const loadBefore = loadavg()[0]!;
    const wallSeconds = await runTraining(options.cli, config, c.engine, join(outputDir, 'train.log'));
    const result = summarize(c, onlyRunFolder(outputDir), { wallSeconds, loadBefore, loadAfter: loadavg()[0]! }, options.cli);
    results = { ...results, cases: { ...results.cases, [name]: result }, failed: without(results.failed, name) };
    console.log(
      `  before ${JSON.stringify(result.before)}\n  after  ${JSON.stringify(result.after)}\n  ${result.wall_seconds} s wall, ${result.train_seconds} s training`,
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`${name} failed: ${message}`);
    results = {
      ...results,
      cases: without(results.cases, name),
      failed: { ...results.failed, [name]: { case: name, error: message, failed_at: new Date().toISOString() } },
    };
  }
  saveResults(results);
  return results;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
