/**
 * Hard negatives on a real task (issue 16): Recall@10 of MNRL trained on (anchor, positive) pairs, with in-batch
 * negatives only, against MNRL trained on the same pairs with one mined hard negative each, on the WordNet-gloss
 * retrieval of `npm run bench:real` (bench/realData/wordnetGloss.embedtune.yaml).
 *
 * 1. The training pairs are bench:real's seeded subset (the same rows, in the same order, as `--gloss-train N` there).
 * 2. `embedtune mine-negatives` mines them with the base model, with the settings of sentence-transformers' own
 *    training example (MINING below), as triplets; pairs whose anchor got no negative are left out, as in Python.
 * 3. `embedtune train` runs each variant in its own process, same seed, epochs, batch and learning rate. The first
 *    evaluation (step 0) is the base model's, the last the fine-tuned model's, both on all 2,000 validation pairs.
 *
 * Run with `node --import tsx bench/realData/minedNegatives.ts` after `npm run build`. Options:
 *   --train N        training pairs (default 2000)       --seeds 42,43   training seeds (default 42)
 *   --batch-size N   (default 64)   --epochs N (default 1)   --learning-rate X (default 5e-5)
 *   --backend node|wasm  (default node where bench/tfjs-node/setup has built it, else wasm)
 *   --model DIR      (default: the all-MiniLM-L6-v2 folder that bench/python/setup installs)
 *   --mining="FLAGS" mine-negatives flags (with =, since FLAGS starts with --) instead of MINING's, e.g. "--range-min 10 --range-max 50 --max-score 0.8 --num-negatives 1"
 *   --variants pairs,mined,kept  which variants to train (default pairs,mined; kept: the pairs the miner kept,
 *                    without their negatives)
 *   --tag NAME       names the mined file, the run folders and the results file, so runs with other mining flags
 *                    do not overwrite these (default: none)
 * Writes bench/results/minedNegatives[-TAG].json and prints a table.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import type { EvalEvent, ProgressEvent, RunEvent, RunStartedEvent } from '../../src/shared/events/runEvents';
import { seededPermutation } from '../../src/trainer/data/seededRandom';

const ROOT = resolve(__dirname, '../..');
const DATA = join(ROOT, 'bench/.cache/real-data/wordnet-gloss');
const WORK = join(ROOT, 'bench/.cache/real-data/mined-negatives');
const BASE_CONFIG = join(ROOT, 'bench/realData/wordnetGloss.embedtune.yaml');
const TFJS_NODE = join(homedir(), '.cache/embedtune/tfjs-node-4.22.0/node_modules');
const MINILM = join(process.env.EMBEDTUNE_PY_PEERS ?? join(homedir(), '.cache/embedtune/py-peers'), 'models/all-MiniLM-L6-v2');
/** bench:real's subset seed, so both benches train on the same rows. */
const SUBSET_SEED = 7;
/**
 * sentence-transformers' training example for mine_hard_negatives (range_min 10, range_max 50, max_score 0.8,
 * relative_margin 0.05), with one negative per pair and top sampling so that the mined file is deterministic.
 */
const MINING = ['--range-min', '10', '--range-max', '50', '--max-score', '0.8', '--relative-margin', '0.05', '--num-negatives', '1'];

/**
 * pairs: the training pairs, in-batch negatives only; mined: the mined triplets, MNRL with the mined negative too;
 * kept: the mined file's (anchor, positive) only, in-batch negatives only, which separates the negatives' effect from
 * that of the pairs the miner left out.
 */
type Variant = 'pairs' | 'mined' | 'kept';

interface Options {
  readonly train: number;
  readonly seeds: readonly number[];
  readonly batchSize: number;
  readonly epochs: number;
  readonly learningRate: number;
  readonly backend: 'node' | 'wasm';
  readonly model: string;
  readonly mining: readonly string[];
  readonly variants: readonly Variant[];
  readonly tag: string;
}

interface RunResult {
  readonly variant: Variant;
  readonly seed: number;
  readonly train_rows: number;
  readonly steps: number;
  readonly backend: string;
  readonly before: Record<string, number | null>;
  readonly after: Record<string, number | null>;
  readonly wall_seconds: number;
  readonly final_loss: number | null;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      train: { type: 'string', default: '2000' },
      seeds: { type: 'string', default: '42' },
      'batch-size': { type: 'string', default: '64' },
      epochs: { type: 'string', default: '1' },
      'learning-rate': { type: 'string', default: '5e-5' },
      backend: { type: 'string' },
      model: { type: 'string', default: MINILM },
      mining: { type: 'string' },
      variants: { type: 'string', default: 'pairs,mined' },
      tag: { type: 'string', default: '' },
    },
  });
  const backend = values.backend ?? (existsSync(join(TFJS_NODE, '@tensorflow/tfjs-node')) ? 'node' : 'wasm');
  if (backend !== 'node' && backend !== 'wasm') throw new Error(`--backend takes node or wasm, not ${backend}.`);
  if (!existsSync(join(values.model, 'config.json'))) throw new Error(`No model at ${values.model}: run bench/python/setup.`);
  if (!existsSync(join(ROOT, 'dist/cli.js'))) throw new Error('No dist/cli.js: run npm run build first.');
  const learningRate = Number(values['learning-rate']);
  if (!(learningRate > 0)) throw new Error(`--learning-rate takes a positive number, not ${values['learning-rate']}.`);
  const variants = values.variants.split(',').map((name) => name.trim());
  const unknown = variants.filter((name) => name !== 'pairs' && name !== 'mined' && name !== 'kept');
  if (unknown.length > 0) throw new Error(`--variants takes pairs, mined and kept, not ${unknown.join(', ')}.`);
  if (!/^[\w-]*$/.test(values.tag)) throw new Error(`--tag takes letters, digits, - and _, not ${values.tag}.`);
  return {
    train: positiveInteger(values.train, '--train'),
    seeds: values.seeds.split(',').map((seed) => positiveInteger(seed.trim(), '--seeds')),
    batchSize: positiveInteger(values['batch-size'], '--batch-size'),
    epochs: positiveInteger(values.epochs, '--epochs'),
    learningRate,
    backend,
    model: values.model,
    mining: values.mining?.split(/\s+/).filter((flag) => flag !== '') ?? MINING,
    variants: variants as Variant[],
    tag: values.tag === '' ? '' : `-${values.tag}`,
  };
}

function positiveInteger(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} takes a positive whole number, not ${text}.`);
  return value;
}

/** bench:real's training subset (realDataReport.ts trainingSubset): the first N rows of a seed-7 permutation. */
function trainingSubset(rows: number): string {
  const source = join(DATA, 'train.jsonl');
  if (!existsSync(source)) throw new Error(`No ${source}: run node --import tsx bench/realData/buildWordNetGlossRetrieval.ts`);
  const lines = readFileSync(source, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
  if (rows > lines.length) throw new Error(`Asked for ${rows} training rows; ${source} has ${lines.length}.`);
  const path = join(DATA, `train-${rows}.jsonl`);
  const subset = seededPermutation(lines.length, SUBSET_SEED).slice(0, rows);
  writeFileSync(path, subset.map((index) => lines[index]!).join('\n') + '\n');
  return path;
}

function childEnv(options: Options): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' };
  // selectBackend finds the package through NODE_PATH, as it would a user's global install.
  if (options.backend === 'node') Object.assign(env, { NODE_PATH: TFJS_NODE, TF_NUM_INTRAOP_THREADS: '2', TF_NUM_INTEROP_THREADS: '1' });
  return env;
}

/** Runs dist/cli.js with its output in logPath; returns the wall seconds, or throws with the log's tail. */
function runCli(args: readonly string[], options: Options, logPath: string): number {
  const log = openSync(logPath, 'w');
  const started = performance.now();
  const result = spawnSync(process.execPath, [join(ROOT, 'dist/cli.js'), ...args], {
    cwd: ROOT,
    env: childEnv(options),
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  if (result.status !== 0) {
    throw new Error(`embedtune ${args[0]} exited with ${result.status}; ${logPath}:\n${readFileSync(logPath, 'utf8').slice(-3000)}`);
  }
  return (performance.now() - started) / 1000;
}

function mine(pairs: string, options: Options): string {
  const out = join(WORK, `mined${options.tag}-${options.train}.jsonl`);
  const args = ['mine-negatives', options.model, '--data', pairs, '--out', out, '--anchor-column', 'query'];
  args.push('--positive-column', 'passage', '--negative-column', 'negative', ...options.mining, '--backend', options.backend);
  const log = join(WORK, `mine${options.tag}.log`);
  const seconds = runCli(args, options, log);
  console.log(`mined ${out} in ${seconds.toFixed(0)} s:\n${readFileSync(log, 'utf8').split('\n').slice(-22).join('\n')}`);
  return out;
}

/**
 * The validation pairs with a negative column, because validate refuses a listed negative column that the validation
 * file lacks (data-missing-column). Retrieval metrics read only the anchor and the positive (retrievalEvalSet.ts),
 * so the column, each row's next row's passage, changes no score.
 */
function validationWithNegative(): string {
  const rows = readFileSync(join(DATA, 'validation.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { query: string; passage: string });
  const path = join(WORK, 'validation-with-negative.jsonl');
  const withNegative = rows.map((row, i) => JSON.stringify({ ...row, negative: rows[(i + 1) % rows.length]!.passage }));
  writeFileSync(path, withNegative.join('\n') + '\n');
  return path;
}

function writeConfig(variant: Variant, train: string, seed: number, options: Options): { config: string; outputDir: string; name: string } {
  const document = parseDocument(readFileSync(BASE_CONFIG, 'utf8'));
  const name = `${variant}${variant === 'pairs' ? '' : options.tag}-seed${seed}`;
  const outputDir = join(WORK, 'runs', name);
  document.setIn(['model', 'base'], options.model);
  document.setIn(['data', 'train'], train);
  document.setIn(['data', 'validation'], variant === 'mined' ? validationWithNegative() : join(DATA, 'validation.jsonl'));
  // A list, even of one: the plain string form is triplet's column, which mnrl does not read (docs/hard-negatives.md).
  if (variant === 'mined') document.setIn(['data', 'columns', 'negative'], document.createNode(['negative']));
  document.setIn(['engine'], document.createNode({ type: 'tfjs', backend: options.backend }));
  document.setIn(['training', 'epochs'], options.epochs);
  document.setIn(['training', 'batch_size'], options.batchSize);
  document.setIn(['training', 'learning_rate'], options.learningRate);
  document.setIn(['training', 'seed'], seed);
  document.setIn(['output_dir'], outputDir);
  const config = join(WORK, `${name}.embedtune.yaml`);
  writeFileSync(config, document.toString());
  return { config, outputDir, name };
}

function train(variant: Variant, data: string, seed: number, options: Options): RunResult {
  const { config, outputDir, name } = writeConfig(variant, data, seed, options);
  rmSync(outputDir, { recursive: true, force: true });
  mkdirSync(outputDir, { recursive: true });
  const wallSeconds = runCli(['train', config], options, join(WORK, `${name}.log`));
  const runs = readdirSync(outputDir, { withFileTypes: true }).filter((entry) => entry.isDirectory());
  if (runs.length !== 1) throw new Error(`Expected one run folder in ${outputDir}, found ${runs.length}.`);
  const events = readFileSync(join(outputDir, runs[0]!.name, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as RunEvent);
  const started = events.find((e): e is RunStartedEvent => e.type === 'run_started');
  const evals = events.filter((e): e is EvalEvent => e.type === 'eval');
  const lastProgress = events.filter((e): e is ProgressEvent => e.type === 'progress').at(-1);
  if (!started || evals.length < 2 || evals[0]!.step !== 0 || !lastProgress || evals.at(-1)!.step !== started.total_steps)
    throw new Error(`${outputDir}: no step-0 evaluation, no final evaluation at the last step, or no progress.`);
  return {
    variant,
    seed,
    train_rows: started.dataset.train_rows,
    steps: started.total_steps,
    backend: started.backend,
    before: { ...evals[0]!.metrics },
    after: { ...evals.at(-1)!.metrics },
    wall_seconds: Math.round(wallSeconds),
    final_loss: lastProgress.loss,
  };
}

const percent = (value: number | null | undefined) => (value === undefined || value === null ? '–' : `${(value * 100).toFixed(2)} %`);

function main(): void {
  const options = parseOptions();
  mkdirSync(WORK, { recursive: true });
  const pairs = trainingSubset(options.train);
  const mined = mine(pairs, options);
  const resultsPath = join(ROOT, `bench/results/minedNegatives${options.tag}.json`);
  const runs: RunResult[] = [];
  // Runs of other variants or seeds recorded earlier under the same tag stay in the results file.
  const earlier = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as { runs: RunResult[] }).runs : [];
  const others = () => earlier.filter((old) => !runs.some((run) => run.variant === old.variant && run.seed === old.seed));
  for (const seed of options.seeds) {
    for (const [variant, data] of [
      ['pairs', pairs],
      ['mined', mined],
      ['kept', mined],
    ] as const) {
      if (!options.variants.includes(variant)) continue;
      console.log(`training ${variant}, seed ${seed} (load ${loadavg()[0]!.toFixed(1)})…`);
      const result = train(variant, data, seed, options);
      runs.push(result);
      console.log(
        `  ${result.train_rows} rows, ${result.steps} steps, ${result.wall_seconds} s: before ${JSON.stringify(result.before)} after ${JSON.stringify(result.after)}`,
      );
      writeFileSync(resultsPath, JSON.stringify(results(options, mined, [...others(), ...runs]), null, 2) + '\n');
    }
  }
  console.log('\nvariant  seed  rows  recall@10 before → after   mrr@10 after   ndcg@10 after');
  for (const run of runs) {
    console.log(
      `${run.variant.padEnd(7)}  ${run.seed}  ${run.train_rows}  ${percent(run.before['recall@10'])} → ${percent(run.after['recall@10'])}   ${percent(run.after['mrr@10'])}   ${percent(run.after['ndcg@10'])}`,
    );
  }
}

function results(options: Options, mined: string, runs: readonly RunResult[]) {
  return {
    finished_at: new Date().toISOString(),
    machine: `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}, Node ${process.version}`,
    options: { ...options, model: 'all-MiniLM-L6-v2' },
    mining: options.mining.join(' '),
    mining_report: JSON.parse(readFileSync(mined.replace(/\.jsonl$/, '.report.json'), 'utf8')) as unknown,
    runs,
  };
}

main();
