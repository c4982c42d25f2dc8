import * as tf from '@tensorflow/tfjs-core';
import { isLayerNormWeight } from '../model/weightNames';

export interface AdamWSettings {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** Names that get no weight decay: biases and LayerNorm weights, as Hugging Face's Trainer does. */
  readonly decays: (name: string) => boolean;
  /**
   * A variable's learning rate as a multiple of the scheduled one, like a torch parameter group with its own lr
   * under the same LambdaLR: a freshly initialised task head takes training.head_learning_rate. 1 where absent.
   */
  readonly learningRateScale?: (name: string) => number;
}

export const DEFAULT_ADAMW: Omit<AdamWSettings, 'weightDecay'> = {
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  decays: (name) => !name.endsWith('.bias') && !isLayerNormWeight(name),
};

/**
 * AdamW with decoupled weight decay, step for step as `torch.optim.AdamW`, so that parity with PyTorch holds.
 * State exists only for the variables it is given: frozen weights cost no optimizer memory.
 */
export class AdamW {
  private readonly firstMoments = new Map<string, tf.Variable>();
  private readonly secondMoments = new Map<string, tf.Variable>();
  step = 0;

  constructor(
    private readonly variables: ReadonlyMap<string, tf.Variable>,
    private readonly settings: AdamWSettings,
  ) {
    for (const [name, variable] of variables) {
      this.firstMoments.set(name, zerosVariable(variable));
      this.secondMoments.set(name, zerosVariable(variable));
    }
  }

  apply(gradients: ReadonlyMap<string, tf.Tensor>, learningRate: number): void {
    this.step++;
    const { beta1, beta2, epsilon, weightDecay, decays, learningRateScale } = this.settings;
    const biasCorrection1 = 1 - beta1 ** this.step;
    const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** this.step);
    for (const [name, variable] of this.variables) {
      const gradient = gradients.get(name);
      if (!gradient) continue;
      const rate = learningRate * (learningRateScale?.(name) ?? 1);
      const stepSize = rate / biasCorrection1;
      tf.tidy(() => {
        const m = this.firstMoments.get(name)!;
        const v = this.secondMoments.get(name)!;
        const decayed = decays(name) && weightDecay > 0 ? tf.mul(variable, 1 - rate * weightDecay) : variable;
        const nextM = tf.add(tf.mul(m, beta1), tf.mul(gradient, 1 - beta1));
        const nextV = tf.add(tf.mul(v, beta2), tf.mul(tf.square(gradient), 1 - beta2));
        const denominator = tf.add(tf.div(tf.sqrt(nextV), biasCorrection2Sqrt), epsilon);
        m.assign(nextM);
        v.assign(nextV);
        variable.assign(tf.sub(decayed, tf.mul(tf.div(nextM, denominator), stepSize)));
      });
    }
  }

  /** Moments by variable name, for checkpoints. */
  async state(): Promise<{ step: number; moments: Map<string, { m: Float32Array; v: Float32Array; shape: number[] }> }> {
    const moments = new Map<string, { m: Float32Array; v: Float32Array; shape: number[] }>();
    for (const [name, m] of this.firstMoments) {
      moments.set(name, {
        m: (await m.data()) as Float32Array,
        v: (await this.secondMoments.get(name)!.data()) as Float32Array,
        shape: [...m.shape],
      });
    }
    return { step: this.step, moments };
  }

  restore(step: number, moments: ReadonlyMap<string, { m: Float32Array; v: Float32Array }>): void {
    this.step = step;
    for (const [name, m] of this.firstMoments) {
      const saved = moments.get(name);
      if (!saved) throw new Error(`The checkpoint's optimizer state has no moments for "${name}".`);
      m.assign(tf.tensor(saved.m, m.shape));
      this.secondMoments.get(name)!.assign(tf.tensor(saved.v, m.shape));
    }
  }

  get stateParameterCount(): number {
    let count = 0;
    for (const m of this.firstMoments.values()) count += 2 * m.size;
    return count;
  }

  dispose(): void {
    for (const m of this.firstMoments.values()) m.dispose();
    for (const v of this.secondMoments.values()) v.dispose();
  }
}

/** A variable holds its own reference to its initial value, so the temporary zeros are released at once. */
function zerosVariable(like: tf.Tensor): tf.Variable {
  const zeros = tf.zerosLike(like);
  const variable = tf.variable(zeros, false);
  zeros.dispose();
  return variable;
}

/** Scales gradients so their global L2 norm is at most `maxNorm`, as `torch.nn.utils.clip_grad_norm_`. Returns the norm before clipping. */
export function clipByGlobalNorm(gradients: Map<string, tf.Tensor>, maxNorm: number): number {
  const norm = tf.tidy(() => tf.sqrt(tf.addN([...gradients.values()].map((g) => tf.sum(tf.square(g))))).dataSync()[0]!);
  const coefficient = maxNorm / (norm + 1e-6);
  if (coefficient < 1) {
    for (const [name, gradient] of gradients) {
      gradients.set(name, tf.mul(gradient, coefficient));
      gradient.dispose();
    }
  }
  return norm;
}
