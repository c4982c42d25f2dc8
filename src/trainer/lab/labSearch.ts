import type { LabModelInfo, LabSearchResult } from '../../shared/lab/labSearchResult';
import { compareRankings, topK } from '../../shared/lab/rankChanges';
import type { EncoderOps } from '../backend/encoderOps';
import { encodeUnitVectors } from '../mining/miningEmbeddings';
import { loadInferenceModel } from '../model/inferenceModel';
import type { EmbeddingCache } from './embeddingCache';
import { modelFingerprint } from './embeddingCache';
import type { LabCorpus } from './labCorpus';

export interface LabSearchRequest {
  readonly models: readonly [string, string];
  readonly corpus: LabCorpus;
  readonly query: string;
  readonly k: number;
  readonly batchSize: number;
  readonly baseDir: string;
}

export interface LabSearchDependencies {
  readonly ops: EncoderOps;
  readonly cache: EmbeddingCache;
  /** Called as a model encodes the corpus (not when its embeddings come from the cache). */
  readonly onEncoding: (model: string, done: number, total: number) => void;
}

interface ModelScores {
  readonly info: LabModelInfo;
  readonly scores: Float32Array;
}

/**
 * The query's top-k under both models, by cosine similarity against the corpus. Each model is loaded (the query
 * always needs encoding), but the corpus is encoded only when the cache has no entry for that model and corpus.
 */
export async function labSearch(request: LabSearchRequest, dependencies: LabSearchDependencies): Promise<LabSearchResult> {
  const first = await scoresUnder(request.models[0], request, dependencies);
  const second = await scoresUnder(request.models[1], request, dependencies);
  const texts = request.corpus.texts;
  const firstTop = topK(first.scores, request.k);
  const compared = compareRankings(firstTop, topK(second.scores, request.k));
  return {
    query: request.query,
    k: request.k,
    corpus: { file: request.corpus.file, entries: texts.length, sha256: request.corpus.sha256 },
    models: [first.info, second.info],
    first: firstTop.map((hit) => ({ ...hit, text: texts[hit.index]! })),
    second: compared.map((hit) => ({ ...hit, text: texts[hit.index]! })),
  };
}

async function scoresUnder(model: string, request: LabSearchRequest, dependencies: LabSearchDependencies): Promise<ModelScores> {
  const { cache, ops, onEncoding } = dependencies;
  const { corpus, batchSize } = request;
  const loaded = await loadInferenceModel(model, ops, { baseDir: request.baseDir });
  // The second model is loaded after the first is freed, so that two large models never share the memory.
  try {
    const fingerprint = modelFingerprint(model, request.baseDir);
    const cached = cache.read(fingerprint, corpus.sha256, corpus.texts.length);
    let vectors: readonly Float32Array[];
    let cacheFile: string;
    if (cached) {
      ({ vectors, file: cacheFile } = cached);
    } else {
      onEncoding(model, 0, corpus.texts.length);
      vectors = await encodeUnitVectors(loaded.embedder, corpus.texts, batchSize, (done) => onEncoding(model, done, corpus.texts.length));
      cacheFile = cache.write(model, fingerprint, corpus.sha256, vectors);
    }
    const [query] = await encodeUnitVectors(loaded.embedder, [request.query], 1, () => undefined);
    return {
      info: { model, description: loaded.description, cache: cached ? 'hit' : 'miss', cacheFile },
      scores: dotProducts(query!, vectors),
    };
  } finally {
    loaded.embedder.encoder.dispose();
  }
}

function dotProducts(query: Float32Array, vectors: readonly Float32Array[]): Float32Array {
  return Float32Array.from(vectors, (vector) => {
    let sum = 0;
    for (let i = 0; i < vector.length; i++) sum += vector[i]! * query[i]!;
    return sum;
  });
}
