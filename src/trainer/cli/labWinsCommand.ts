import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isTfjsBackend, TFJS_BACKENDS } from '../../shared/config/configTypes';
import { MAX_LAB_K } from '../../shared/lab/labSearchResult';
import { MAX_WINS_LIST, type LabQueryMove, type LabLabelChange, type LabWinsResult } from '../../shared/lab/labWinsResult';
import { encoderOpsFor } from '../backend/encoderOpsFor';
import { selectBackend } from '../backend/selectBackend';
import { defaultLabCacheDir, EmbeddingCache } from '../lab/embeddingCache';
import { readLabEvaluation } from '../lab/labEvaluation';
import { labWins } from '../lab/labWins';
import { requireRegularFile, UsageError, type CliIo } from './cliIo';
import { readConfigOrReport } from './configErrorReport';

export const LAB_WINS_USAGE = `embedtune lab-wins --model A --compare B --config CONFIG [options]

Replays the config's evaluation (its validation rows, read as training reads them) under two models and lists what
changed. Retrieval: each validation query's best positive is ranked among all validation positives (cosine, with
the config's prompts); the queries whose positive rose most (wins), fell most (losses), and fell out of the top-k.
Classification: each model's own classifier head predicts every validation example (A and B must be checkpoints or
exported models of a classification run); the examples whose predicted label changed, as fixed (now right), broken
(now wrong) and other changes. This is what the Embedding Lab's Wins and losses runs. Embeddings are cached per
model and texts, as lab-search caches them.
  --top-k K          the k of "fell out of the top-k" (default 10, at most ${MAX_LAB_K})
  --limit N          entries per list (default 50, at most ${MAX_WINS_LIST})
  --cache-dir DIR    where embeddings are kept (default $XDG_CACHE_HOME/embedtune/lab or ~/.cache/embedtune/lab)
  --json             print the result as one JSON object (the Lab's format) instead of lists
  --batch-size N     texts per encoding batch (default 32)
  --backend auto|node-gpu|node|wasm|cpu`;

function boundedInteger(value: string | undefined, fallback: number, max: number, flag: string): number {
  const number = Number(value ?? fallback);
  if (!Number.isInteger(number) || number < 1 || number > max)
    throw new UsageError(`${flag} must be a whole number from 1 to ${max}, not "${value}".`, LAB_WINS_USAGE);
  return number;
}

export async function runLabWins(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      compare: { type: 'string' },
      config: { type: 'string' },
      'top-k': { type: 'string' },
      limit: { type: 'string' },
      'cache-dir': { type: 'string' },
      json: { type: 'boolean', default: false },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`lab-wins takes no positional arguments (got "${positionals[0]}").`, LAB_WINS_USAGE);
  if (!values.model || !values.compare || !values.config)
    throw new UsageError('lab-wins needs --model, --compare and --config.', LAB_WINS_USAGE);
  const k = boundedInteger(values['top-k'], 10, MAX_LAB_K, '--top-k');
  const limit = boundedInteger(values.limit, 50, MAX_WINS_LIST, '--limit');
  const batchSize = boundedInteger(values['batch-size'], 32, Number.MAX_SAFE_INTEGER, '--batch-size');
  const preference = values.backend ?? 'auto';
  if (!isTfjsBackend(preference))
    throw new UsageError(`--backend must be one of ${TFJS_BACKENDS.join(', ')}, not "${preference}".`, LAB_WINS_USAGE);
  requireRegularFile(values.config, 'The config');
  const runConfig = readConfigOrReport(values.config, io, 'lab-wins');
  if (!runConfig) return 1;
  const evaluation = await readLabEvaluation(values.config, runConfig.config);
  const backend = await selectBackend(preference);
  const result = await labWins(
    { models: [values.model, values.compare], evaluation, k, limit, batchSize, baseDir: process.cwd() },
    {
      ops: encoderOpsFor(backend.name),
      cache: new EmbeddingCache(resolve(values['cache-dir'] ?? defaultLabCacheDir())),
      onEncoding: (model, done, total) => io.err(`encoding ${done}/${total} with ${model}`),
    },
  );
  if (values.json) io.out(JSON.stringify(result));
  else printLists(result, io);
  return 0;
}

function printLists(result: LabWinsResult, io: CliIo): void {
  const [first, second] = result.models;
  io.out(`${first.model} → ${second.model}`);
  if (result.task === 'retrieval') {
    io.out(
      `${result.queries} queries, ${result.documents} documents: ${result.improved} rose, ${result.worsened} fell, ${result.unchanged} kept their rank`,
    );
    const moves = (title: string, list: readonly LabQueryMove[]) => {
      io.out(`\n${title}`);
      for (const move of list) io.out(`  ${String(move.firstRank).padStart(4)} → ${String(move.secondRank).padEnd(4)} ${move.query}`);
    };
    moves('Wins (the positive rose)', result.wins);
    moves('Losses (the positive fell)', result.losses);
    moves(`Fell out of the top ${result.k}`, result.fellOut);
    return;
  }
  io.out(`${result.examples} examples`);
  const changes = (title: string, list: readonly LabLabelChange[]) => {
    io.out(`\n${title}`);
    for (const change of list) io.out(`  ${change.first} → ${change.second} (gold ${change.label})  ${change.text}`);
  };
  changes('Fixed', result.fixed);
  changes('Broken', result.broken);
  changes('Other changes', result.otherChanges);
}
