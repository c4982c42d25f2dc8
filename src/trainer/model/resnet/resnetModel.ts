import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers kernels' gradients only on request; a training step needs those of conv2d, maxPool, pad, ….
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { trainableConv2d } from '../../backend/trainableConv2d';
import type { HostTensor, NamedTensors } from '../namedTensors';
import { snapshotVariables } from '../variableSnapshot';
import { batchNormTraining, updateRunning, type BatchStatistics } from './batchNormTraining';
import { linearInit } from './linearInit';
import { BATCH_NORM_EPSILON, BATCH_NORM_MOMENTUM, type ResNetConfig } from './resnetConfig';
import {
  allConvs,
  BACKBONE_PREFIX,
  BATCH_NORM_TENSORS,
  CLASSIFIER_BIAS,
  CLASSIFIER_WEIGHT,
  resnetLayout,
  type ConvSpec,
  type ResNetLayout,
} from './resnetLayers';

/**
 * transformers' ResNetForImageClassification over tfjs variables named as in its checkpoints
 * (`resnet.embedder.embedder.convolution.weight`, …, `classifier.1.weight`). Inputs are NHWC, because that is the
 * layout tfjs convolutions take on every backend; convolution kernels are held as tfjs filters ([kh, kw, in, out])
 * and go back to PyTorch's [out, in, kh, kw] only on export. The head keeps PyTorch's [labels, features].
 *
 * BatchNorm follows PyTorch's modes. Eval (`training: false`, or `freezeBatchNorm`): the running statistics.
 * Train: the batch's statistics (biased variance), and the batch statistics are held until
 * `updateRunningStatistics()` folds them into the running ones, after the gradient step and outside its tape.
 */

export interface ResNetOutputs {
  /** The last stage's feature map, [N, H/32, W/32, C] for the usual four stages. */
  readonly lastHiddenState: tf.Tensor4D;
  /** Global average pool of `lastHiddenState`, [N, C]: the image embedding. */
  readonly pooled: tf.Tensor2D;
  /** [N, labels], when the model has a classification head. */
  readonly logits: tf.Tensor2D | undefined;
}

export interface ForwardOptions {
  /** BatchNorm on batch statistics (unless `freezeBatchNorm`); false (the default) is eval mode. */
  readonly training?: boolean;
}

export interface ResNetOptions {
  /** strategy.freeze_batch_norm: BatchNorm stays in eval mode, and its running statistics stay as loaded, while the rest trains. */
  readonly freezeBatchNorm?: boolean;
}

const RUNNING_STATISTICS = ['running_mean', 'running_var'];
const BATCHES_TRACKED = 'num_batches_tracked';

export class ResNet {
  /** strategy.freeze_batch_norm; may be changed between steps. */
  freezeBatchNorm: boolean;
  /** Batch statistics of the last training forward pass, by BatchNorm prefix, until updateRunningStatistics. */
  private readonly pending = new Map<string, BatchStatistics>();

  private constructor(
    private currentConfig: ResNetConfig,
    readonly layout: ResNetLayout,
    readonly variables: Map<string, tf.Variable>,
    /** PyTorch's num_batches_tracked of each BatchNorm (by prefix), kept so that the export carries it on. */
    private readonly batchesTracked: Map<string, number>,
    options: ResNetOptions,
  ) {
    this.freezeBatchNorm = options.freezeBatchNorm ?? false;
  }

  get config(): ResNetConfig {
    return this.currentConfig;
  }

  /** Whether the model carries `classifier.1` (ResNetForImageClassification) rather than being a bare backbone. */
  get hasClassifier(): boolean {
    return this.variables.has(CLASSIFIER_WEIGHT);
  }

  /** The variables the optimizer updates and the gradient is taken for: trainable ones, running statistics never. */
  get trainableVariables(): Map<string, tf.Variable> {
    return new Map([...this.variables].filter(([, variable]) => variable.trainable));
  }

  /**
   * Builds variables from transformers-named host tensors (backbone names without the `resnet.` prefix, as
   * `backboneNames` gives them). Running statistics are never trainable; `trainable` decides the rest by the
   * variable's name (with the prefix).
   */
  static fromWeights(
    config: ResNetConfig,
    weights: NamedTensors,
    trainable: (name: string) => boolean = () => true,
    options: ResNetOptions = {},
  ): ResNet {
    const layout = resnetLayout(config);
    const variables = new Map<string, tf.Variable>();
    const batchesTracked = new Map<string, number>();
    const take = (name: string, shape: number[]): HostTensor => {
      const host = weights.get(name);
      if (!host) throw new Error(`The checkpoint has no weight "${name}", which this ResNet (${describe(config)}) needs.`);
      if (host.dtype !== 'F32') throw new Error(`Weight "${name}" is ${host.dtype}; a ResNet weight must be floating point.`);
      if (host.shape.join() !== shape.join())
        throw new Error(
          `Weight "${name}" has shape [${host.shape.join(', ')}]; config.json (${describe(config)}) implies [${shape.join(', ')}].`,
        );
      return host;
    };
    for (const conv of allConvs(layout)) {
      const kernelName = `${conv.prefix}.convolution.weight`;
      const kernel = take(kernelName, [conv.outChannels, conv.inChannels, conv.kernelSize, conv.kernelSize]);
      const name = BACKBONE_PREFIX + kernelName;
      addVariable(
        variables,
        name,
        tf.tidy(() => toFilter(kernel)),
        trainable(name),
      );
      for (const part of BATCH_NORM_TENSORS) {
        const partName = `${BACKBONE_PREFIX}${conv.prefix}.normalization.${part}`;
        const value = tf.tensor1d(take(`${conv.prefix}.normalization.${part}`, [conv.outChannels]).data as Float32Array);
        addVariable(variables, partName, value, !RUNNING_STATISTICS.includes(part) && trainable(partName));
      }
      const tracked = weights.get(`${conv.prefix}.normalization.${BATCHES_TRACKED}`);
      batchesTracked.set(`${BACKBONE_PREFIX}${conv.prefix}.normalization`, tracked ? Number(tracked.data[0] ?? 0) : 0);
    }
    const model = new ResNet(config, layout, variables, batchesTracked, options);
    if (weights.has(CLASSIFIER_WEIGHT)) {
      const labels = weights.get(CLASSIFIER_WEIGHT)!.shape[0] ?? 0;
      model.setClassifier(take(CLASSIFIER_WEIGHT, [labels, layout.poolSize]), take(CLASSIFIER_BIAS, [labels]), trainable);
    }
    return model;
  }

  /**
   * Replaces the head (ResNetForImageClassification's `classifier.1`, the last fully connected layer) by a new one
   * for `labels`, initialised as torch.nn.Linear from `seed`, and trainable. The config's labels become `labels`.
   */
  withClassifier(labels: readonly string[], seed: number): this {
    if (new Set(labels).size !== labels.length) throw new Error(`The head's labels must be distinct: ${labels.join(', ')}.`);
    const { weight, bias } = linearInit(labels.length, this.layout.poolSize, seed);
    this.setClassifier(weight, bias, () => true);
    this.currentConfig = { ...this.currentConfig, labels: [...labels] };
    return this;
  }

  /** Sets which weights train (strategy freezing); running statistics stay untrainable whatever `trainable` says. */
  setTrainable(trainable: (name: string) => boolean): void {
    for (const [name, variable] of this.variables) variable.trainable = !isRunningStatistic(name) && trainable(name);
  }

  /**
   * The forward pass on NHWC pixel values (already resized and normalized). With `training`, BatchNorm runs on the
   * batch's statistics unless `freezeBatchNorm`, and those statistics wait for `updateRunningStatistics()`.
   */
  forward(pixels: tf.Tensor4D, options: ForwardOptions = {}): ResNetOutputs {
    if (pixels.shape[3] !== this.config.numChannels)
      throw new Error(
        `The pixel values have ${pixels.shape[3]} channels (last axis, NHWC); config.json's num_channels is ${this.config.numChannels}.`,
      );
    const batchStatistics = options.training === true && !this.freezeBatchNorm;
    if (batchStatistics && this.pending.size > 0)
      throw new Error(
        'The previous training forward pass left batch statistics that were neither applied nor discarded; call updateRunningStatistics() after each training step (or discardBatchStatistics()).',
      );
    try {
      return tf.tidy(() => {
        let hidden = this.convBatchNorm(pixels, this.layout.stem, batchStatistics);
        // PyTorch pads max pooling with -inf. The padding is explicit because tfjs-node's kernels take only 'valid'
        // and 'same', and 'same' pads differently from PyTorch at stride 2.
        hidden = tf.maxPool(padSpatially(hidden, 1, -Infinity), 3, 2, 'valid');
        for (const layer of this.layout.stages.flat()) {
          let branch: tf.Tensor4D = hidden;
          for (const conv of layer.convs) branch = this.convBatchNorm(branch, conv, batchStatistics);
          const residual = layer.shortcut ? this.convBatchNorm(hidden, layer.shortcut, batchStatistics) : hidden;
          hidden = tf.relu(tf.add(branch, residual)) as tf.Tensor4D;
        }
        const pooled = tf.mean(hidden, [1, 2]) as tf.Tensor2D;
        const logits = this.hasClassifier
          ? (tf.add(tf.matMul(pooled, this.variable(CLASSIFIER_WEIGHT), false, true), this.variable(CLASSIFIER_BIAS)) as tf.Tensor2D)
          : undefined;
        return { lastHiddenState: hidden, pooled, logits };
      });
    } catch (error) {
      this.discardBatchStatistics();
      throw error;
    }
  }

  /**
   * Folds the last training forward pass's batch statistics into the running ones, as PyTorch's BatchNorm2d does
   * during its forward pass: momentum 0.1, the unbiased batch variance, num_batches_tracked + 1. Called after the
   * gradient step, so the update stays off the gradient tape. Returns how many BatchNorms were updated (0 when the
   * last pass was in eval mode or BatchNorm is frozen).
   */
  updateRunningStatistics(): number {
    const updated = this.pending.size;
    for (const [prefix, statistics] of this.pending) {
      updateRunning(this.variable(`${prefix}.running_mean`), this.variable(`${prefix}.running_var`), statistics, BATCH_NORM_MOMENTUM);
      this.batchesTracked.set(prefix, (this.batchesTracked.get(prefix) ?? 0) + 1);
    }
    this.discardBatchStatistics();
    return updated;
  }

  /** Drops held batch statistics without applying them (a step abandoned before its update). */
  discardBatchStatistics(): void {
    for (const statistics of this.pending.values()) tf.dispose([statistics.mean, statistics.variance]);
    this.pending.clear();
  }

  /** Every variable as stored (filters [kh, kw, in, out]), plus num_batches_tracked, for checkpoints that resume exactly. */
  async snapshot(): Promise<NamedTensors> {
    const out = await snapshotVariables(this.variables);
    for (const [prefix, count] of this.batchesTracked) out.set(`${prefix}.${BATCHES_TRACKED}`, batchesTrackedTensor(count));
    return out;
  }

  /** Puts back values saved by `snapshot` (the head must already have the saved number of labels). */
  restore(weights: NamedTensors): void {
    for (const [name, variable] of this.variables) {
      const saved = weights.get(name);
      if (!saved) throw new Error(`The checkpoint has no value for "${name}".`);
      if (saved.shape.join() !== variable.shape.join())
        throw new Error(`The checkpoint's "${name}" has shape [${saved.shape.join(', ')}]; the model's is [${variable.shape.join(', ')}].`);
      variable.assign(tf.tensor(saved.data as Float32Array, variable.shape, 'float32'));
    }
    for (const prefix of this.batchesTracked.keys()) {
      const saved = weights.get(`${prefix}.${BATCHES_TRACKED}`);
      if (saved) this.batchesTracked.set(prefix, Number(saved.data[0] ?? 0));
    }
  }

  /**
   * The weights as ResNetForImageClassification's state_dict holds them: convolution kernels [out, in, kh, kw],
   * num_batches_tracked as int64 scalars; a model without a head gives ResNetModel's names (no `resnet.` prefix).
   */
  async exportWeights(): Promise<NamedTensors> {
    const out: NamedTensors = new Map();
    const rename = (name: string) => (this.hasClassifier ? name : name.slice(BACKBONE_PREFIX.length));
    for (const [name, variable] of this.variables) {
      const tensor = name.endsWith('.convolution.weight') ? tf.transpose(variable, [3, 2, 0, 1]) : tf.clone(variable);
      const data = Float32Array.from((await tensor.data()) as Float32Array);
      out.set(rename(name), { dtype: 'F32', shape: [...tensor.shape], data });
      tensor.dispose();
    }
    for (const [prefix, count] of this.batchesTracked) out.set(rename(`${prefix}.${BATCHES_TRACKED}`), batchesTrackedTensor(count));
    return out;
  }

  dispose(): void {
    this.discardBatchStatistics();
    for (const variable of this.variables.values()) variable.dispose();
    this.variables.clear();
  }

  private setClassifier(weight: HostTensor, bias: HostTensor, trainable: (name: string) => boolean): void {
    for (const name of [CLASSIFIER_WEIGHT, CLASSIFIER_BIAS]) this.variables.get(name)?.dispose();
    addVariable(
      this.variables,
      CLASSIFIER_WEIGHT,
      tf.tensor2d(weight.data as Float32Array, weight.shape as [number, number]),
      trainable(CLASSIFIER_WEIGHT),
    );
    addVariable(this.variables, CLASSIFIER_BIAS, tf.tensor1d(bias.data as Float32Array), trainable(CLASSIFIER_BIAS));
  }

  private convBatchNorm(input: tf.Tensor4D, conv: ConvSpec, batchStatistics: boolean): tf.Tensor4D {
    const prefix = BACKBONE_PREFIX + conv.prefix;
    const kernel = this.variable(`${prefix}.convolution.weight`) as tf.Tensor4D;
    // PyTorch's padding=kernel_size // 2 on every side.
    const convolved = trainableConv2d(input, kernel, conv.stride, Math.floor(conv.kernelSize / 2));
    const norm = (part: string) => this.variable(`${prefix}.normalization.${part}`) as tf.Tensor1D;
    let normalized: tf.Tensor4D;
    if (batchStatistics) {
      const { output, statistics } = batchNormTraining(convolved, norm('weight'), norm('bias'), BATCH_NORM_EPSILON);
      this.pending.set(`${prefix}.normalization`, statistics);
      normalized = output;
    } else {
      normalized = tf.batchNorm(convolved, norm('running_mean'), norm('running_var'), norm('bias'), norm('weight'), BATCH_NORM_EPSILON);
    }
    return conv.relu ? tf.relu(normalized) : normalized;
  }

  private variable(name: string): tf.Variable {
    const variable = this.variables.get(name);
    if (!variable) throw new Error(`ResNet has no variable "${name}".`);
    return variable;
  }
}

/** PyTorch's [out, in, kh, kw] kernel as a tfjs filter [kh, kw, in, out]. */
function toFilter(kernel: HostTensor): tf.Tensor4D {
  return tf.transpose(tf.tensor4d(kernel.data as Float32Array, kernel.shape as [number, number, number, number]), [2, 3, 1, 0]);
}

function isRunningStatistic(name: string): boolean {
  return RUNNING_STATISTICS.some((part) => name.endsWith(`.normalization.${part}`));
}

function batchesTrackedTensor(count: number): HostTensor {
  return { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(count)) };
}

function padSpatially(input: tf.Tensor4D, size: number, value: number): tf.Tensor4D {
  if (size === 0) return input;
  return tf.pad(
    input,
    [
      [0, 0],
      [size, size],
      [size, size],
      [0, 0],
    ],
    value,
  );
}

function addVariable(variables: Map<string, tf.Variable>, name: string, value: tf.Tensor, trainable: boolean): void {
  variables.set(name, tf.variable(value, trainable));
  value.dispose();
}

function describe(config: ResNetConfig): string {
  return `${config.layerType} layers, hidden_sizes [${config.hiddenSizes.join(', ')}], depths [${config.depths.join(', ')}]`;
}
