import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { LabColouring, LabMapModel, LabMapResult, LabProjectionMethod } from '../../shared/lab/labMapResult';
import { kMeans } from './kMeans';
import type { LabCorpus } from './labCorpus';
import type { CorpusVectors } from './labCorpusVectors';
import { pca } from './pca';
import { umapProjection } from './umapProjection';

/**
 * A hovered text is shown up to this many characters (the neighbour lists show whole texts): 10,000 long passages
 * would otherwise make a message of tens of MB.
 */
export const MAP_TEXT_CHARACTERS = 1000;

/** Clusters the map colours by, per model: enough to see structure, few enough to tell the colours apart. */
export const MAP_CLUSTERS = 8;

export interface LabMapRequest {
  readonly corpus: LabCorpus;
  readonly models: readonly [string, string];
  readonly vectors: readonly [CorpusVectors, CorpusVectors];
  readonly method: LabProjectionMethod;
  readonly seed: number;
  readonly columns: readonly LabColouring[];
  /** UMAP's progress, per model. */
  readonly onProjecting?: (model: string, done: number, total: number) => void;
}

interface StoredProjection {
  readonly x: number[];
  readonly y: number[];
  readonly clusters: number[];
}

/**
 * The corpus in 2D under both models, each projected on its own (the two layouts are not aligned: a map shows each
 * model's neighbourhoods, and the same point is highlighted in both), with each model's k-means clusters and the
 * corpus's label-like columns as colourings. Projections are stored beside the cached embeddings they come from, so
 * that reopening a UMAP map is instant.
 */
export function labMap(request: LabMapRequest): LabMapResult {
  const { corpus, method, seed } = request;
  const projections = request.vectors.map((vectors, m) => projectionOf(vectors, request.models[m]!, request));
  const models = projections.map(
    (projection, m): LabMapModel => ({ model: request.models[m]!, cache: request.vectors[m]!.cache, x: projection.x, y: projection.y }),
  ) as [LabMapModel, LabMapModel];
  const clusterings = projections.map(
    (projection, m): LabColouring => ({
      name: `clusters of ${m === 0 ? 'the first' : 'the second'} model`,
      categories: Array.from({ length: Math.max(0, ...projection.clusters) + 1 }, (_, c) => `cluster ${c + 1}`),
      codes: projection.clusters,
    }),
  );
  return {
    corpus: { file: corpus.file, entries: corpus.texts.length, sha256: corpus.sha256 },
    method,
    seed,
    texts: corpus.texts.map(preview),
    models,
    colourings: [...request.columns, ...clusterings],
  };
}

function projectionOf(vectors: CorpusVectors, model: string, request: LabMapRequest): StoredProjection {
  const file = vectors.cacheFile.replace(/\.f32$/, `.${request.method}-${request.seed}.json`);
  const stored = readStored(file, vectors.vectors.length);
  if (stored) return stored;
  const [x, y] =
    request.method === 'pca'
      ? pca(vectors.vectors).coordinates
      : umapProjection(vectors.vectors, request.seed, (done, total) => request.onProjecting?.(model, done, total));
  const projection: StoredProjection = {
    x: rounded(x ?? new Float64Array(vectors.vectors.length)),
    y: rounded(y ?? new Float64Array(vectors.vectors.length)),
    clusters: [...kMeans(vectors.vectors, MAP_CLUSTERS, request.seed)],
  };
  writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(projection));
  renameSync(`${file}.${process.pid}.tmp`, file);
  return projection;
}

/** A stored projection, or undefined when there is none or it does not fit the vectors (a damaged entry). */
function readStored(file: string, count: number): StoredProjection | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const stored = JSON.parse(readFileSync(file, 'utf8')) as StoredProjection;
    const fits = [stored.x, stored.y, stored.clusters].every((values) => Array.isArray(values) && values.length === count);
    return fits ? stored : undefined;
  } catch {
    return undefined;
  }
}

/** Six significant digits are more than a canvas can show, and keep the JSON for 10,000 points small. */
function rounded(values: Float64Array): number[] {
  return Array.from(values, (value) => Number(value.toPrecision(6)));
}

function preview(text: string): string {
  return text.length <= MAP_TEXT_CHARACTERS ? text : `${text.slice(0, MAP_TEXT_CHARACTERS)}…`;
}
