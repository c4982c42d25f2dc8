import type { LossType } from './configTypes';

/** The roles a row can fill; `data.columns` maps each to a column name. */
export const DATA_ROLES = ['anchor', 'positive', 'negative', 'text', 'label', 'score', 'tokens', 'tags', 'image'] as const;
export type DataRole = (typeof DATA_ROLES)[number];

const EMBEDDING_LOSS_ROLES: Record<string, readonly DataRole[]> = {
  mnrl: ['anchor', 'positive'],
  cached_mnrl: ['anchor', 'positive'],
  triplet: ['anchor', 'positive', 'negative'],
  cosent: ['anchor', 'positive', 'score'],
  cosine: ['anchor', 'positive', 'score'],
  contrastive: ['anchor', 'positive', 'label'],
  softmax: ['anchor', 'positive', 'label'],
};

const TASK_LOSSES: Record<string, readonly string[]> = {
  embedding: Object.keys(EMBEDDING_LOSS_ROLES),
  classification: ['softmax', 'focal'],
  'token-classification': ['crf', 'softmax', 'focal'],
  'image-classification': ['softmax', 'focal'],
};

/**
 * The loss a task trains with when `loss.type` is not written: in-batch-negative ranking for pairs, and softmax
 * cross-entropy over the classes (or each word's tag) for classification and token classification.
 */
const TASK_DEFAULT_LOSS: Record<string, LossType> = {
  embedding: 'mnrl',
  classification: 'softmax',
  'token-classification': 'softmax',
  'image-classification': 'softmax',
};

export function defaultLossFor(task: string): LossType {
  return TASK_DEFAULT_LOSS[task] ?? 'mnrl';
}

/**
 * Whether the task and loss train a head on the encoder (a classifier, a tagger with its CRF, or SoftmaxLoss's
 * classifier on pairs), which training.head_learning_rate applies to.
 */
export function trainsTaskHead(task: string, loss: string): boolean {
  return task !== 'embedding' || loss === 'softmax';
}

/** Losses that draw negatives from the rest of the batch, so batch size is a quality knob, not just a speed one. */
export const IN_BATCH_NEGATIVE_LOSSES: readonly string[] = ['mnrl', 'cached_mnrl'];

export function lossesForTask(task: string): readonly string[] {
  return TASK_LOSSES[task] ?? [];
}

/** The columns a task and loss need in every row, or undefined when the pair is not a valid combination. */
export function requiredRoles(task: string, loss: string): readonly DataRole[] | undefined {
  if (!lossesForTask(task).includes(loss)) return undefined;
  if (task === 'classification') return ['text', 'label'];
  if (task === 'token-classification') return ['tokens', 'tags'];
  if (task === 'image-classification') return ['image', 'label'];
  return EMBEDDING_LOSS_ROLES[loss];
}

export type MetricFamily = 'ranking' | 'correlation' | 'classification';

export function metricFamily(metric: string): MetricFamily | undefined {
  if (/^(recall|mrr|ndcg|map)@\d+$/.test(metric)) return 'ranking';
  if (metric === 'spearman' || metric === 'pearson') return 'correlation';
  // `map` without a cutoff is classification mAP (the mean of per-class average precision), not ranking map@k.
  if (['accuracy', 'f1', 'precision', 'recall', 'map'].includes(metric)) return 'classification';
  return undefined;
}

/** Which metric families a task and loss can produce: ranking needs pairs, correlation needs gold scores. */
export function metricFamiliesFor(task: string, loss: string): readonly MetricFamily[] {
  if (task === 'classification' || task === 'token-classification' || task === 'image-classification') return ['classification'];
  const roles = EMBEDDING_LOSS_ROLES[loss] ?? [];
  if (roles.includes('score')) return ['correlation', 'ranking'];
  if (roles.includes('label')) return ['classification', 'ranking'];
  return ['ranking'];
}

const SUGGESTED_METRICS: Record<MetricFamily, readonly string[]> = {
  ranking: ['ndcg@10', 'mrr@10', 'recall@1', 'recall@5', 'recall@10', 'map@100'],
  correlation: ['spearman', 'pearson'],
  classification: ['accuracy', 'f1', 'precision', 'recall'],
};

/** Metrics worth offering for a task and loss, most useful family first. */
export function suggestedMetrics(task: string, loss: string): string[] {
  if (task === 'image-classification') return ['map', ...SUGGESTED_METRICS.classification];
  return metricFamiliesFor(task, loss).flatMap((family) => SUGGESTED_METRICS[family]);
}

/**
 * The metrics evaluated when `evaluation.metrics` is not written; the first is the default primary metric. Each is
 * one the task and loss can compute: NDCG@10 for pairs, Spearman (and Pearson) for scored pairs, macro-F1 (and
 * accuracy) for labels, entity-level F1 (and its precision and recall) for tags, and for images mAP (the seed's
 * figure), accuracy and macro-F1.
 */
export function defaultMetricsFor(task: string, loss: string): string[] {
  if (task === 'token-classification') return ['f1', 'precision', 'recall'];
  if (task === 'classification') return ['f1', 'accuracy'];
  if (task === 'image-classification') return ['map', 'accuracy', 'f1'];
  const roles = EMBEDDING_LOSS_ROLES[loss] ?? [];
  if (roles.includes('score')) return ['spearman', 'pearson'];
  if (roles.includes('label')) return ['f1', 'accuracy'];
  return ['ndcg@10'];
}
