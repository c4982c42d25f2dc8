import * as tf from '@tensorflow/tfjs-core';
import type { EmbeddingLossType } from '../../shared/config/configTypes';

/** Sentence embeddings of one batch, by the role each text plays, and the batch's gold targets. */
export interface RoleEmbeddings {
  readonly anchor: tf.Tensor2D;
  readonly positive: tf.Tensor2D;
  readonly negative?: tf.Tensor2D;
}

export interface LossTargets {
  /** Gold similarity in [0, 1] for CoSENT and cosine losses. */
  readonly scores?: Float32Array;
  /** 1 for a similar pair, 0 for a dissimilar one, for the contrastive loss. */
  readonly labels?: Float32Array;
}

export interface LossParameters {
  readonly scale: number;
  readonly margin: number;
  /** Set for sentence-transformers' MatryoshkaLoss around the named loss. */
  readonly matryoshka?: MatryoshkaParameters;
}

export interface MatryoshkaParameters {
  readonly dims: readonly number[];
  /** One per entry of dims. */
  readonly weights: readonly number[];
}

/** Declared once with the config types, as `loss.type`'s embedding losses. */
export type { EmbeddingLossType as EmbeddingLossName };

/** Each loss follows the sentence-transformers class of the same name, so that results carry over between the two. */
export function embeddingLoss(
  name: EmbeddingLossType,
  embeddings: RoleEmbeddings,
  targets: LossTargets,
  parameters: LossParameters,
): tf.Scalar {
  return parameters.matryoshka
    ? matryoshkaLoss(parameters.matryoshka, embeddings, (truncated) => baseLoss(name, truncated, targets, parameters))
    : baseLoss(name, embeddings, targets, parameters);
}

/**
 * sentence-transformers' MatryoshkaLoss: Σ weight_d · loss(embeddings cut to their first d components and
 * normalized to unit length again). It normalizes at every d, the full size included, as its `shrink` does, so
 * with `model.normalize: false` the Euclidean triplet loss sees unit vectors here.
 */
export function matryoshkaLoss(
  { dims, weights }: MatryoshkaParameters,
  embeddings: RoleEmbeddings,
  loss: (truncated: RoleEmbeddings) => tf.Scalar,
): tf.Scalar {
  return tf.tidy(() => {
    checkMatryoshkaDims(dims, embeddings.anchor.shape[1]);
    let total: tf.Scalar = tf.scalar(0);
    dims.forEach((dim, i) => {
      const cut = (x: tf.Tensor2D) => unit(tf.slice(x, [0, 0], [-1, dim]));
      const truncated: RoleEmbeddings = {
        anchor: cut(embeddings.anchor),
        positive: cut(embeddings.positive),
        ...(embeddings.negative ? { negative: cut(embeddings.negative) } : {}),
      };
      total = tf.add(total, tf.mul(loss(truncated), weights[i] ?? 1));
    });
    return total;
  });
}

/** Checked before training starts too, as MatryoshkaLoss's constructor checks: a run should not fail at its first step. */
export function checkMatryoshkaDims(dims: readonly number[], dimension: number): void {
  const tooLarge = dims.find((dim) => dim > dimension);
  if (tooLarge !== undefined)
    throw new Error(
      `loss.matryoshka.dims has ${tooLarge}, more than the model's embedding dimension ${dimension}; use at most ${dimension}.`,
    );
}

function baseLoss(name: EmbeddingLossType, embeddings: RoleEmbeddings, targets: LossTargets, parameters: LossParameters): tf.Scalar {
  switch (name) {
    case 'mnrl':
    case 'cached_mnrl':
      return multipleNegativesRanking(embeddings, parameters.scale);
    case 'cosent':
      return cosent(embeddings, required(targets.scores, 'score'), parameters.scale);
    case 'cosine':
      return cosineSimilarity(embeddings, required(targets.scores, 'score'));
    case 'contrastive':
      return contrastive(embeddings, required(targets.labels, 'label'), parameters.margin);
    case 'triplet':
      return triplet(embeddings, parameters.margin);
  }
}

function required<T>(value: T | undefined, role: string): T {
  if (value === undefined) throw new Error(`This loss needs a "${role}" value for every row.`);
  return value;
}

export function cosineMatrix(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(unit(a), unit(b), false, true);
}

function unit(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.maximum(tf.norm(x, 'euclidean', -1, true), 1e-12)) as tf.Tensor2D;
}

function pairCosine(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.mul(unit(a), unit(b)), -1) as tf.Tensor1D;
}

/** MultipleNegativesRankingLoss: each anchor must rank its own positive above every other candidate in the batch. */
export function multipleNegativesRanking({ anchor, positive, negative }: RoleEmbeddings, scale: number): tf.Scalar {
  return tf.tidy(() => {
    const candidates = negative ? tf.concat([positive, negative], 0) : positive;
    const logits = tf.mul(cosineMatrix(anchor, candidates), scale);
    const rows = anchor.shape[0];
    const targets = tf.oneHot(tf.range(0, rows, 1, 'int32'), candidates.shape[0]);
    return tf.mean(tf.neg(tf.sum(tf.mul(targets, tf.logSoftmax(logits)), -1))) as tf.Scalar;
  });
}

/** CoSENT: log(1 + Σ exp(scale·(cos_j − cos_i))) over pairs where pair i has the higher gold score. */
export function cosent({ anchor, positive }: RoleEmbeddings, scores: Float32Array, scale: number): tf.Scalar {
  return tf.tidy(() => {
    const predicted = tf.mul(pairCosine(anchor, positive), scale);
    const n = scores.length;
    const differences = tf.sub(tf.expandDims(predicted, 1), tf.expandDims(predicted, 0));
    const lowerGold = new Float32Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) lowerGold[i * n + j] = scores[i]! < scores[j]! ? 1 : 0;
    const mask = tf.tensor2d(lowerGold, [n, n]);
    const masked = tf.sub(differences, tf.mul(tf.sub(1, mask), 1e12));
    return tf.logSumExp(tf.concat([tf.zeros([1]), tf.reshape(masked, [-1])])) as tf.Scalar;
  });
}

/** CosineSimilarityLoss: mean squared error between the pair's cosine and its gold score. */
export function cosineSimilarity({ anchor, positive }: RoleEmbeddings, scores: Float32Array): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(pairCosine(anchor, positive), tf.tensor1d(scores))) as tf.Scalar);
}

/** ContrastiveLoss with cosine distance: pull similar pairs together, push dissimilar ones beyond the margin. */
export function contrastive({ anchor, positive }: RoleEmbeddings, labels: Float32Array, margin: number): tf.Scalar {
  return tf.tidy(() => {
    const distance = tf.sub(1, pairCosine(anchor, positive));
    const y = tf.tensor1d(labels);
    const similar = tf.mul(y, tf.square(distance));
    const dissimilar = tf.mul(tf.sub(1, y), tf.square(tf.relu(tf.sub(margin, distance))));
    return tf.mean(tf.mul(0.5, tf.add(similar, dissimilar))) as tf.Scalar;
  });
}

/** TripletLoss with Euclidean distance: the positive must be closer than the negative by the margin. */
export function triplet({ anchor, positive, negative }: RoleEmbeddings, margin: number): tf.Scalar {
  return tf.tidy(() => {
    const n = required(negative, 'negative');
    const toPositive = tf.norm(tf.sub(anchor, positive), 'euclidean', -1);
    const toNegative = tf.norm(tf.sub(anchor, n), 'euclidean', -1);
    return tf.mean(tf.relu(tf.add(tf.sub(toPositive, toNegative), margin))) as tf.Scalar;
  });
}
