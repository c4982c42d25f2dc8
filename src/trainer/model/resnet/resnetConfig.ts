/**
 * transformers' ResNetConfig (`model_type: resnet`), read from config.json with transformers' defaults, which are
 * ResNet-50's. `layer_type` picks the residual layer: "basic" (two 3×3 convolutions; ResNet-18/34) or "bottleneck"
 * (1×1 down, 3×3, 1×1 up to hidden_sizes[i]; ResNet-50 and deeper).
 */
export interface ResNetConfig {
  readonly numChannels: number;
  readonly embeddingSize: number;
  readonly hiddenSizes: readonly number[];
  readonly depths: readonly number[];
  readonly layerType: 'basic' | 'bottleneck';
  readonly downsampleInFirstStage: boolean;
  readonly downsampleInBottleneck: boolean;
  /** Labels of the classification head by index; empty for a bare `ResNetModel`. */
  readonly labels: readonly string[];
}

/** Channels are reduced by this factor inside a bottleneck layer, as transformers' ResNetBottleNeckLayer does. */
export const BOTTLENECK_REDUCTION = 4;
/** PyTorch's BatchNorm2d default, which transformers' ResNet keeps. */
export const BATCH_NORM_EPSILON = 1e-5;
/** PyTorch's BatchNorm2d default: each training batch moves the running statistics 10% of the way to its own. */
export const BATCH_NORM_MOMENTUM = 0.1;

type Json = Record<string, unknown>;

export function parseResNetConfig(json: Json, source: string): ResNetConfig {
  const fail = (key: string, problem: string) => new Error(`${source}: "${key}" ${problem}`);
  if (json['model_type'] !== 'resnet') throw fail('model_type', `is ${JSON.stringify(json['model_type'])}, not "resnet".`);
  const count = (key: string, fallback: number): number => {
    const value = json[key] ?? fallback;
    if (!Number.isInteger(value) || (value as number) <= 0)
      throw fail(key, `must be a positive whole number, not ${JSON.stringify(value)}.`);
    return value as number;
  };
  const counts = (key: string, fallback: number[]): number[] => {
    const value = json[key] ?? fallback;
    if (!Array.isArray(value) || value.length === 0 || !value.every((item) => Number.isInteger(item) && item > 0))
      throw fail(key, `must be a non-empty list of positive whole numbers, not ${JSON.stringify(value)}.`);
    return value as number[];
  };
  const flag = (key: string): boolean => {
    const value = json[key] ?? false;
    if (typeof value !== 'boolean') throw fail(key, `must be true or false, not ${JSON.stringify(value)}.`);
    return value;
  };
  const hiddenSizes = counts('hidden_sizes', [256, 512, 1024, 2048]);
  const depths = counts('depths', [3, 4, 6, 3]);
  if (hiddenSizes.length !== depths.length)
    throw fail('depths', `has ${depths.length} stages but "hidden_sizes" has ${hiddenSizes.length}; each stage needs both.`);
  const layerType = json['layer_type'] ?? 'bottleneck';
  if (layerType !== 'basic' && layerType !== 'bottleneck')
    throw fail('layer_type', `is ${JSON.stringify(layerType)}; it must be "basic" or "bottleneck".`);
  const activation = json['hidden_act'] ?? 'relu';
  if (activation !== 'relu') throw fail('hidden_act', `is ${JSON.stringify(activation)}; EmbedTune's ResNet supports "relu" only.`);
  if (layerType === 'bottleneck') {
    const tooSmall = hiddenSizes.find((size) => size % BOTTLENECK_REDUCTION !== 0);
    if (tooSmall !== undefined)
      throw fail('hidden_sizes', `has ${tooSmall}, which a bottleneck layer cannot divide by ${BOTTLENECK_REDUCTION}.`);
  }
  return {
    numChannels: count('num_channels', 3),
    embeddingSize: count('embedding_size', 64),
    hiddenSizes,
    depths,
    layerType,
    downsampleInFirstStage: flag('downsample_in_first_stage'),
    downsampleInBottleneck: flag('downsample_in_bottleneck'),
    labels: labelsOf(json['id2label'], fail),
  };
}

function labelsOf(id2label: unknown, fail: (key: string, problem: string) => Error): string[] {
  if (id2label === undefined) return [];
  if (typeof id2label !== 'object' || id2label === null || Array.isArray(id2label))
    throw fail('id2label', 'must be an object from index to label.');
  const entries = Object.entries(id2label as Json);
  const labels: string[] = new Array<string>(entries.length);
  for (const [index, label] of entries) {
    const at = Number(index);
    if (!Number.isInteger(at) || at < 0 || at >= entries.length || typeof label !== 'string')
      throw fail(
        'id2label',
        `must map the indexes 0…${entries.length - 1} to label strings; "${index}" → ${JSON.stringify(label)} does not fit.`,
      );
    labels[at] = label;
  }
  return labels;
}

/**
 * config.json for `config` as transformers' ResNetConfig.to_dict() writes the keys EmbedTune reads, with
 * `architectures` saying which class loads it and, with labels, id2label and label2id for the pipeline's answers.
 */
export function resnetConfigJson(config: ResNetConfig): Record<string, unknown> {
  const labels = config.labels;
  return {
    architectures: [labels.length > 0 ? 'ResNetForImageClassification' : 'ResNetModel'],
    model_type: 'resnet',
    num_channels: config.numChannels,
    embedding_size: config.embeddingSize,
    hidden_sizes: [...config.hiddenSizes],
    depths: [...config.depths],
    layer_type: config.layerType,
    hidden_act: 'relu',
    downsample_in_first_stage: config.downsampleInFirstStage,
    downsample_in_bottleneck: config.downsampleInBottleneck,
    ...(labels.length > 0
      ? {
          id2label: Object.fromEntries(labels.map((label, index) => [String(index), label])),
          label2id: Object.fromEntries(labels.map((label, index) => [label, index])),
        }
      : {}),
    dtype: 'float32',
  };
}
