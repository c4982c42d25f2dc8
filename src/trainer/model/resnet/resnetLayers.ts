import { BOTTLENECK_REDUCTION, type ResNetConfig } from './resnetConfig';

/**
 * The convolutions of a transformers ResNet, in forward order, each with its weight prefix as transformers names it
 * (`embedder.embedder`, `encoder.stages.S.layers.L.layer.I`, `encoder.stages.S.layers.L.shortcut`). Every one is a
 * bias-free convolution followed by BatchNorm2d, so a prefix names five tensors: `convolution.weight` and
 * `normalization.{weight,bias,running_mean,running_var}`.
 */

export interface ConvSpec {
  readonly prefix: string;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  /** Whether ReLU follows the BatchNorm; the last convolution of a residual layer and the shortcut have none. */
  readonly relu: boolean;
}

export interface ResidualLayerSpec {
  readonly prefix: string;
  readonly convs: readonly ConvSpec[];
  /** A 1×1 projection of the input when the channels or the stride change; otherwise the input is added as it is. */
  readonly shortcut: ConvSpec | undefined;
}

export interface ResNetLayout {
  readonly stem: ConvSpec;
  /** Residual layers grouped by stage, as `freeze` by stage will need. */
  readonly stages: readonly (readonly ResidualLayerSpec[])[];
  /** The pooled feature size: hidden_sizes' last entry. */
  readonly poolSize: number;
}

/** ResNetForImageClassification's prefix of the backbone; the model's variables carry it, as the export does. */
export const BACKBONE_PREFIX = 'resnet.';
export const STEM_PREFIX = 'embedder.embedder';
export const CLASSIFIER_WEIGHT = 'classifier.1.weight';
export const CLASSIFIER_BIAS = 'classifier.1.bias';
export const BATCH_NORM_TENSORS = ['weight', 'bias', 'running_mean', 'running_var'] as const;

export function resnetLayout(config: ResNetConfig): ResNetLayout {
  const stem: ConvSpec = {
    prefix: STEM_PREFIX,
    inChannels: config.numChannels,
    outChannels: config.embeddingSize,
    kernelSize: 7,
    stride: 2,
    relu: true,
  };
  const stages = config.hiddenSizes.map((outChannels, stage) => {
    const inChannels = stage === 0 ? config.embeddingSize : config.hiddenSizes[stage - 1]!;
    const stride = stage === 0 && !config.downsampleInFirstStage ? 1 : 2;
    return Array.from({ length: config.depths[stage]! }, (_, layer) =>
      residualLayer(
        config,
        `encoder.stages.${stage}.layers.${layer}`,
        layer === 0 ? inChannels : outChannels,
        outChannels,
        layer === 0 ? stride : 1,
      ),
    );
  });
  return { stem, stages, poolSize: config.hiddenSizes[config.hiddenSizes.length - 1]! };
}

function residualLayer(config: ResNetConfig, prefix: string, inChannels: number, outChannels: number, stride: number): ResidualLayerSpec {
  const shortcut =
    inChannels !== outChannels || stride !== 1
      ? { prefix: `${prefix}.shortcut`, inChannels, outChannels, kernelSize: 1, stride, relu: false }
      : undefined;
  const conv = (index: number, from: number, to: number, kernelSize: number, convStride: number, relu: boolean): ConvSpec => ({
    prefix: `${prefix}.layer.${index}`,
    inChannels: from,
    outChannels: to,
    kernelSize,
    stride: convStride,
    relu,
  });
  if (config.layerType === 'basic') {
    return { prefix, shortcut, convs: [conv(0, inChannels, outChannels, 3, stride, true), conv(1, outChannels, outChannels, 3, 1, false)] };
  }
  const reduced = outChannels / BOTTLENECK_REDUCTION;
  const inBottleneck = config.downsampleInBottleneck;
  return {
    prefix,
    shortcut,
    convs: [
      conv(0, inChannels, reduced, 1, inBottleneck ? stride : 1, true),
      conv(1, reduced, reduced, 3, inBottleneck ? 1 : stride, true),
      conv(2, reduced, outChannels, 1, 1, false),
    ],
  };
}

/** Every convolution of the layout in forward order: the stem, then each layer's convolutions and shortcut. */
export function allConvs(layout: ResNetLayout): ConvSpec[] {
  return [layout.stem, ...layout.stages.flat().flatMap((layer) => [...layer.convs, ...(layer.shortcut ? [layer.shortcut] : [])])];
}
