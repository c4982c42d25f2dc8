import { evaluatedMatryoshkaDims, matryoshkaMetricName, type RolePromptTexts } from '../../shared/config/promptSettings';
import { metricFamily } from '../../shared/config/taskRequirements';
import type { MetricValues } from '../../shared/events/runEvents';
import type { Example, ExampleKind } from '../data/trainingExamples';
import { pearson, spearman } from '../evaluation/correlation';
import { rankingMetrics } from '../evaluation/rankingMetrics';
import { buildRetrievalEvalSet, type RetrievalPair } from '../evaluation/retrievalEvalSet';
import type { SentenceEmbedder } from '../model/sentenceEmbedder';
import { withPrompt } from './promptedBatch';

/** Gold scores at or above this count as relevant when scored pairs are evaluated as retrieval. */
const RELEVANT_SCORE = 0.5;

export interface EvaluationOptions {
  /** Anchors (the queries) get the anchor role's prompt, positives (the corpus) the positive role's. */
  readonly prompts?: RolePromptTexts;
  /** loss.matryoshka's dims: `primary` is also reported at each one below the model's dimension. */
  readonly matryoshkaDims?: readonly number[];
  readonly primary?: string;
}

interface ValidationPair {
  anchor: string;
  positive: string;
  score?: number;
  label?: number;
}

/**
 * Computes the configured metrics on the validation examples, the way sentence-transformers' evaluators do:
 * retrieval metrics treat anchors as queries and all positives as the corpus; correlations compare the pair's
 * cosine with its gold score; accuracy and F1 on labelled pairs use the best cosine threshold.
 */
export class ValidationEvaluator {
  private readonly pairs: ValidationPair[];

  constructor(
    private readonly kind: ExampleKind,
    examples: readonly Example[],
    private readonly metrics: readonly string[],
    private readonly options: EvaluationOptions = {},
  ) {
    this.pairs = examples as unknown as ValidationPair[];
  }

  get size(): number {
    return this.pairs.length;
  }

  /** The configured metrics, then the primary one at each Matryoshka dimension (`ndcg@10@dim64`). */
  async evaluate(embedder: SentenceEmbedder, batchSize: number): Promise<MetricValues> {
    const values: MetricValues = {};
    const { primary } = this.options;
    const dims = primary ? evaluatedMatryoshkaDims(this.options.matryoshkaDims, embedder.dimension) : [];
    if (this.pairs.length === 0) {
      for (const metric of this.metrics) values[metric] = null;
      for (const dim of dims) values[matryoshkaMetricName(primary!, dim)] = null;
      return values;
    }
    const ranking = this.metrics.filter((metric) => metricFamily(metric) === 'ranking');
    const pairwise = this.metrics.filter((metric) => metricFamily(metric) !== 'ranking');
    const retrieval =
      ranking.length > 0 || (dims.length > 0 && metricFamily(primary!) === 'ranking')
        ? await this.retrievalVectors(embedder, batchSize)
        : undefined;
    const pairs =
      pairwise.length > 0 || (dims.length > 0 && metricFamily(primary!) !== 'ranking')
        ? await this.pairVectors(embedder, batchSize)
        : undefined;
    const at = (metrics: string[], dim: number): MetricValues => {
      const found: MetricValues = {};
      const rankingHere = metrics.filter((metric) => metricFamily(metric) === 'ranking');
      if (rankingHere.length > 0) Object.assign(found, this.retrieval(retrieval, rankingHere, dim));
      const pairwiseHere = metrics.filter((metric) => metricFamily(metric) !== 'ranking');
      if (pairwiseHere.length > 0) {
        const cosines = pairCosines(pairs!, dim);
        for (const metric of pairwiseHere) found[metric] = this.pairMetric(metric, cosines);
      }
      return found;
    };
    Object.assign(values, at([...this.metrics], embedder.dimension));
    for (const dim of dims) values[matryoshkaMetricName(primary!, dim)] = at([primary!], dim)[primary!] ?? null;
    return values;
  }

  /** Query and corpus vectors, computed once for every dimension evaluated. */
  private async retrievalVectors(embedder: SentenceEmbedder, batchSize: number): Promise<RetrievalVectors | undefined> {
    const judged: RetrievalPair[] = this.pairs.map((pair) => ({
      anchor: pair.anchor,
      positive: pair.positive,
      relevant:
        this.kind === 'scored-pair' ? (pair.score ?? 0) >= RELEVANT_SCORE : this.kind === 'contrastive-pair' ? pair.label === 1 : true,
    }));
    const set = buildRetrievalEvalSet(judged);
    if (set.queries.length === 0) return undefined;
    const prompts = this.options.prompts ?? {};
    return {
      relevant: set.relevant,
      queries: await embedder.encode(withPrompt(set.queries, prompts.anchor), batchSize),
      corpus: await embedder.encode(withPrompt(set.corpus, prompts.positive), batchSize),
    };
  }

  private retrieval(vectors: RetrievalVectors | undefined, metrics: string[], dim: number): MetricValues {
    if (!vectors) return Object.fromEntries(metrics.map((metric) => [metric, null]));
    const queries = unitVectors(vectors.queries, dim);
    const corpus = unitVectors(vectors.corpus, dim);
    const data = new Float32Array(queries.length * corpus.length);
    for (let q = 0; q < queries.length; q++)
      for (let d = 0; d < corpus.length; d++) data[q * corpus.length + d] = dot(queries[q]!, corpus[d]!, dim);
    const result = rankingMetrics({ data, queries: queries.length, corpus: corpus.length }, vectors.relevant, metrics);
    return Object.fromEntries(Object.entries(result).map(([name, value]) => [name, Number.isFinite(value) ? value : null]));
  }

  private async pairVectors(embedder: SentenceEmbedder, batchSize: number): Promise<PairVectors> {
    const prompts = this.options.prompts ?? {};
    const anchors = this.pairs.map((pair) => pair.anchor);
    const positives = this.pairs.map((pair) => pair.positive);
    return {
      anchors: await embedder.encode(withPrompt(anchors, prompts.anchor), batchSize),
      positives: await embedder.encode(withPrompt(positives, prompts.positive), batchSize),
    };
  }

  private pairMetric(metric: string, cosines: Float32Array): number | null {
    if (metric === 'spearman' || metric === 'pearson') {
      if (this.kind !== 'scored-pair') return null;
      const gold = this.pairs.map((pair) => pair.score ?? 0);
      const value = metric === 'spearman' ? spearman(cosines, gold) : pearson(cosines, gold);
      return Number.isFinite(value) ? value : null;
    }
    if (this.kind !== 'contrastive-pair') return null;
    return bestThresholdScore(
      cosines,
      this.pairs.map((pair) => pair.label === 1),
      metric,
    );
  }
}

interface RetrievalVectors {
  readonly relevant: ReturnType<typeof buildRetrievalEvalSet>['relevant'];
  readonly queries: Float32Array[];
  readonly corpus: Float32Array[];
}

interface PairVectors {
  readonly anchors: Float32Array[];
  readonly positives: Float32Array[];
}

function pairCosines({ anchors, positives }: PairVectors, dim: number): Float32Array {
  const a = unitVectors(anchors, dim);
  const p = unitVectors(positives, dim);
  return Float32Array.from(a, (anchor, i) => dot(anchor, p[i]!, dim));
}

/** The first `dim` components of each vector at unit length: a Matryoshka embedding cut to `dim`. */
function unitVectors(vectors: Float32Array[], dim: number): Float32Array[] {
  return vectors.map((vector) => {
    const cut = vector.subarray(0, dim);
    let norm = 0;
    for (const x of cut) norm += x * x;
    norm = Math.max(Math.sqrt(norm), 1e-12);
    return cut.map((x) => x / norm);
  });
}

function dot(a: Float32Array, b: Float32Array, dim: number): number {
  let sum = 0;
  for (let i = 0; i < dim; i++) sum += a[i]! * b[i]!;
  return sum;
}

/**
 * Accuracy, F1, precision or recall of "similar when cosine ≥ t" at the threshold t that maximises accuracy
 * (for accuracy) or F1 (for the others), as sentence-transformers' BinaryClassificationEvaluator searches.
 */
export function bestThresholdScore(cosines: ArrayLike<number>, similar: readonly boolean[], metric: string): number | null {
  const order = Array.from(cosines, (value, index) => ({ value, similar: similar[index]! })).sort((a, b) => b.value - a.value);
  const positives = order.filter((item) => item.similar).length;
  if (order.length === 0) return null;
  let bestAccuracy = (order.length - positives) / order.length;
  let best = { f1: 0, precision: 0, recall: 0 };
  let truePositives = 0;
  for (let i = 0; i < order.length; i++) {
    if (order[i]!.similar) truePositives++;
    // Pairs with equal cosines fall on the same side of any threshold.
    if (i + 1 < order.length && order[i + 1]!.value === order[i]!.value) continue;
    const predicted = i + 1;
    const falsePositives = predicted - truePositives;
    const trueNegatives = order.length - positives - falsePositives;
    bestAccuracy = Math.max(bestAccuracy, (truePositives + trueNegatives) / order.length);
    const precision = truePositives / predicted;
    const recall = positives === 0 ? 0 : truePositives / positives;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    if (f1 > best.f1) best = { f1, precision, recall };
  }
  switch (metric) {
    case 'accuracy':
      return bestAccuracy;
    case 'f1':
      return best.f1;
    case 'precision':
      return best.precision;
    case 'recall':
      return best.recall;
    default:
      return null;
  }
}
