import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isTfjsBackend, TFJS_BACKENDS } from '../../shared/config/configTypes';
import { MAX_LAB_K, type LabSearchResult } from '../../shared/lab/labSearchResult';
import { knownPositiveIndices, type EvaluationQueries } from '../../shared/lab/knownPositives';
import { rankChangeLabel } from '../../shared/lab/rankChanges';
import { encoderOpsFor } from '../backend/encoderOpsFor';
import { selectBackend } from '../backend/selectBackend';
import { DataFileError } from '../data/dataErrors';
import { defaultLabCacheDir, EmbeddingCache } from '../lab/embeddingCache';
import { readLabCorpus } from '../lab/labCorpus';
import { readLabEvaluation } from '../lab/labEvaluation';
import { labSearch } from '../lab/labSearch';
import { InputFileError, requireRegularFile, UsageError, type CliIo } from './cliIo';
import { readConfigOrReport } from './configErrorReport';

export const LAB_SEARCH_USAGE = `embedtune lab-search --model A --compare B --corpus FILE --query TEXT [options]

Searches a corpus for TEXT under two models (cosine similarity) and prints each one's top-k, the second marked
against the first: ↑n, ↓n, = , new (not in A's top-k) and dropped (in A's top-k, not in B's). This is what the
Embedding Lab runs. A and B are checkpoint folders, model folders or cached hub ids.
FILE is a text file (one entry per non-blank line), or a .jsonl, .csv or .tsv file read by --column.
Corpus embeddings are cached per model and corpus content, so a second search of the same corpus only encodes
the query.
  --top-k K          results per model (default 10, at most ${MAX_LAB_K})
  --column NAME      the text column of a JSONL/CSV/TSV corpus (default: the first of text, positive, sentence,
                     document, passage)
  --cache-dir DIR    where corpus embeddings are kept (default $XDG_CACHE_HOME/embedtune/lab or ~/.cache/embedtune/lab)
  --config FILE      the run's config: when TEXT is one of its validation queries, the result lists the corpus
                     indices of its known positives (knownPositives)
  --json             print the result as one JSON object (the Lab's format) instead of two tables
  --batch-size N     texts per encoding batch (default 32)
  --backend auto|node-gpu|node|wasm|cpu`;

function positiveInteger(value: string | undefined, fallback: number, flag: string): number {
  const number = Number(value ?? fallback);
  if (!Number.isInteger(number) || number < 1)
    throw new UsageError(`${flag} must be a whole number of at least 1, not "${value}".`, LAB_SEARCH_USAGE);
  return number;
}

export async function runLabSearch(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      compare: { type: 'string' },
      corpus: { type: 'string' },
      query: { type: 'string' },
      'top-k': { type: 'string' },
      column: { type: 'string' },
      config: { type: 'string' },
      'cache-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`lab-search takes no positional arguments (got "${positionals[0]}").`, LAB_SEARCH_USAGE);
  if (!values.model || !values.compare || !values.corpus || values.query === undefined)
    throw new UsageError('lab-search needs --model, --compare, --corpus and --query.', LAB_SEARCH_USAGE);
  const k = positiveInteger(values['top-k'], 10, '--top-k');
  if (k > MAX_LAB_K) throw new UsageError(`--top-k must be at most ${MAX_LAB_K}, not ${k}.`, LAB_SEARCH_USAGE);
  const batchSize = positiveInteger(values['batch-size'], 32, '--batch-size');
  const preference = values.backend ?? 'auto';
  if (!isTfjsBackend(preference))
    throw new UsageError(`--backend must be one of ${TFJS_BACKENDS.join(', ')}, not "${preference}".`, LAB_SEARCH_USAGE);
  requireRegularFile(values.corpus, 'The corpus');
  let corpus;
  try {
    corpus = await readLabCorpus(values.corpus, values.column);
  } catch (error) {
    if (error instanceof DataFileError) throw new InputFileError(error.message);
    throw error;
  }
  const backend = await selectBackend(preference);
  let result = await labSearch(
    { models: [values.model, values.compare], corpus, query: values.query, k, batchSize, baseDir: process.cwd() },
    {
      ops: encoderOpsFor(backend.name),
      cache: new EmbeddingCache(resolve(values['cache-dir'] ?? defaultLabCacheDir())),
      // One line per batch, so that the Lab (or a terminal) can show how far a long encode is.
      onEncoding: (model, done, total) => io.err(`encoding ${done}/${total} with ${model}`),
    },
  );
  const evaluation = values.config ? await evaluationQueriesOf(values.config, io) : undefined;
  const knownPositives = evaluation && knownPositiveIndices(values.query, evaluation, corpus.texts);
  if (knownPositives) result = { ...result, knownPositives };
  if (values.json) io.out(JSON.stringify(result));
  else printTables(result, io);
  return 0;
}

/**
 * The config's retrieval evaluation (its validation queries); undefined for a classification run or when the config
 * or its data cannot be read, which is said on stderr: the search itself does not need them.
 */
async function evaluationQueriesOf(configPath: string, io: CliIo): Promise<EvaluationQueries | undefined> {
  try {
    requireRegularFile(configPath, 'The config');
    const runConfig = readConfigOrReport(configPath, io, 'lab-search');
    if (!runConfig) return undefined;
    const evaluation = await readLabEvaluation(configPath, runConfig.config);
    return evaluation.task === 'retrieval' ? evaluation.set : undefined;
  } catch (error) {
    if (!(error instanceof InputFileError)) throw error;
    io.err(`known positives are not marked: ${error.message}`);
    return undefined;
  }
}

function printTables(result: LabSearchResult, io: CliIo): void {
  const [first, second] = result.models;
  io.out(`${result.corpus.entries} entries of ${result.corpus.file}, query ${JSON.stringify(result.query)}`);
  io.out(`\n${first.model} (corpus embeddings: cache ${first.cache})`);
  result.first.forEach((hit, i) => io.out(`${String(i + 1).padStart(3)}. ${hit.score.toFixed(4)}  ${hit.text}`));
  io.out(`\n${second.model} (corpus embeddings: cache ${second.cache})`);
  for (const hit of result.second) {
    const rank = hit.rank === null ? '  -' : String(hit.rank).padStart(3);
    io.out(`${rank}. ${hit.score.toFixed(4)}  ${rankChangeLabel(hit.change).padEnd(7)} ${hit.text}`);
  }
}
