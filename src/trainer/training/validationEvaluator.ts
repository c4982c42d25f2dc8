import { metricFamily } from '../../shared/config/taskRequirements';
import type { MetricValues } from '../../shared/events/runEvents';
import type { Example, ExampleKind } from '../data/trainingExamples';
import { pearson, spearman } from '../evaluation/correlation';
import { rankingMetrics } from '../evaluation/rankingMetrics';
import { buildRetrievalEvalSet, type RetrievalPair } from '../evaluation/retrievalEvalSet';
import type { SentenceEmbedder } from '../model/sentenceEmbedder';

/** Gold scores at or above this count as relevant when scored pairs are evaluated as retrieval. */
const RELEVANT_SCORE = 0.5;

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
  ) {
    this.pairs = examples as unknown as ValidationPair[];
  }

  get size(): number {
    return this.pairs.length;
  }

  async evaluate(embedder: SentenceEmbedder, batchSize: number): Promise<MetricValues> {
    const values: MetricValues = {};
    if (this.pairs.length === 0) {
      for (const metric of this.metrics) values[metric] = null;
      return values;
    }
    const ranking = this.metrics.filter((metric) => metricFamily(metric) === 'ranking');
    if (ranking.length > 0) Object.assign(values, await this.retrieval(embedder, ranking, batchSize));
    const pairwise = this.metrics.filter((metric) => metricFamily(metric) !== 'ranking');
    if (pairwise.length > 0) {
      const cosines = await this.pairCosines(embedder, batchSize);
      for (const metric of pairwise) values[metric] = this.pairMetric(metric, cosines);
    }
    return values;
  }

  private async retrieval(embedder: SentenceEmbedder, metrics: string[], batchSize: number): Promise<MetricValues> {
    const judged: RetrievalPair[] = this.pairs.map((pair) => ({
      anchor: pair.anchor,
      positive: pair.positive,
      relevant:
        this.kind === 'scored-pair' ? (pair.score ?? 0) >= RELEVANT_SCORE : this.kind === 'contrastive-pair' ? pair.label === 1 : true,
    }));
    const set = buildRetrievalEvalSet(judged);
    if (set.queries.length === 0) return Object.fromEntries(metrics.map((metric) => [metric, null]));
    const queries = unitVectors(await embedder.encode(set.queries, batchSize));
    const corpus = unitVectors(await embedder.encode(set.corpus, batchSize));
    const dim = embedder.dimension;
    const data = new Float32Array(queries.length * corpus.length);
    for (let q = 0; q < queries.length; q++)
      for (let d = 0; d < corpus.length; d++) data[q * corpus.length + d] = dot(queries[q]!, corpus[d]!, dim);
    const result = rankingMetrics({ data, queries: queries.length, corpus: corpus.length }, set.relevant, metrics);
    return Object.fromEntries(Object.entries(result).map(([name, value]) => [name, Number.isFinite(value) ? value : null]));
  }

  private async pairCosines(embedder: SentenceEmbedder, batchSize: number): Promise<Float32Array> {
    const anchors = unitVectors(
      await embedder.encode(
        this.pairs.map((pair) => pair.anchor),
        batchSize,
      ),
    );
    const positives = unitVectors(
      await embedder.encode(
        this.pairs.map((pair) => pair.positive),
        batchSize,
      ),
    );
    return Float32Array.from(anchors, (anchor, i) => dot(anchor, positives[i]!, embedder.dimension));
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

function unitVectors(vectors: Float32Array[]): Float32Array[] {
  return vectors.map((vector) => {
    let norm = 0;
    for (const x of vector) norm += x * x;
    norm = Math.max(Math.sqrt(norm), 1e-12);
    return vector.map((x) => x / norm);
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
