import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isTfjsBackend, TFJS_BACKENDS } from '../../shared/config/configTypes';
import { LAB_PROJECTION_METHODS, type LabProjectionMethod } from '../../shared/lab/labMapResult';
import { MAX_LAB_K } from '../../shared/lab/labSearchResult';
import type { EncoderOps } from '../backend/encoderOps';
import { encoderOpsFor } from '../backend/encoderOpsFor';
import { selectBackend } from '../backend/selectBackend';
import { DataFileError } from '../data/dataErrors';
import { defaultLabCacheDir, EmbeddingCache } from '../lab/embeddingCache';
import { colourColumns, LABEL_COLUMNS } from '../lab/labColourColumns';
import { readLabCorpus, type LabCorpus } from '../lab/labCorpus';
import { corpusVectors, type CorpusVectors } from '../lab/labCorpusVectors';
import { labMap } from '../lab/labMap';
import { labNeighbours } from '../lab/labNeighbours';
import { InputFileError, requireRegularFile, UsageError, type CliIo } from './cliIo';

const SHARED_OPTIONS = `  --column NAME      the text column of a JSONL/CSV/TSV corpus (as lab-search)
  --cache-dir DIR    where corpus embeddings (and map projections) are kept, as lab-search's
  --batch-size N     texts per encoding batch (default 32)
  --backend auto|node-gpu|node|wasm|cpu`;

export const LAB_MAP_USAGE = `embedtune lab-map --model A --compare B --corpus FILE [--method pca|umap] [options]

Projects the corpus embeddings of both models to 2D (PCA, or UMAP with a seed) and prints the points with the
corpus texts and colourings: each model's ${8} k-means clusters and the corpus columns that look like labels
(${LABEL_COLUMNS.join(', ')}), or those named. This is what the Embedding Lab's map shows. Embeddings come from
lab-search's cache (or are encoded into it); projections are stored beside them, so a second map is instant.
  --method pca|umap  the projection (default pca)
  --seed N           UMAP's and k-means' seed (default 42)
  --colour-column NAME  colour by this column (repeatable; default: the label-like columns present)
${SHARED_OPTIONS}
  --json             print the result as one JSON object (the Lab's format)`;

export const LAB_NEIGHBOURS_USAGE = `embedtune lab-neighbours --model A --compare B --corpus FILE --index I [--top-k K] [options]

Prints the K corpus entries nearest to entry I (0-based, in lab-map's order) under both models, the second marked
against the first (↑n, ↓n, =, new, dropped). This is what clicking a point of the Lab's map shows.
  --top-k K          neighbours per model (default 10, at most ${MAX_LAB_K})
${SHARED_OPTIONS}
  --json             print the result as one JSON object (the Lab's format)`;

const OPTIONS = {
  model: { type: 'string' },
  compare: { type: 'string' },
  corpus: { type: 'string' },
  column: { type: 'string' },
  'cache-dir': { type: 'string' },
  'batch-size': { type: 'string' },
  backend: { type: 'string' },
  json: { type: 'boolean', default: false },
  method: { type: 'string' },
  seed: { type: 'string' },
  'colour-column': { type: 'string', multiple: true },
  index: { type: 'string' },
  'top-k': { type: 'string' },
} as const;

function wholeNumber(value: string | undefined, fallback: number, flag: string, usage: string, minimum: number): number {
  const number = Number(value ?? fallback);
  if (!Number.isInteger(number) || number < minimum)
    throw new UsageError(`${flag} must be a whole number of at least ${minimum}, not "${value}".`, usage);
  return number;
}

interface Prepared {
  readonly values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>>['values'];
  readonly corpus: LabCorpus;
  readonly vectors: [CorpusVectors, CorpusVectors];
  readonly models: [string, string];
}

/** Both commands' common part: the arguments, the corpus, and both models' vectors (cached or encoded). */
async function prepare(
  command: string,
  args: string[],
  io: CliIo,
  usage: string,
  check: (values: Prepared['values']) => void,
): Promise<Prepared> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  if (positionals.length > 0) throw new UsageError(`${command} takes no positional arguments (got "${positionals[0]}").`, usage);
  if (!values.model || !values.compare || !values.corpus) throw new UsageError(`${command} needs --model, --compare and --corpus.`, usage);
  check(values);
  const batchSize = wholeNumber(values['batch-size'], 32, '--batch-size', usage, 1);
  const preference = values.backend ?? 'auto';
  if (!isTfjsBackend(preference)) throw new UsageError(`--backend must be one of ${TFJS_BACKENDS.join(', ')}, not "${preference}".`, usage);
  requireRegularFile(values.corpus, 'The corpus');
  let corpus: LabCorpus;
  try {
    corpus = await readLabCorpus(values.corpus, values.column);
  } catch (error) {
    if (error instanceof DataFileError) throw new InputFileError(error.message);
    throw error;
  }
  const cache = new EmbeddingCache(resolve(values['cache-dir'] ?? defaultLabCacheDir()));
  let ops: Promise<EncoderOps> | undefined;
  const dependencies = {
    cache,
    onEncoding: (model: string, done: number, total: number) => io.err(`encoding ${done}/${total} with ${model}`),
    ops: () => (ops ??= selectBackend(preference).then((backend) => encoderOpsFor(backend.name))),
  };
  const models: [string, string] = [values.model, values.compare];
  const vectors: CorpusVectors[] = [];
  for (const model of models) vectors.push(await corpusVectors(model, corpus, { batchSize, baseDir: process.cwd() }, dependencies));
  return { values, corpus, vectors: vectors as [CorpusVectors, CorpusVectors], models };
}

export async function runLabMap(args: string[], io: CliIo): Promise<number> {
  let method: LabProjectionMethod = 'pca';
  let seed = 42;
  const { values, corpus, vectors, models } = await prepare('lab-map', args, io, LAB_MAP_USAGE, (values) => {
    const named = values.method ?? 'pca';
    if (!(LAB_PROJECTION_METHODS as readonly string[]).includes(named))
      throw new UsageError(`--method must be one of ${LAB_PROJECTION_METHODS.join(', ')}, not "${named}".`, LAB_MAP_USAGE);
    method = named as LabProjectionMethod;
    seed = wholeNumber(values.seed, 42, '--seed', LAB_MAP_USAGE, 0);
  });
  const columns = await colourColumns(corpus, values.column, values['colour-column'] ?? []);
  const started = Date.now();
  const result = labMap({
    corpus,
    models,
    vectors,
    method,
    seed,
    columns,
    onProjecting: (model, done, total) => io.err(`projecting ${done}/${total} with ${model}`),
  });
  io.err(`projected ${corpus.texts.length} entries (${method}) in ${Date.now() - started} ms`);
  if (values.json) io.out(JSON.stringify(result));
  else {
    io.out(`${corpus.texts.length} entries of ${corpus.file}, ${method} (seed ${seed})`);
    result.models.forEach((model) => io.out(`${model.model} (corpus embeddings: cache ${model.cache})`));
    io.out(`colourings: ${result.colourings.map((colouring) => `${colouring.name} (${colouring.categories.length})`).join(', ')}`);
  }
  return 0;
}

export async function runLabNeighbours(args: string[], io: CliIo): Promise<number> {
  let index = 0;
  let k = 10;
  const { values, corpus, vectors } = await prepare('lab-neighbours', args, io, LAB_NEIGHBOURS_USAGE, (values) => {
    if (values.index === undefined) throw new UsageError('lab-neighbours needs --index.', LAB_NEIGHBOURS_USAGE);
    index = wholeNumber(values.index, 0, '--index', LAB_NEIGHBOURS_USAGE, 0);
    k = wholeNumber(values['top-k'], 10, '--top-k', LAB_NEIGHBOURS_USAGE, 1);
    if (k > MAX_LAB_K) throw new UsageError(`--top-k must be at most ${MAX_LAB_K}, not ${k}.`, LAB_NEIGHBOURS_USAGE);
  });
  if (index >= corpus.texts.length)
    throw new InputFileError(`--index ${index} is past the end of ${corpus.file}, which has ${corpus.texts.length} entries.`);
  const result = labNeighbours(corpus, vectors, index, k);
  if (values.json) io.out(JSON.stringify(result));
  else {
    io.out(`neighbours of ${JSON.stringify(result.text)}`);
    result.first.forEach((hit, i) => io.out(`A ${String(i + 1).padStart(3)}. ${hit.score.toFixed(4)}  ${hit.text}`));
    result.second.forEach((hit) =>
      io.out(`B ${hit.rank === null ? '  -' : String(hit.rank).padStart(3)}. ${hit.score.toFixed(4)}  ${hit.text}`),
    );
  }
  return 0;
}
