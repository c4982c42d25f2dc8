import type { EncoderOps } from '../backend/encoderOps';
import { encodeUnitVectors } from '../mining/miningEmbeddings';
import { loadInferenceModel } from '../model/inferenceModel';
import { modelFingerprint, type EmbeddingCache } from './embeddingCache';
import type { LabCorpus } from './labCorpus';

export interface CorpusVectors {
  readonly vectors: readonly Float32Array[];
  readonly cache: 'hit' | 'miss';
  /** The cache entry's `.f32` file; the map keeps its projections beside it. */
  readonly cacheFile: string;
}

export interface CorpusVectorsDependencies {
  /** The backend, asked for only when a model must be encoded: a corpus already cached never starts one. */
  readonly ops: () => Promise<EncoderOps>;
  readonly cache: EmbeddingCache;
  readonly onEncoding: (model: string, done: number, total: number) => void;
}

/**
 * A model's unit vectors for the corpus: from the Lab's cache when it has them (the model is then never loaded), else
 * encoded with the trainer's own path (the same as lab-search's, so both fill and read one cache) and stored.
 */
export async function corpusVectors(
  model: string,
  corpus: LabCorpus,
  options: { batchSize: number; baseDir: string },
  { ops, cache, onEncoding }: CorpusVectorsDependencies,
): Promise<CorpusVectors> {
  const fingerprint = modelFingerprint(model, options.baseDir);
  const cached = cache.read(fingerprint, corpus.sha256, corpus.texts.length);
  if (cached) return { vectors: cached.vectors, cache: 'hit', cacheFile: cached.file };
  const loaded = await loadInferenceModel(model, await ops(), { baseDir: options.baseDir });
  try {
    const total = corpus.texts.length;
    onEncoding(model, 0, total);
    const vectors = await encodeUnitVectors(loaded.embedder, corpus.texts, options.batchSize, (done) => onEncoding(model, done, total));
    return { vectors, cache: 'miss', cacheFile: cache.write(model, fingerprint, corpus.sha256, vectors) };
  } finally {
    loaded.embedder.encoder.dispose();
  }
}
