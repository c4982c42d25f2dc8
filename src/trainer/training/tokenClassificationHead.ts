import { snapshotVariables } from '../model/variableSnapshot';
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensors } from '../model/namedTensors';
import type { LossType } from '../../shared/config/configTypes';
import { argmaxDecode, crfNegativeLogLikelihood, viterbiDecode, type HostCrf } from './crf';

/** How the head turns emissions into a loss and a prediction: a CRF over the sentence, or each word on its own. */
export type TokenObjective = Extract<LossType, 'crf' | 'softmax' | 'focal'>;

export function isTokenObjective(loss: LossType): loss is TokenObjective {
  return loss === 'crf' || loss === 'softmax' || loss === 'focal';
}

export interface TokenLossSettings {
  readonly focal?: { readonly gamma: number; readonly alpha: number | readonly number[] };
}

const EMISSION_WEIGHT = 'token_classifier.weight';
const EMISSION_BIAS = 'token_classifier.bias';
/** pytorch-crf's parameter names, so that the exported CRF reads the same in Python. */
const CRF_TRANSITIONS = 'crf.transitions';
const CRF_START = 'crf.start_transitions';
const CRF_END = 'crf.end_transitions';

/**
 * A tagger on the encoder's token outputs: a linear layer gives each word (its first word piece) one emission score
 * per tag, and with the `crf` objective a linear-chain CRF scores tag sequences on top, trained by its negative
 * log-likelihood and decoded by Viterbi. `softmax` and `focal` score each word on its own and decode by argmax.
 */
export class TokenClassificationHead {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly transitions?: tf.Variable;
  readonly start?: tf.Variable;
  readonly end?: tf.Variable;

  constructor(
    readonly labels: readonly string[],
    readonly objective: TokenObjective,
    readonly hiddenSize: number,
    seed: number,
    /** Per-tag weights of the word-level losses (softmax, focal), in the order of `labels`. */
    readonly classWeights?: readonly number[],
  ) {
    if (labels.length < 2)
      throw new Error(
        `Token classification needs at least two tags in the training data, but found ${labels.length} (${labels.join(', ')}).`,
      );
    const k = labels.length;
    // Initialised as torch.nn.Linear and pytorch-crf's CRF are.
    const bound = 1 / Math.sqrt(hiddenSize);
    this.weight = ownedVariable(tf.randomUniform([hiddenSize, k], -bound, bound, 'float32', seed));
    this.bias = ownedVariable(tf.randomUniform([k], -bound, bound, 'float32', seed + 1));
    if (objective === 'crf') {
      this.transitions = ownedVariable(tf.randomUniform([k, k], -0.1, 0.1, 'float32', seed + 2));
      this.start = ownedVariable(tf.randomUniform([k], -0.1, 0.1, 'float32', seed + 3));
      this.end = ownedVariable(tf.randomUniform([k], -0.1, 0.1, 'float32', seed + 4));
    }
  }

  /** The head's variables by the names checkpoints, the optimizer and the export use. */
  get variables(): Map<string, tf.Variable> {
    const variables = new Map([
      [EMISSION_WEIGHT, this.weight],
      [EMISSION_BIAS, this.bias],
    ]);
    if (this.transitions && this.start && this.end) {
      variables.set(CRF_TRANSITIONS, this.transitions);
      variables.set(CRF_START, this.start);
      variables.set(CRF_END, this.end);
    }
    return variables;
  }

  parameterCount(): number {
    let count = 0;
    for (const variable of this.variables.values()) count += variable.size;
    return count;
  }

  /**
   * Emission scores [batch, words, tags] from the encoder's token outputs [batch, seqLength, hidden]: the output at
   * each word's first piece (`firstPieces`, flat row-major [batch, words] positions) through the linear layer.
   */
  emissions(tokenOutputs: tf.Tensor3D, firstPieces: Int32Array, words: number): tf.Tensor3D {
    const [batch, seqLength, hidden] = tokenOutputs.shape;
    return tf.tidy(() => {
      const flat = tf.reshape(tokenOutputs, [batch * seqLength, hidden]) as tf.Tensor2D;
      const firsts = tf.gather(flat, tf.tensor1d(firstPieces, 'int32'));
      const scores = tf.add(tf.matMul(firsts, this.weight), this.bias);
      return tf.reshape(scores, [batch, words, this.labels.length]) as tf.Tensor3D;
    });
  }

  /**
   * The training loss of a batch. `tags` holds tag indices row-major [batch, words]; positions at or past a row's
   * length are ignored. crf: the mean over sentences of −log p(gold path). softmax: mean cross-entropy over words,
   * weighted by `classWeights` as torch's CrossEntropyLoss(weight=…) does. focal: −α (1 − p)^γ log p per word.
   */
  loss(emissions: tf.Tensor3D, tags: Int32Array, lengths: readonly number[], settings: TokenLossSettings = {}): tf.Scalar {
    const [batch, words, k] = emissions.shape;
    return tf.tidy(() => {
      if (this.objective === 'crf') {
        const perSentence = crfNegativeLogLikelihood(
          emissions,
          { transitions: this.transitions as tf.Tensor2D, start: this.start as tf.Tensor1D, end: this.end as tf.Tensor1D },
          { tags, lengths },
        );
        const sentences = Math.max(1, lengths.filter((length) => length > 0).length);
        return tf.div(tf.sum(perSentence), sentences) as tf.Scalar;
      }
      const mask = new Float32Array(batch * words);
      lengths.forEach((length, b) => mask.fill(1, b * words, b * words + length));
      const tagTensor = tf.tensor1d(tags, 'int32');
      const logP = tf.sum(tf.mul(tf.oneHot(tagTensor, k), tf.logSoftmax(tf.reshape(emissions, [batch * words, k]))), -1);
      let perWord: tf.Tensor = tf.neg(logP);
      if (this.objective === 'focal') {
        const focal = settings.focal ?? { gamma: 2, alpha: 0.25 };
        const alphas = Array.isArray(focal.alpha) ? focal.alpha : this.labels.map(() => focal.alpha as number);
        if (alphas.length !== k)
          throw new Error(`loss.alpha lists ${alphas.length} weights, but the data has ${k} tags (${this.labels.join(', ')}).`);
        const alpha = tf.gather(tf.tensor1d(alphas as number[]), tagTensor);
        perWord = tf.mul(tf.mul(alpha, tf.pow(tf.sub(1, tf.exp(logP)), focal.gamma)), perWord);
      }
      const weights = tf.mul(tf.tensor1d(mask), this.classWeights ? tf.gather(tf.tensor1d(this.classWeights as number[]), tagTensor) : 1);
      return tf.div(tf.sum(tf.mul(perWord, weights)), tf.maximum(tf.sum(weights), 1e-12)) as tf.Scalar;
    });
  }

  /** Tag indices of each row by Viterbi (crf) or per-word argmax, from emissions of shape [batch, words, tags]. */
  async decode(emissions: tf.Tensor3D, lengths: readonly number[]): Promise<number[][]> {
    const data = (await emissions.data()) as Float32Array;
    const words = emissions.shape[1];
    if (this.objective !== 'crf') return argmaxDecode(data, words, lengths, this.labels.length);
    return viterbiDecode(data, words, lengths, await this.hostCrf());
  }

  async hostCrf(): Promise<HostCrf> {
    if (!this.transitions || !this.start || !this.end) throw new Error('This head has no CRF.');
    return {
      tagCount: this.labels.length,
      transitions: Float32Array.from((await this.transitions.data()) as Float32Array),
      start: Float32Array.from((await this.start.data()) as Float32Array),
      end: Float32Array.from((await this.end.data()) as Float32Array),
    };
  }

  indexOf(tag: string): number {
    const index = this.labels.indexOf(tag);
    if (index === -1) throw new Error(`The tag "${tag}" was not in the training data (tags: ${this.labels.join(', ')}).`);
    return index;
  }

  snapshot(): Promise<NamedTensors> {
    return snapshotVariables(this.variables);
  }

  restore(weights: NamedTensors): void {
    for (const [name, variable] of this.variables) {
      const saved = weights.get(name);
      if (!saved) throw new Error(`The checkpoint has no "${name}" for the token-classification head.`);
      if (saved.shape.join(',') !== variable.shape.join(',')) {
        throw new Error(
          `The checkpoint's "${name}" has shape [${saved.shape.join(', ')}], but this head has [${variable.shape.join(', ')}] for ${this.labels.length} tags (${this.labels.join(', ')}); resume with the data and model it was trained with.`,
        );
      }
      variable.assign(tf.tensor(saved.data as Float32Array, variable.shape, 'float32'));
    }
  }

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
  }
}

function ownedVariable(initial: tf.Tensor): tf.Variable {
  const variable = tf.variable(initial, true);
  initial.dispose();
  return variable;
}

/** The tags a head predicts: every tag of the training rows, sorted, so that indices do not depend on row order. */
export function tagsOf(examples: readonly { tags: readonly string[] }[]): string[] {
  return [...new Set(examples.flatMap((example) => example.tags))].sort();
}
