import { snapshotVariables } from '../model/variableSnapshot';
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensors } from '../model/namedTensors';
import { classificationLoss, type FocalSettings } from './classificationLoss';

/** What the head reads: one pooled text, or a pair as sentence-transformers' SoftmaxLoss concatenates it (u, v, |u − v|). */
export type HeadInput = 'text' | 'pair';

/**
 * A linear classifier on sentence embeddings, trained with softmax cross-entropy: for a classification task on
 * (text, label) rows, or SoftmaxLoss on labelled pairs such as NLI. Initialised as `torch.nn.Linear` is.
 */
export class ClassificationHead {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    readonly labels: readonly string[],
    readonly input: HeadInput,
    embeddingDimension: number,
    seed: number,
    /** Per-class weights in the order of `labels` (loss.class_weights); the loss becomes their weighted mean. */
    readonly classWeights?: readonly number[],
  ) {
    if (classWeights && classWeights.length !== labels.length)
      throw new Error(`${classWeights.length} class weights were given for ${labels.length} classes.`);
    const features = input === 'pair' ? 3 * embeddingDimension : embeddingDimension;
    const bound = 1 / Math.sqrt(features);
    this.weight = ownedVariable(tf.randomUniform([features, labels.length], -bound, bound, 'float32', seed));
    this.bias = ownedVariable(tf.randomUniform([labels.length], -bound, bound, 'float32', seed + 1));
  }

  /** The head's variables by the names checkpoints and the optimizer use. */
  get variables(): Map<string, tf.Variable> {
    return new Map([
      ['classifier.weight', this.weight],
      ['classifier.bias', this.bias],
    ]);
  }

  features(first: tf.Tensor2D, second?: tf.Tensor2D): tf.Tensor2D {
    if (this.input === 'text') return first;
    if (!second) throw new Error('A pair head needs both sentences of each pair.');
    return tf.concat([first, second, tf.abs(tf.sub(first, second)) as tf.Tensor2D], 1);
  }

  logits(features: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(features, this.weight), this.bias);
  }

  /** The loss of the head's logits (classificationLoss: softmax, or focal; class weights if given). */
  loss(features: tf.Tensor2D, labelIndices: Int32Array, focal?: FocalSettings): tf.Scalar {
    return tf.tidy(() => classificationLoss(this.logits(features), labelIndices, this.labels, { focal, classWeights: this.classWeights }));
  }

  /** The most likely label of each row. */
  async predict(features: tf.Tensor2D): Promise<string[]> {
    const indices = tf.tidy(() => tf.argMax(this.logits(features), -1));
    const data = await indices.data();
    indices.dispose();
    return Array.from(data, (index) => this.labels[index]!);
  }

  indexOf(label: string): number {
    const index = this.labels.indexOf(label);
    if (index === -1) throw new Error(`The label "${label}" was not in the training data (labels: ${this.labels.join(', ')}).`);
    return index;
  }

  snapshot(): Promise<NamedTensors> {
    return snapshotVariables(this.variables);
  }

  restore(weights: NamedTensors): void {
    for (const [name, variable] of this.variables) {
      const saved = weights.get(name);
      if (!saved) throw new Error(`The checkpoint has no "${name}" for the classification head.`);
      variable.assign(tf.tensor(saved.data as Float32Array, variable.shape, 'float32'));
    }
  }
}

function ownedVariable(initial: tf.Tensor): tf.Variable {
  const variable = tf.variable(initial, true);
  initial.dispose();
  return variable;
}

/** The labels a head predicts: every label of the training rows, sorted, so that indices do not depend on row order. */
export function labelsOf(examples: readonly { label: string | number }[]): string[] {
  return [...new Set(examples.map((example) => String(example.label)))].sort();
}

/**
 * Weights that balance classes, as scikit-learn's `compute_class_weight('balanced')`: n / (k · n_c) for each of the
 * k `labels`, where n_c counts the label among the n `observed` values. A label never observed gets weight 0.
 */
export function balancedClassWeights(labels: readonly string[], observed: readonly string[]): number[] {
  const counts = new Map<string, number>();
  for (const label of observed) counts.set(label, (counts.get(label) ?? 0) + 1);
  return labels.map((label) => {
    const count = counts.get(label) ?? 0;
    return count === 0 ? 0 : observed.length / (labels.length * count);
  });
}
