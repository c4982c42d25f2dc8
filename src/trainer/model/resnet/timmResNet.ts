import type { NamedTensors } from '../namedTensors';
import type { ResNetConfig } from './resnetConfig';
import { CLASSIFIER_BIAS, CLASSIFIER_WEIGHT, STEM_PREFIX } from './resnetLayers';

/**
 * timm's ResNet checkpoints (`timm/resnet50.a1_in1k` and the like: `conv1`, `bn1`, `layer1.0.conv1`,
 * `layer1.0.downsample.0`, `fc`) read as the transformers model they equal: timm's plain ResNet strides in the 3×3
 * convolution of a bottleneck, keeps the first stage at stride 1 and projects the shortcut with a 1×1 convolution
 * and BatchNorm, as transformers' defaults do. timm's config.json has no `model_type` and no layer sizes, so the
 * architecture comes from the weights' shapes. Variants with a deep stem (`conv1.0`) or average-pool shortcuts
 * (`downsample.2`), ResNet-D and its kin, have no transformers equivalent and are refused by name.
 */

const STAGE_NAME = /^layer(\d+)\.(\d+)\.(conv|bn)(\d)\.(.+)$/;
const SHORTCUT_NAME = /^layer(\d+)\.(\d+)\.downsample\.([01])\.(.+)$/;
const STEM_NAME = /^(conv1|bn1)\.(weight|bias|running_mean|running_var|num_batches_tracked)$/;
const BATCH_NORM_PARTS = ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'];

/** Whether `weights` use timm's ResNet names rather than transformers'. */
export function isTimmResNet(weights: NamedTensors): boolean {
  return weights.has('conv1.weight') && [...weights.keys()].some((name) => name.startsWith('layer1.0.'));
}

/** The transformers name of a timm ResNet weight; the error names the weight a plain ResNet does not have. */
export function transformersNameOfTimm(name: string): string {
  const stem = STEM_NAME.exec(name);
  if (stem) return stem[1] === 'conv1' ? `${STEM_PREFIX}.convolution.${stem[2]}` : `${STEM_PREFIX}.normalization.${stem[2]}`;
  if (name === 'fc.weight') return CLASSIFIER_WEIGHT;
  if (name === 'fc.bias') return CLASSIFIER_BIAS;
  const stage = STAGE_NAME.exec(name);
  if (stage) {
    const [, layer, block, kind, index, part] = stage;
    const prefix = `encoder.stages.${Number(layer) - 1}.layers.${block}.layer.${Number(index) - 1}`;
    if (kind === 'conv' && part === 'weight') return `${prefix}.convolution.weight`;
    if (kind === 'bn' && BATCH_NORM_PARTS.includes(part!)) return `${prefix}.normalization.${part}`;
  }
  const shortcut = SHORTCUT_NAME.exec(name);
  if (shortcut) {
    const [, layer, block, index, part] = shortcut;
    const prefix = `encoder.stages.${Number(layer) - 1}.layers.${block}.shortcut`;
    if (index === '0' && part === 'weight') return `${prefix}.convolution.weight`;
    if (index === '1' && BATCH_NORM_PARTS.includes(part!)) return `${prefix}.normalization.${part}`;
  }
  throw new Error(
    `The timm checkpoint has a weight "${name}" that a plain timm ResNet (resnet18 … resnet152) does not have; deep-stem and average-pool-shortcut variants (resnet50d and the like) are not supported.`,
  );
}

/** timm's weights under transformers' names. */
export function renameTimmWeights(weights: NamedTensors): NamedTensors {
  const renamed: NamedTensors = new Map();
  for (const [name, tensor] of weights) renamed.set(transformersNameOfTimm(name), tensor);
  return renamed;
}

/** The transformers config a timm ResNet checkpoint equals, read from its weights' shapes. `source` names it in errors. */
export function timmResNetConfig(weights: NamedTensors, labels: readonly string[], source: string): ResNetConfig {
  const shape = (name: string): number[] => {
    const tensor = weights.get(name);
    if (!tensor) throw new Error(`${source}: the timm ResNet checkpoint has no "${name}".`);
    return tensor.shape;
  };
  const depths: number[] = [];
  for (let stage = 1; weights.has(`layer${stage}.0.conv1.weight`); stage++) {
    let blocks = 0;
    while (weights.has(`layer${stage}.${blocks}.conv1.weight`)) blocks++;
    depths.push(blocks);
  }
  if (depths.length === 0) throw new Error(`${source}: the timm ResNet checkpoint has no "layer1.0.conv1.weight".`);
  const bottleneck = weights.has('layer1.0.conv3.weight');
  const lastConv = bottleneck ? 'conv3' : 'conv2';
  const [embeddingSize, numChannels] = shape('conv1.weight');
  return {
    numChannels: numChannels!,
    embeddingSize: embeddingSize!,
    hiddenSizes: depths.map((_, stage) => shape(`layer${stage + 1}.0.${lastConv}.weight`)[0]!),
    depths,
    layerType: bottleneck ? 'bottleneck' : 'basic',
    downsampleInFirstStage: false,
    downsampleInBottleneck: false,
    labels,
  };
}

/** timm's `label_names` (config.json, or its pretrained_cfg), when the checkpoint names its classes. */
export function timmLabels(json: Record<string, unknown>): string[] {
  const cfg = json['pretrained_cfg'];
  const names =
    json['label_names'] ?? (typeof cfg === 'object' && cfg !== null ? (cfg as Record<string, unknown>)['label_names'] : undefined);
  return Array.isArray(names) && names.every((name) => typeof name === 'string') ? (names as string[]) : [];
}
