import { statSync, writeFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveConfig, TFJS_BACKENDS, type BadRowPolicy, type EmbedTuneConfig, type TfjsBackend } from '../../shared/config/configTypes';
import { rolePromptTexts, type RolePromptTexts } from '../../shared/config/promptSettings';
import { resolveDataFormat, type DataFormat } from '../../shared/data/dataFormat';
import type { PairExample } from '../../shared/data/trainingExamples';
import { encoderOpsFor } from '../backend/encoderOpsFor';
import { selectBackend } from '../backend/selectBackend';
import { DataFileError, DataRowError, describeRowProblem } from '../data/dataErrors';
import { readExamples } from '../data/readExamples';
import { loadInferenceModel } from '../model/inferenceModel';
import { modelPrompts } from '../model/modelPrompts';
import { loadEmbedder } from '../model/loadEmbedder';
import type { SentenceEmbedder } from '../model/sentenceEmbedder';
import { mineCorpus, type MiningStage } from '../mining/mineCorpus';
import { buildMiningCorpus, mostPositives } from '../mining/miningCorpus';
import { MiningOptionError, resolveMiningOptions, type MiningOptions, type ResolvedMiningOptions } from '../mining/miningOptions';
import { miningReport, miningSummaryLines } from '../mining/miningReport';
import { minedTable, OUTPUT_FORMATS, type OutputColumns } from '../mining/minedRows';
import { ProgressBar, type ProgressSink } from '../mining/progressBar';
import { writeTable } from '../mining/writeTable';
import { InputFileError, requireRegularFile, UsageError, type CliIo } from './cliIo';
import { readConfigOrReport } from './configErrorReport';

export const MINE_NEGATIVES_USAGE = `embedtune mine-negatives CONFIG|MODEL --data PAIRS --out FILE [options]

Adds hard negatives to (anchor, positive) pairs, as sentence-transformers' mine_hard_negatives: each anchor and each
distinct positive is encoded, and an anchor's negatives are the other positives most similar to it (cosine), less
those the filters drop. With a CONFIG, its model.base and data.columns are used, and its data.train when --data is
not given; a MODEL is a model folder, checkpoint or cached hub id. PAIRS and FILE are .jsonl, .csv or .tsv.
Writes FILE, a report FILE-without-extension.report.json, and a summary on stdout.
  --num-negatives N      negatives per anchor (default 3)
  --range-min N          skip the N most similar candidates, often unlabelled positives (default 0)
  --range-max N          consider candidates up to rank N (default: range-min + num-negatives + the most positives
                         of an anchor, or 10 x num-negatives instead when a margin or --max-score is set)
  --margin X             drop candidates scoring above (lowest positive score - X) (absolute_margin)
  --relative-margin X    drop candidates scoring above positive - |positive| * X (relative_margin)
  --max-score X          drop candidates scoring above X
  --min-score X          drop candidates scoring below X
  --sampling top|random  the best candidates in the window, or a seeded random draw from it (default top)
  --seed N               for --sampling random (default: the config's training.seed, else 42)
  --output-format triplet|n-tuple
                         one row per negative (anchor, positive, negative), or one row per pair with every negative
                         (negative_1 … negative_N; pairs whose anchor got fewer are left out) (default triplet)
  --output-scores        add a "scores" column: the positive's score, then each negative's
  --anchor-column NAME, --positive-column NAME, --negative-column NAME
                         column names (default: the config's data.columns, else anchor, positive, negative)
  --on-bad-row error|skip  what a bad data row does (default: the config's data.on_bad_row, else error)
  --batch-size N         texts per encoding batch (default 32)
  --backend auto|node-gpu|node|wasm|cpu`;

/** The schema's column names; only anchor and positive are read, from the names the setup decided. */
const DEFAULT_COLUMNS = resolveConfig({ model: { base: '' }, data: { train: '' } } as EmbedTuneConfig).data.columns;

/** What the positional argument and the config decide before any file is read. */
interface MiningSetup {
  readonly modelLabel: string;
  readonly loadModel: (backend: string) => Promise<PromptedEmbedder>;
  readonly dataFile: string;
  /** The format the config names for its data, used when the data file's extension does not say. */
  readonly configuredFormat?: string;
  readonly columns: OutputColumns;
  readonly onBadRow: BadRowPolicy;
  readonly seed?: number;
  readonly backend: TfjsBackend;
}

/** The model, and the prompts that go in front of anchors and of corpus texts when they are encoded. */
interface PromptedEmbedder {
  readonly embedder: SentenceEmbedder;
  readonly prompts: RolePromptTexts;
}

type Values = ReturnType<typeof parseCommandLine>['values'];

function parseCommandLine(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      out: { type: 'string' },
      'num-negatives': { type: 'string' },
      'range-min': { type: 'string' },
      'range-max': { type: 'string' },
      margin: { type: 'string' },
      'relative-margin': { type: 'string' },
      'max-score': { type: 'string' },
      'min-score': { type: 'string' },
      sampling: { type: 'string' },
      seed: { type: 'string' },
      'output-format': { type: 'string' },
      'output-scores': { type: 'boolean', default: false },
      'anchor-column': { type: 'string' },
      'positive-column': { type: 'string' },
      'negative-column': { type: 'string' },
      'on-bad-row': { type: 'string' },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
    },
  });
}

export async function runMineNegatives(args: string[], io: CliIo, progressSink: ProgressSink = process.stderr): Promise<number> {
  const { values, positionals } = parseCommandLine(args);
  if (positionals.length !== 1 || !values.out)
    throw new UsageError('mine-negatives needs a CONFIG or MODEL and --out.', MINE_NEGATIVES_USAGE);
  const out = resolve(values.out);
  const outFormat = resolveDataFormat(out, undefined);
  if (!outFormat) throw new UsageError(`--out must end in .jsonl, .csv or .tsv, not "${values.out}".`, MINE_NEGATIVES_USAGE);
  const outputFormat = choice(values['output-format'] ?? 'triplet', OUTPUT_FORMATS, '--output-format');
  const batchSize = wholeNumber(values['batch-size'] ?? '32', '--batch-size', 1);
  const wanted = miningFlags(values);

  const setup = setupFor(positionals[0]!, values, io);
  if (!setup) return 1;
  const format = resolveDataFormat(setup.dataFile, setup.configuredFormat);
  if (!format) throw new InputFileError(`${setup.dataFile} has no .jsonl, .csv or .tsv extension, so its format is unknown; rename it.`);
  requireRegularFile(setup.dataFile, 'The data file');
  if (setup.dataFile === out)
    throw new UsageError(`--out is the data file ${setup.dataFile}; write the mined rows to a new file.`, MINE_NEGATIVES_USAGE);

  const read = await readPairs(setup, format, io);
  if (!read) return 1;
  const corpus = buildMiningCorpus(read.pairs);
  let options: ResolvedMiningOptions;
  try {
    options = resolveMiningOptions(
      { ...wanted, ...(wanted.seed === undefined && setup.seed !== undefined ? { seed: setup.seed } : {}) },
      mostPositives(corpus),
      (option) => FLAGS[option],
    );
  } catch (error) {
    if (error instanceof MiningOptionError) throw new UsageError(error.message, MINE_NEGATIVES_USAGE);
    throw error;
  }

  const backend = await selectBackend(setup.backend);
  let model: PromptedEmbedder;
  try {
    model = await setup.loadModel(backend.name);
  } catch (error) {
    io.err(
      `embedtune mine-negatives: cannot load the model ${setup.modelLabel}: ${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  }
  io.err(`mining with ${setup.modelLabel} on ${backend.name}: ${corpus.anchors.length} anchors against ${corpus.corpus.length} positives`);

  const { embedder, prompts } = model;
  // Prompts go in front for encoding only: the rows written keep the texts as read, and training adds its own prompts.
  const rolePrompts = { ...(prompts.anchor ? { anchor: prompts.anchor } : {}), ...(prompts.positive ? { corpus: prompts.positive } : {}) };
  const bars = new StageProgress(progressSink);
  const { result, seconds } = await mineCorpus(embedder, corpus, options, {
    batchSize,
    prompts: rolePrompts,
    onProgress: (stage, done, total) => bars.update(stage, done, total),
  });
  bars.finish();

  const table = minedTable(corpus, result, outputFormat, setup.columns, values['output-scores']);
  try {
    writeTable(out, outFormat, table);
  } catch (error) {
    io.err(`embedtune mine-negatives: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const facts = {
    model: setup.modelLabel,
    data: setup.dataFile,
    out,
    outputFormat,
    rowsSkipped: read.skipped,
    prompts: rolePrompts,
    seconds,
  };
  const reportFile = `${out.slice(0, out.length - extname(out).length)}.report.json`;
  writeFileSync(reportFile, `${JSON.stringify(miningReport(corpus, result, table, facts), null, 2)}\n`);
  for (const line of miningSummaryLines(corpus, result, table, facts)) io.out(line);
  io.out(`report: ${reportFile}`);
  return 0;
}

/** The mining settings given on the command line; each number is checked here, the combination by resolveMiningOptions. */
function miningFlags(values: Values): MiningOptions {
  const options: { -readonly [K in keyof MiningOptions]: MiningOptions[K] } = {};
  if (values['num-negatives'] !== undefined) options.numNegatives = wholeNumber(values['num-negatives'], '--num-negatives', 1);
  if (values['range-min'] !== undefined) options.rangeMin = wholeNumber(values['range-min'], '--range-min', 0);
  if (values['range-max'] !== undefined) options.rangeMax = wholeNumber(values['range-max'], '--range-max', 1);
  if (values.margin !== undefined) options.absoluteMargin = finiteNumber(values.margin, '--margin');
  if (values['relative-margin'] !== undefined) options.relativeMargin = finiteNumber(values['relative-margin'], '--relative-margin');
  if (values['max-score'] !== undefined) options.maxScore = finiteNumber(values['max-score'], '--max-score');
  if (values['min-score'] !== undefined) options.minScore = finiteNumber(values['min-score'], '--min-score');
  if (values.sampling !== undefined) options.sampling = choice(values.sampling, ['top', 'random'] as const, '--sampling');
  if (values.seed !== undefined) options.seed = wholeNumber(values.seed, '--seed', 0);
  return options;
}

const FLAGS: Readonly<Record<keyof MiningOptions, string>> = {
  numNegatives: '--num-negatives',
  rangeMin: '--range-min',
  rangeMax: '--range-max',
  absoluteMargin: '--margin',
  relativeMargin: '--relative-margin',
  maxScore: '--max-score',
  minScore: '--min-score',
  sampling: '--sampling',
  seed: '--seed',
};

/**
 * A config file gives the model, the columns, the bad-row policy, the seed, the backend and (without --data) the
 * data; anything else is a model for loadInferenceModel. Undefined after printing why a config cannot be used.
 */
function setupFor(target: string, values: Values, io: CliIo): MiningSetup | undefined {
  const backendFlag = values.backend === undefined ? undefined : choice(values.backend, TFJS_BACKENDS, '--backend');
  const onBadRowFlag =
    values['on-bad-row'] === undefined ? undefined : choice(values['on-bad-row'], ['error', 'skip'] as const, '--on-bad-row');
  const columnFlags = {
    ...(values['anchor-column'] ? { anchor: values['anchor-column'] } : {}),
    ...(values['positive-column'] ? { positive: values['positive-column'] } : {}),
    ...(values['negative-column'] ? { negative: values['negative-column'] } : {}),
  };
  if (!isConfigFile(target)) {
    if (!values.data) throw new UsageError('with a MODEL, mine-negatives needs --data PAIRS.', MINE_NEGATIVES_USAGE);
    return {
      modelLabel: target,
      loadModel: async (backend) => {
        const loaded = await loadInferenceModel(target, encoderOpsFor(backend));
        // As encode_query and encode_document: the model's `query` prompt, and its `document` (or passage, corpus) prompt.
        const own = await modelPrompts(target, loaded.runConfig, { baseDir: process.cwd(), env: process.env });
        return { embedder: loaded.embedder, prompts: rolePromptTexts({ prompts: { ...own.prompts } }) };
      },
      dataFile: resolve(values.data),
      columns: { anchor: 'anchor', positive: 'positive', negative: 'negative', ...columnFlags },
      onBadRow: onBadRowFlag ?? 'error',
      backend: backendFlag ?? 'auto',
    };
  }
  const runConfig = readConfigOrReport(target, io, 'mine-negatives');
  if (!runConfig) return undefined;
  const { written, config, configDir } = runConfig;
  const { columns } = config.data;
  return {
    modelLabel: config.model.base,
    loadModel: async (backend) => {
      const loaded = await loadEmbedder({
        base: config.model.base,
        baseDir: configDir,
        written: written.model,
        resolved: config.model,
        ops: encoderOpsFor(backend),
      });
      return { embedder: loaded.embedder, prompts: rolePromptTexts(config.model) };
    },
    dataFile: values.data ? resolve(values.data) : resolve(configDir, config.data.train),
    configuredFormat: config.data.format,
    columns: { anchor: columns.anchor, positive: columns.positive, negative: minedNegativeName(columns.negative), ...columnFlags },
    onBadRow: onBadRowFlag ?? config.data.on_bad_row,
    seed: config.training.seed,
    backend: backendFlag ?? config.engine.backend,
  };
}

/**
 * A folder, or a name that is no file at all (a hub id), is a model; anything else is a config, which must then be
 * a regular file: a named pipe would block the read forever.
 */
function isConfigFile(target: string): boolean {
  let stat;
  try {
    stat = statSync(target);
  } catch {
    return false;
  }
  if (stat.isDirectory()) return false;
  requireRegularFile(target, 'The config');
  return true;
}

/** The pairs of the data file, or undefined after printing the file, line and column at fault. */
async function readPairs(
  setup: MiningSetup,
  format: DataFormat,
  io: CliIo,
): Promise<{ pairs: PairExample[]; skipped: number } | undefined> {
  try {
    const { examples, summary } = await readExamples({
      file: setup.dataFile,
      format,
      kind: 'pair',
      columns: { ...DEFAULT_COLUMNS, anchor: setup.columns.anchor, positive: setup.columns.positive },
      onBadRow: setup.onBadRow,
    });
    if (examples.length === 0) {
      const why =
        summary.skipped > 0 ? `all ${summary.skipped} rows are bad, e.g. ${summary.firstSkipped[0]!.message}` : 'it has no data rows';
      io.err(`embedtune mine-negatives: ${setup.dataFile}: nothing to mine: ${why}`);
      return undefined;
    }
    return { pairs: examples, skipped: summary.skipped };
  } catch (error) {
    if (error instanceof DataRowError) {
      io.err(
        `embedtune mine-negatives: ${describeRowProblem(error.file, error.line, error.problem)}. Fix the row, or pass --on-bad-row skip.`,
      );
      return undefined;
    }
    if (error instanceof DataFileError) {
      io.err(`embedtune mine-negatives: ${error.message}`);
      return undefined;
    }
    throw error;
  }
}

function wholeNumber(text: string, flag: string, least: number): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < least)
    throw new UsageError(`${flag} must be a whole number of at least ${least}, not "${text}".`, MINE_NEGATIVES_USAGE);
  return value;
}

function finiteNumber(text: string, flag: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${flag} must be a number, not "${text}".`, MINE_NEGATIVES_USAGE);
  return value;
}

function choice<T extends string>(text: string, allowed: readonly T[], flag: string): T {
  if (!allowed.includes(text as T))
    throw new UsageError(`${flag} must be one of ${allowed.join(', ')}, not "${text}".`, MINE_NEGATIVES_USAGE);
  return text as T;
}

/** One progress bar per stage: a new stage finishes the bar of the one before. */
class StageProgress {
  private current?: { stage: MiningStage; bar: ProgressBar };

  constructor(private readonly sink: ProgressSink) {}

  update(stage: MiningStage, done: number, total: number): void {
    if (this.current?.stage !== stage) {
      this.current?.bar.finish();
      this.current = { stage, bar: new ProgressBar(this.sink, stage, total, stage === 'encoding' ? 'texts' : 'anchors') };
    }
    this.current.bar.update(done);
  }

  finish(): void {
    this.current?.bar.finish();
    this.current = undefined;
  }
}

/** The name the mined negative columns are numbered from: a config's list `negative_1, …` gives back `negative`. */
function minedNegativeName(negative: string | readonly string[]): string {
  if (typeof negative === 'string') return negative;
  return negative[0]?.replace(/_1$/, '') ?? 'negative';
}
