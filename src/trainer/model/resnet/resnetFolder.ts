import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NamedTensors } from '../namedTensors';
import { readSafetensorsFolder } from '../safetensors';
import { parseResNetConfig, type ResNetConfig } from './resnetConfig';
import { ResNet, type ResNetOptions } from './resnetModel';
import { isTimmResNet, renameTimmWeights, timmLabels, timmResNetConfig } from './timmResNet';

/**
 * Loads a ResNet folder in either common layout, resolved from the folder as text models are from config.json:
 * - transformers' (`model_type: resnet`), saved from `ResNetModel` (backbone names at the top level) or
 *   `ResNetForImageClassification` (the backbone under `resnet.`, the head as `classifier.1`);
 * - timm's (config.json with `architecture`, weights named `conv1`, `layer1.0.conv1`, `fc`), read through the
 *   transformers names it equals.
 */

const CLASSIFICATION_PREFIX = 'resnet.';

export type ResNetLayoutKind = 'transformers' | 'timm';

export interface LoadedResNet {
  readonly config: ResNetConfig;
  readonly model: ResNet;
  readonly layout: ResNetLayoutKind;
}

/**
 * `trainable` decides by variable name (`resnet.…`, `classifier.1.…`; see resnetTrainable for freezing by stage);
 * `options.freezeBatchNorm` is strategy.freeze_batch_norm.
 */
export function loadResNetFolder(folder: string, trainable?: (name: string) => boolean, options: ResNetOptions = {}): LoadedResNet {
  const configPath = join(folder, 'config.json');
  if (!existsSync(configPath)) throw new Error(`${configPath} does not exist; a ResNet folder has config.json beside its weights.`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${configPath} is not valid JSON (${(error as Error).message}).`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${configPath} is not a JSON object.`);
  const weights = readSafetensorsFolder(folder).tensors;
  if (json['model_type'] === undefined && isTimmResNet(weights)) {
    const config = timmResNetConfig(weights, timmLabels(json), configPath);
    return { config, layout: 'timm', model: ResNet.fromWeights(config, renameTimmWeights(weights), trainable, options) };
  }
  const config = parseResNetConfig(json, configPath);
  return { config, layout: 'transformers', model: ResNet.fromWeights(config, backboneNames(weights), trainable, options) };
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
