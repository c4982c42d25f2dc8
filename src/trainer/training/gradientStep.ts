import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers kernels' gradients only on request; training needs every one of them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { DropoutSource, mixSeed } from '../model/bert/dropoutSource';
import type { SentenceEmbedder } from '../model/sentenceEmbedder';
import type { ClassificationHead } from './classificationHead';
import { embeddingLoss, type EmbeddingLossName, type LossParameters, type LossTargets, type RoleEmbeddings } from './embeddingLosses';

/** One micro-batch of texts by role, with the targets its loss needs. */
export interface TextBatch {
  readonly anchor: readonly string[];
  readonly positive: readonly string[];
  readonly negative?: readonly string[];
  readonly targets: LossTargets;
}

export interface LossSettings extends LossParameters {
  readonly name: EmbeddingLossName;
  /** Chunk size for the gradient cache (cached_mnrl). */
  readonly miniBatchSize: number;
}

export interface StepGradients {
  readonly loss: number;
  /** By Hugging Face weight name; the caller owns and disposes the tensors. */
  readonly gradients: Map<string, tf.Tensor>;
}

/**
 * Where a forward pass sits in training. Its dropout masks derive from this, so a pass replayed with the same
 * coordinates (the gradient cache's second pass, or a resumed run) draws exactly the same masks.
 */
export interface PassCoordinates {
  readonly seed: number;
  readonly step: number;
  readonly microBatch: number;
  /** The epoch the micro-batch's rows are drawn in: image augmentations are keyed by it (the loop sets it). */
  readonly epoch?: number;
}

/** Loss and gradients of one micro-batch, for every trainable variable. */
export function microBatchGradients(
  embedder: SentenceEmbedder,
  trainable: ReadonlyMap<string, tf.Variable>,
  batch: TextBatch,
  loss: LossSettings,
  coordinates: PassCoordinates,
  training = true,
): StepGradients {
  return loss.name === 'cached_mnrl'
    ? cachedGradients(embedder, trainable, batch, loss, coordinates, training)
    : directGradients(embedder, trainable, batch, loss, coordinates, training);
}

function allTexts(batch: TextBatch): string[] {
  return [...batch.anchor, ...batch.positive, ...(batch.negative ?? [])];
}

function splitRoles(embeddings: tf.Tensor2D, batch: TextBatch): RoleEmbeddings {
  const n = batch.anchor.length;
  const anchor = tf.slice(embeddings, [0, 0], [n, -1]);
  const positive = tf.slice(embeddings, [n, 0], [batch.positive.length, -1]);
  const negative = batch.negative ? tf.slice(embeddings, [n + batch.positive.length, 0], [batch.negative.length, -1]) : undefined;
  return { anchor, positive, ...(negative ? { negative } : {}) };
}

function dropoutFor(coordinates: PassCoordinates, chunk: number, training: boolean): DropoutSource | undefined {
  return training ? DropoutSource.forPass(mixSeed(coordinates.seed, coordinates.microBatch), coordinates.step, chunk) : undefined;
}

function byName(trainable: ReadonlyMap<string, tf.Variable>, grads: tf.NamedTensorMap): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, variable] of trainable) {
    const gradient = grads[variable.name];
    if (gradient) out.set(name, gradient);
  }
  return out;
}

/** All roles go through the encoder as one padded batch: masking makes each row's result independent of the others. */
function directGradients(
  embedder: SentenceEmbedder,
  trainable: ReadonlyMap<string, tf.Variable>,
  batch: TextBatch,
  loss: LossSettings,
  coordinates: PassCoordinates,
  training: boolean,
): StepGradients {
  return lossAndGradients(trainable, () => {
    const embeddings = embedder.embed(allTexts(batch), dropoutFor(coordinates, 0, training));
    return embeddingLoss(loss.name, splitRoles(embeddings, batch), batch.targets, loss);
  });
}

function lossAndGradients(trainable: ReadonlyMap<string, tf.Variable>, loss: () => tf.Scalar): StepGradients {
  const { value, grads } = tf.variableGrads(loss, [...trainable.values()]);
  const lossValue = value.dataSync()[0]!;
  value.dispose();
  return { loss: lossValue, gradients: byName(trainable, grads) };
}

/**
 * The gradient cache (Gao et al., 2021), as sentence-transformers' CachedMNRL: embed every chunk without a tape,
 * take the loss gradient with respect to the embeddings, then replay each chunk with a tape and back-propagate
 * that gradient. The result equals the full-batch gradient while only one chunk's activations are alive at a time.
 */
function cachedGradients(
  embedder: SentenceEmbedder,
  trainable: ReadonlyMap<string, tf.Variable>,
  batch: TextBatch,
  loss: LossSettings,
  coordinates: PassCoordinates,
  training: boolean,
): StepGradients {
  const texts = allTexts(batch);
  const chunks: string[][] = [];
  for (let start = 0; start < texts.length; start += loss.miniBatchSize) chunks.push(texts.slice(start, start + loss.miniBatchSize));

  const embeddings = tf.tidy(
    () => tf.concat(chunks.map((chunk, i) => embedder.embed(chunk, dropoutFor(coordinates, i, training)))) as tf.Tensor2D,
  );
  const { value, grad } = tf.valueAndGrad((e: tf.Tensor2D) => embeddingLoss(loss.name, splitRoles(e, batch), batch.targets, loss))(
    embeddings,
  );
  embeddings.dispose();

  const gradients = new Map<string, tf.Tensor>();
  let offset = 0;
  chunks.forEach((chunk, i) => {
    const upstream = tf.slice(grad, [offset, 0], [chunk.length, -1]);
    offset += chunk.length;
    const { value: surrogate, grads } = tf.variableGrads(
      () => tf.sum(tf.mul(embedder.embed(chunk, dropoutFor(coordinates, i, training)), upstream)) as tf.Scalar,
      [...trainable.values()],
    );
    surrogate.dispose();
    upstream.dispose();
    for (const [name, gradient] of byName(trainable, grads)) {
      const previous = gradients.get(name);
      gradients.set(name, previous ? tf.add(previous, gradient) : gradient);
      if (previous) {
        previous.dispose();
        gradient.dispose();
      }
    }
  });
  const lossValue = value.dataSync()[0]!;
  value.dispose();
  grad.dispose();
  return { loss: lossValue, gradients };
}

/** Adds `next` into `total` (averaging happens once, at the end of accumulation), disposing what is replaced. */
export function accumulate(total: Map<string, tf.Tensor>, next: Map<string, tf.Tensor>): void {
  for (const [name, gradient] of next) {
    const previous = total.get(name);
    if (!previous) {
      total.set(name, gradient);
      continue;
    }
    total.set(name, tf.add(previous, gradient));
    previous.dispose();
    gradient.dispose();
  }
}

export function scaleGradients(gradients: Map<string, tf.Tensor>, factor: number): void {
  if (factor === 1) return;
  for (const [name, gradient] of gradients) {
    gradients.set(name, tf.mul(gradient, factor));
    gradient.dispose();
  }
}

export function disposeGradients(gradients: Map<string, tf.Tensor>): void {
  for (const gradient of gradients.values()) gradient.dispose();
  gradients.clear();
}

/** Rows for a classification head: texts (or pairs) with their label indices. */
export interface LabelledBatch {
  readonly first: readonly string[];
  readonly second?: readonly string[];
  readonly labels: Int32Array;
  readonly focal?: { gamma: number; alpha: number | readonly number[] };
}

/** Loss and gradients of a classification head and the encoder beneath it, for one micro-batch. */
export function classificationGradients(
  embedder: SentenceEmbedder,
  head: ClassificationHead,
  trainable: ReadonlyMap<string, tf.Variable>,
  batch: LabelledBatch,
  coordinates: PassCoordinates,
  training = true,
): StepGradients {
  return lossAndGradients(trainable, () => {
    const texts = [...batch.first, ...(batch.second ?? [])];
    const embeddings = embedder.embed(texts, dropoutFor(coordinates, 0, training));
    const n = batch.first.length;
    const first = tf.slice(embeddings, [0, 0], [n, -1]);
    const second = batch.second ? tf.slice(embeddings, [n, 0], [batch.second.length, -1]) : undefined;
    return head.loss(head.features(first, second), batch.labels, batch.focal);
  });
}
