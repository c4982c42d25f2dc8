import { metricFamily } from '../../shared/config/taskRequirements';

/** Query × corpus similarity scores, row-major: `data[q * corpus + d]` scores document d for query q. */
export interface SimilarityMatrix {
  readonly data: Float32Array | Float64Array;
  readonly queries: number;
  readonly corpus: number;
}

export type RankingMeasure = 'recall' | 'mrr' | 'ndcg' | 'map' | 'accuracy' | 'precision';

export interface RankingMetric {
  readonly name: string;
  readonly measure: RankingMeasure;
  /** The cutoff: only the top k documents of each ranking count. */
  readonly k: number;
}

/**
 * Reads a metric name such as `ndcg@10`. The config's ranking metrics (recall, mrr, ndcg, map;
 * see `metricFamily`) and sentence-transformers' accuracy@k and precision@k are understood.
 */
export function parseRankingMetric(name: string): RankingMetric | undefined {
  const isRanking = metricFamily(name) === 'ranking' || /^(accuracy|precision)@\d+$/.test(name);
  if (!isRanking) return undefined;
  const [measure, cutoff] = name.split('@') as [RankingMeasure, string];
  const k = Number(cutoff);
  return k >= 1 ? { name, measure, k } : undefined;
}

/**
 * Ranking metrics as sentence-transformers' InformationRetrievalEvaluator defines them, averaged
 * over the queries that have at least one relevant document (as there, a query without any is
 * left out; with none left, every metric is NaN). Relevance is binary. For each query and k:
 *
 * - accuracy@k: 1 if any relevant document is in the top k.
 * - precision@k: relevant documents in the top k, divided by k (even when the corpus is smaller than k).
 * - recall@k: relevant documents in the top k, divided by the number of relevant documents.
 * - mrr@k: 1 / rank of the first relevant document in the top k, 0 if there is none.
 * - ndcg@k: DCG of the top k (1 / log2(rank + 1) per relevant document) divided by the ideal DCG,
 *   which has min(k, relevant documents) relevant documents at the top.
 * - map@k: the precision at the rank of each relevant document in the top k, summed and divided
 *   by min(k, relevant documents), not by the number of relevant documents.
 *
 * Equal scores rank in corpus order (the lower index first), so results are deterministic where
 * sentence-transformers' heap order is not. NaN scores rank last.
 */
export function rankingMetrics(
  scores: SimilarityMatrix,
  relevant: readonly (readonly number[])[],
  metricNames: readonly string[],
): Record<string, number> {
  const metrics = metricNames.map((name) => {
    const metric = parseRankingMetric(name);
    if (!metric) throw new RangeError(`"${name}" is not a ranking metric; use e.g. ndcg@10, mrr@10, recall@5 or map@100.`);
    return metric;
  });
  if (scores.data.length !== scores.queries * scores.corpus) {
    throw new RangeError(
      `The similarity matrix holds ${scores.data.length} scores, not ${scores.queries} queries × ${scores.corpus} documents.`,
    );
  }
  if (relevant.length !== scores.queries)
    throw new RangeError(`Got relevant documents for ${relevant.length} queries, but ${scores.queries} queries.`);

  const maxK = Math.max(0, ...metrics.map((metric) => metric.k));
  const sums = new Float64Array(metrics.length);
  let evaluated = 0;
  for (let q = 0; q < scores.queries; q++) {
    const relevantDocs = new Set(relevant[q]);
    if (relevantDocs.size === 0) continue;
    for (const doc of relevantDocs) {
      if (!Number.isInteger(doc) || doc < 0 || doc >= scores.corpus)
        throw new RangeError(`Query ${q} lists document ${doc}, outside the corpus of ${scores.corpus}.`);
    }
    const hits = topK(scores, q, maxK).map((doc) => relevantDocs.has(doc));
    metrics.forEach((metric, m) => (sums[m] += scoreQuery(metric, hits, relevantDocs.size)));
    evaluated++;
  }
  return Object.fromEntries(metrics.map((metric, m) => [metric.name, evaluated === 0 ? Number.NaN : sums[m]! / evaluated]));
}

/** The indices of the k best documents for query q, best first; equal scores in corpus order. */
function topK(scores: SimilarityMatrix, q: number, k: number): number[] {
  const size = Math.min(k, scores.corpus);
  const docs: number[] = [];
  const best: number[] = [];
  const offset = q * scores.corpus;
  for (let d = 0; d < scores.corpus; d++) {
    const raw = scores.data[offset + d]!;
    const score = Number.isNaN(raw) ? Number.NEGATIVE_INFINITY : raw;
    // A later document with an equal score ranks below, so it only enters past the current last.
    if (docs.length === size && !(score > best[size - 1]!)) continue;
    let at = docs.length === size ? size - 1 : docs.length;
    while (at > 0 && best[at - 1]! < score) {
      best[at] = best[at - 1]!;
      docs[at] = docs[at - 1]!;
      at--;
    }
    best[at] = score;
    docs[at] = d;
  }
  return docs;
}

/** One query's value of a metric, from whether each of its top documents is relevant. */
function scoreQuery(metric: RankingMetric, hits: readonly boolean[], relevantCount: number): number {
  const { k } = metric;
  const top = hits.slice(0, k);
  const found = top.filter(Boolean).length;
  switch (metric.measure) {
    case 'accuracy':
      return found > 0 ? 1 : 0;
    case 'precision':
      return found / k;
    case 'recall':
      return found / relevantCount;
    case 'mrr': {
      const first = top.indexOf(true);
      return first < 0 ? 0 : 1 / (first + 1);
    }
    case 'ndcg': {
      const dcg = top.reduce((sum, hit, rank) => (hit ? sum + discount(rank) : sum), 0);
      let ideal = 0;
      for (let rank = 0; rank < Math.min(k, relevantCount); rank++) ideal += discount(rank);
      return dcg / ideal;
    }
    case 'map': {
      let seen = 0;
      let precisionSum = 0;
      top.forEach((hit, rank) => {
        if (!hit) return;
        seen++;
        precisionSum += seen / (rank + 1);
      });
      return precisionSum / Math.min(k, relevantCount);
    }
  }
}

/** The DCG weight of the document at 0-based `rank`. */
function discount(rank: number): number {
  return 1 / Math.log2(rank + 2);
}
