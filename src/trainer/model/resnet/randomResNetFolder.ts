import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRandom, deriveSeed } from '../../data/seededRandom';
import { PREPROCESSOR_CONFIG_FILE } from '../../images/imageProcessorConfig';
import { hostTensor, type NamedTensors } from '../namedTensors';
import { SINGLE_FILE, writeSafetensors } from '../safetensors';
import { linearInit } from './linearInit';
import { parseResNetConfig, resnetConfigJson, type ResNetConfig } from './resnetConfig';
import { allConvs, BACKBONE_PREFIX, CLASSIFIER_BIAS, CLASSIFIER_WEIGHT, resnetLayout } from './resnetLayers';

/**
 * A small random ResNetForImageClassification folder in transformers' layout, built without Python: for integration
 * tests and examples that need an image model on a machine with no network. Weights are initialised as
 * transformers' ResNetPreTrainedModel._init_weights does (kaiming_normal_ fan_out for convolutions, BatchNorm at
 * identity, torch.nn.Linear's init for the head), from a seed.
 */

export interface RandomResNetOptions {
  /** ResNetConfig keys as in config.json (`layer_type`, `embedding_size`, `hidden_sizes`, `depths`, …); transformers' defaults fill the rest. */
  readonly config?: Readonly<Record<string, unknown>>;
  readonly labels: readonly string[];
  readonly seed: number;
  /** Draws BatchNorm weights and running statistics away from the identity (as test/parity/python/tiny_resnet.py does), so that they matter. */
  readonly randomBatchNorm?: boolean;
  /** preprocessor_config.json; microsoft/resnet-50's by default. */
  readonly preprocessor?: Readonly<Record<string, unknown>>;
}

/** microsoft/resnet-50's preprocessor_config.json. */
export const RESNET_50_PREPROCESSOR: Readonly<Record<string, unknown>> = {
  crop_pct: 0.875,
  do_normalize: true,
  do_resize: true,
  image_processor_type: 'ConvNextImageProcessor',
  image_mean: [0.485, 0.456, 0.406],
  image_std: [0.229, 0.224, 0.225],
  resample: 3,
  size: { shortest_edge: 224 },
};

export function buildRandomResNetFolder(folder: string, options: RandomResNetOptions): { config: ResNetConfig; weights: NamedTensors } {
  const config = parseResNetConfig({ ...options.config, model_type: 'resnet' }, 'the random ResNet config');
  const withLabels = { ...config, labels: [...options.labels] };
  const weights = randomResNetWeights(withLabels, options.seed, options.randomBatchNorm ?? false);
  mkdirSync(folder, { recursive: true });
  writeSafetensors(join(folder, SINGLE_FILE), weights);
  writeFileSync(join(folder, 'config.json'), `${JSON.stringify(resnetConfigJson(withLabels), null, 2)}\n`);
  writeFileSync(join(folder, PREPROCESSOR_CONFIG_FILE), `${JSON.stringify(options.preprocessor ?? RESNET_50_PREPROCESSOR, null, 2)}\n`);
  return { config: withLabels, weights };
}

/**
 * ResNetForImageClassification's state_dict (PyTorch layouts, `resnet.` prefix) with seeded random weights; without
 * labels, ResNetModel's (no prefix, no head).
 */
export function randomResNetWeights(config: ResNetConfig, seed: number, randomBatchNorm: boolean): NamedTensors {
  const uniform = createRandom(deriveSeed(seed, 0));
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  const weights: NamedTensors = new Map();
  for (const conv of allConvs(resnetLayout(config))) {
    const prefix = (config.labels.length > 0 ? BACKBONE_PREFIX : '') + conv.prefix;
    const shape = [conv.outChannels, conv.inChannels, conv.kernelSize, conv.kernelSize];
    // kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = √(2 / (out · kh · kw)).
    const std = Math.sqrt(2 / (conv.outChannels * conv.kernelSize * conv.kernelSize));
    weights.set(
      `${prefix}.convolution.weight`,
      hostTensor(
        shape,
        Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => std * normal()),
      ),
    );
    const channels = (draw: () => number) => hostTensor([conv.outChannels], Float32Array.from({ length: conv.outChannels }, draw));
    weights.set(
      `${prefix}.normalization.weight`,
      channels(() => (randomBatchNorm ? 0.5 + uniform() : 1)),
    );
    weights.set(
      `${prefix}.normalization.bias`,
      channels(() => (randomBatchNorm ? 0.1 * normal() : 0)),
    );
    weights.set(
      `${prefix}.normalization.running_mean`,
      channels(() => (randomBatchNorm ? 0.1 * normal() : 0)),
    );
    weights.set(
      `${prefix}.normalization.running_var`,
      channels(() => (randomBatchNorm ? 0.5 + 1.5 * uniform() : 1)),
    );
    weights.set(`${prefix}.normalization.num_batches_tracked`, hostTensor([], new BigInt64Array(1)));
  }
  if (config.labels.length > 0) {
    const { weight, bias } = linearInit(config.labels.length, config.hiddenSizes[config.hiddenSizes.length - 1]!, deriveSeed(seed, 1));
    weights.set(CLASSIFIER_WEIGHT, weight);
    weights.set(CLASSIFIER_BIAS, bias);
  }
  return weights;
}
