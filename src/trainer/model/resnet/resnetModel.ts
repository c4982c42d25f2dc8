import * as tf from '@tensorflow/tfjs-core';
import type { HostTensor, NamedTensors } from '../namedTensors';
import { BATCH_NORM_EPSILON, type ResNetConfig } from './resnetConfig';
import {
  allConvs,
  BATCH_NORM_TENSORS,
  CLASSIFIER_BIAS,
  CLASSIFIER_WEIGHT,
  resnetLayout,
  type ConvSpec,
  type ResNetLayout,
} from './resnetLayers';

/**
 * transformers' ResNetModel (and ResNetForImageClassification's head) over tfjs variables named as in its
 * checkpoints. Inputs are NHWC, because that is the layout tfjs convolutions take on every backend; convolution
 * kernels are held as tfjs filters ([kh, kw, in, out]) and go back to PyTorch's [out, in, kh, kw] only on export.
 * BatchNorm runs in eval mode here: the running statistics, with PyTorch's epsilon.
 */

export interface ResNetOutputs {
  /** The last stage's feature map, [N, H/32, W/32, C] for the usual four stages. */
  readonly lastHiddenState: tf.Tensor4D;
  /** Global average pool of `lastHiddenState`, [N, C]: the image embedding. */
  readonly pooled: tf.Tensor2D;
  /** [N, labels], when the model has a classification head. */
  readonly logits: tf.Tensor2D | undefined;
}

export class ResNet {
  private constructor(
    readonly config: ResNetConfig,
    readonly layout: ResNetLayout,
    readonly variables: Map<string, tf.Variable>,
  ) {}

  /** Whether the model carries `classifier.1` (ResNetForImageClassification) rather than being a bare backbone. */
  get hasClassifier(): boolean {
    return this.variables.has(CLASSIFIER_WEIGHT);
  }

  /**
   * Builds variables from transformers-named host tensors (backbone names without the `resnet.` prefix). Running
   * statistics are never trainable; `trainable` decides the rest by name.
   */
  static fromWeights(config: ResNetConfig, weights: NamedTensors, trainable: (name: string) => boolean = () => true): ResNet {
    const layout = resnetLayout(config);
    const variables = new Map<string, tf.Variable>();
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
      addVariable(
        variables,
        kernelName,
        tf.tidy(() =>
          tf.transpose(tf.tensor4d(kernel.data as Float32Array, kernel.shape as [number, number, number, number]), [2, 3, 1, 0]),
        ),
        trainable(kernelName),
      );
      for (const part of BATCH_NORM_TENSORS) {
        const name = `${conv.prefix}.normalization.${part}`;
        const isStatistic = part === 'running_mean' || part === 'running_var';
        addVariable(variables, name, tf.tensor1d(take(name, [conv.outChannels]).data as Float32Array), !isStatistic && trainable(name));
      }
    }
    if (weights.has(CLASSIFIER_WEIGHT)) {
      const labels = weights.get(CLASSIFIER_WEIGHT)!.shape[0] ?? 0;
      const weight = take(CLASSIFIER_WEIGHT, [labels, layout.poolSize]);
      addVariable(
        variables,
        CLASSIFIER_WEIGHT,
        tf.tensor2d(weight.data as Float32Array, [labels, layout.poolSize]),
        trainable(CLASSIFIER_WEIGHT),
      );
      addVariable(
        variables,
        CLASSIFIER_BIAS,
        tf.tensor1d(take(CLASSIFIER_BIAS, [labels]).data as Float32Array),
        trainable(CLASSIFIER_BIAS),
      );
    }
    return new ResNet(config, layout, variables);
  }

  /** The forward pass in eval mode on NHWC pixel values (already resized and normalized). */
  forward(pixels: tf.Tensor4D): ResNetOutputs {
    if (pixels.shape[3] !== this.config.numChannels)
      throw new Error(
        `The pixel values have ${pixels.shape[3]} channels (last axis, NHWC); config.json's num_channels is ${this.config.numChannels}.`,
      );
    return tf.tidy(() => {
      let hidden = this.convBatchNorm(pixels, this.layout.stem);
      // PyTorch pads max pooling with -inf. The padding is explicit because tfjs-node's kernels take only 'valid'
      // and 'same', and 'same' pads differently from PyTorch at stride 2.
      hidden = tf.maxPool(padSpatially(hidden, 1, -Infinity), 3, 2, 'valid');
      for (const layer of this.layout.stages.flat()) {
        let branch: tf.Tensor4D = hidden;
        for (const conv of layer.convs) branch = this.convBatchNorm(branch, conv);
        const residual = layer.shortcut ? this.convBatchNorm(hidden, layer.shortcut) : hidden;
        hidden = tf.relu(tf.add(branch, residual)) as tf.Tensor4D;
      }
      const pooled = tf.mean(hidden, [1, 2]) as tf.Tensor2D;
      const logits = this.hasClassifier
        ? (tf.add(tf.matMul(pooled, this.variable(CLASSIFIER_WEIGHT), false, true), this.variable(CLASSIFIER_BIAS)) as tf.Tensor2D)
        : undefined;
      return { lastHiddenState: hidden, pooled, logits };
    });
  }

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
    this.variables.clear();
  }

  private convBatchNorm(input: tf.Tensor4D, conv: ConvSpec): tf.Tensor4D {
    const kernel = this.variable(`${conv.prefix}.convolution.weight`) as tf.Tensor4D;
    // PyTorch's padding=kernel_size // 2 on every side, explicit for the same reason as max pooling's.
    const convolved = tf.conv2d(padSpatially(input, Math.floor(conv.kernelSize / 2), 0), kernel, conv.stride, 'valid');
    const norm = (part: string) => this.variable(`${conv.prefix}.normalization.${part}`) as tf.Tensor1D;
    const normalized = tf.batchNorm(convolved, norm('running_mean'), norm('running_var'), norm('bias'), norm('weight'), BATCH_NORM_EPSILON);
    return conv.relu ? tf.relu(normalized) : normalized;
  }

  private variable(name: string): tf.Variable {
    const variable = this.variables.get(name);
    if (!variable) throw new Error(`ResNet has no variable "${name}".`);
    return variable;
  }
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
