import type { NamedTensors } from '../namedTensors';
import { readSafetensorsFolder } from '../safetensors';
import { readResNetConfig, type ResNetConfig } from './resnetConfig';
import { ResNet } from './resnetModel';

/**
 * Loads a transformers ResNet folder (config.json with `model_type: resnet`, model.safetensors or its shards), saved
 * from either `ResNetModel` (backbone names at the top level) or `ResNetForImageClassification` (the backbone under
 * `resnet.`, the head as `classifier.1`).
 */

const CLASSIFICATION_PREFIX = 'resnet.';

export interface LoadedResNet {
  readonly config: ResNetConfig;
  readonly model: ResNet;
}

export function loadResNetFolder(folder: string, trainable?: (name: string) => boolean): LoadedResNet {
  const config = readResNetConfig(folder);
  const weights = backboneNames(readSafetensorsFolder(folder).tensors);
  return { config, model: ResNet.fromWeights(config, weights, trainable) };
}

/** The checkpoint with ResNetForImageClassification's `resnet.` prefix removed, so both saved forms read the same. */
export function backboneNames(weights: NamedTensors): NamedTensors {
  const prefixed = [...weights.keys()].some((name) => name.startsWith(CLASSIFICATION_PREFIX));
  if (!prefixed) return weights;
  const renamed: NamedTensors = new Map();
  for (const [name, tensor] of weights)
    renamed.set(name.startsWith(CLASSIFICATION_PREFIX) ? name.slice(CLASSIFICATION_PREFIX.length) : name, tensor);
  return renamed;
}
