import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { LabClassificationWins, LabQueryMove, LabRetrievalWins, LabWinsModel } from '../../shared/lab/labWinsResult';
import { labelChanges, positiveRank, rankMovements, type QueryRanks } from '../../shared/lab/winsAndLosses';
import type { EncoderOps } from '../backend/encoderOps';
import { InputFileError } from '../cli/cliIo';
import { encodeUnitVectors } from '../mining/miningEmbeddings';
import { loadInferenceModel, type InferenceModel } from '../model/inferenceModel';
import { withPrompt } from '../training/promptedBatch';
import { ClassificationHead } from '../training/classificationHead';
import { readSavedTaskHead } from '../training/savedTaskHead';
import { modelFingerprint, type EmbeddingCache } from './embeddingCache';
import type { LabelledExample, LabEvaluation } from './labEvaluation';

export interface LabWinsRequest {
  readonly models: readonly [string, string];
  readonly evaluation: LabEvaluation;
  readonly k: number;
  /** At most this many entries per list. */
  readonly limit: number;
  readonly batchSize: number;
  readonly baseDir: string;
}

export interface LabWinsDependencies {
  readonly ops: EncoderOps;
  readonly cache: EmbeddingCache;
  /** Called as a model encodes texts the cache does not hold. */
  readonly onEncoding: (model: string, done: number, total: number) => void;
}

/** The run's evaluation replayed under both models, each model loaded and freed in turn. */
export async function labWins(
  request: LabWinsRequest,
  dependencies: LabWinsDependencies,
): Promise<LabRetrievalWins | LabClassificationWins> {
  const { evaluation } = request;
  if (evaluation.task === 'retrieval') {
    const first = await retrievalScores(request.models[0], request, dependencies);
    const second = await retrievalScores(request.models[1], request, dependencies);
    return retrievalWins(request, first, second);
  }
  const first = await predictions(request.models[0], evaluation.examples, request, dependencies);
  const second = await predictions(request.models[1], evaluation.examples, request, dependencies);
  const changes = labelChanges(
    evaluation.examples.map((example, i) => ({ gold: example.label, first: first.labels[i]!, second: second.labels[i]! })),
  );
  const describe = (indices: readonly number[]) =>
    indices.slice(0, request.limit).map((i) => {
      const example = evaluation.examples[i]!;
      return {
        text: example.first,
        pair: example.second ?? null,
        label: example.label,
        first: first.labels[i]!,
        second: second.labels[i]!,
      };
    });
  return {
    task: 'classification',
    examples: evaluation.examples.length,
    models: [first.info, second.info],
    fixed: describe(changes.fixed),
    broken: describe(changes.broken),
    otherChanges: describe(changes.otherChanges),
  };
}

interface RetrievalScores {
  readonly info: LabWinsModel;
  /** For each query, its scores against every document. */
  readonly scores: Float32Array[];
}

function retrievalWins(request: LabWinsRequest, first: RetrievalScores, second: RetrievalScores): LabRetrievalWins {
  const evaluation = request.evaluation as Extract<LabEvaluation, { task: 'retrieval' }>;
  const { set } = evaluation;
  const ranks: QueryRanks[] = set.queries.map((_, query) => ({
    query,
    firstRank: positiveRank(first.scores[query]!, set.relevant[query]!),
    secondRank: positiveRank(second.scores[query]!, set.relevant[query]!),
  }));
  const moves = rankMovements(ranks, request.k, request.limit);
  const describe = (list: readonly QueryRanks[]): LabQueryMove[] =>
    list.map((q) => ({
      query: set.queries[q.query]!,
      positive: set.corpus[bestPositive(second.scores[q.query]!, set.relevant[q.query]!)]!,
      firstRank: q.firstRank,
      secondRank: q.secondRank,
    }));
  return {
    task: 'retrieval',
    k: request.k,
    queries: set.queries.length,
    documents: set.corpus.length,
    models: [first.info, second.info],
    improved: moves.improved,
    worsened: moves.worsened,
    unchanged: moves.unchanged,
    wins: describe(moves.wins),
    losses: describe(moves.losses),
    fellOut: describe(moves.fellOut),
  };
}

function bestPositive(scores: Float32Array, positives: readonly number[]): number {
  return positives.reduce((best, index) => (positiveRank(scores, [index]) < positiveRank(scores, [best]) ? index : best));
}

/** Query and document vectors with the run's prompts, unit length, so that scores are cosines as in its evaluation. */
async function retrievalScores(model: string, request: LabWinsRequest, dependencies: LabWinsDependencies): Promise<RetrievalScores> {
  const { set, prompts } = request.evaluation as Extract<LabEvaluation, { task: 'retrieval' }>;
  return withModel(model, request, dependencies, async (loaded, encode) => {
    const documents = await encode(withPrompt(set.corpus, prompts.positive), 'documents', true);
    const queries = await encode(withPrompt(set.queries, prompts.anchor), 'queries', true);
    return {
      info: { model, description: loaded.description, cache: documents.hit && queries.hit ? 'hit' : 'miss' },
      scores: queries.vectors.map((query) => Float32Array.from(documents.vectors, (document) => dot(query, document))),
    };
  });
}

/** The labels the model's own classifier head predicts, from the embeddings as its training fed them (not normalized). */
async function predictions(
  model: string,
  examples: readonly LabelledExample[],
  request: LabWinsRequest,
  dependencies: LabWinsDependencies,
): Promise<{ info: LabWinsModel; labels: string[] }> {
  const head = readSavedTaskHead(resolve(request.baseDir, model));
  if (!(head instanceof ClassificationHead))
    throw new InputFileError(`${model} has no classification head; compare two checkpoints (or exported models) of a classification run.`);
  return withModel(model, request, dependencies, async (loaded, encode) => {
    const first = await encode(
      examples.map((example) => example.first),
      'texts',
      false,
    );
    const second =
      head.input === 'pair'
        ? await encode(
            examples.map((example) => example.second ?? ''),
            'pairs',
            false,
          )
        : undefined;
    const dim = loaded.embedder.dimension;
    const toTensor = (vectors: readonly Float32Array[]) => tf.tensor2d(concat(vectors, dim), [vectors.length, dim]);
    const features = tf.tidy(() => head.features(toTensor(first.vectors), second ? toTensor(second.vectors) : undefined));
    const labels = await head.predict(features);
    features.dispose();
    return { info: { model, description: loaded.description, cache: first.hit && (second?.hit ?? true) ? 'hit' : 'miss' }, labels };
  });
}

type CachedEncode = (texts: readonly string[], role: string, unit: boolean) => Promise<{ vectors: readonly Float32Array[]; hit: boolean }>;

/** Loads a model, hands it an encoder that reads and fills the embedding cache, and frees it afterwards. */
async function withModel<T>(
  model: string,
  request: LabWinsRequest,
  dependencies: LabWinsDependencies,
  use: (loaded: InferenceModel, encode: CachedEncode) => Promise<T>,
): Promise<T> {
  const { cache, ops, onEncoding } = dependencies;
  const loaded = await loadInferenceModel(model, ops, { baseDir: request.baseDir });
  try {
    const fingerprint = modelFingerprint(model, request.baseDir);
    const encode: CachedEncode = async (texts, role, unit) => {
      // The key covers the texts themselves, their role and whether they were normalized: the same model's vectors
      // for queries, documents or classifier inputs never stand in for one another.
      const key = createHash('sha256')
        .update(`lab-wins\0${role}\0${unit ? 'unit' : 'raw'}\0${JSON.stringify(texts)}`)
        .digest('hex');
      const cached = cache.read(fingerprint, key, texts.length);
      if (cached) return { vectors: cached.vectors, hit: true };
      onEncoding(model, 0, texts.length);
      const progress = (done: number) => onEncoding(model, done, texts.length);
      const vectors = unit
        ? await encodeUnitVectors(loaded.embedder, texts, request.batchSize, progress)
        : await encodeRaw(loaded, texts, request.batchSize, progress);
      if (texts.length > 0) cache.write(model, fingerprint, key, vectors);
      return { vectors, hit: false };
    };
    return await use(loaded, encode);
  } finally {
    loaded.embedder.encoder.dispose();
  }
}

async function encodeRaw(
  loaded: InferenceModel,
  texts: readonly string[],
  batchSize: number,
  onBatch: (done: number) => void,
): Promise<Float32Array[]> {
  const vectors: Float32Array[] = [];
  for (let start = 0; start < texts.length; start += batchSize) {
    vectors.push(...(await loaded.embedder.encode(texts.slice(start, start + batchSize), batchSize)));
    onBatch(Math.min(start + batchSize, texts.length));
  }
  return vectors;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function concat(vectors: readonly Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(vectors.length * dim);
  vectors.forEach((vector, i) => out.set(vector, i * dim));
  return out;
}
