import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PREPROCESSOR_CONFIG_FILE } from '../../images/imageProcessorConfig';
import { SINGLE_FILE, writeSafetensors } from '../safetensors';
import { resnetConfigJson } from './resnetConfig';
import type { ResNet } from './resnetModel';

/**
 * Writes `model` as a transformers folder: config.json (model_type resnet, ResNetForImageClassification, id2label
 * and label2id from the head's labels), model.safetensors in PyTorch's layouts, and `preprocessor` as
 * preprocessor_config.json, so that `transformers.pipeline("image-classification", model=folder)` loads it and
 * preprocesses images as the run did. A model without a head is written as a ResNetModel.
 */
export async function writeTransformersFolder(
  folder: string,
  model: ResNet,
  preprocessor: Readonly<Record<string, unknown>>,
): Promise<void> {
  if (model.hasClassifier && model.config.labels.length !== model.variables.get('classifier.1.bias')!.shape[0])
    throw new Error(`The head has ${model.variables.get('classifier.1.bias')!.shape[0]} outputs but ${model.config.labels.length} labels.`);
  mkdirSync(folder, { recursive: true });
  writeSafetensors(join(folder, SINGLE_FILE), await model.exportWeights());
  writeJson(join(folder, 'config.json'), resnetConfigJson(model.config));
  writeJson(join(folder, PREPROCESSOR_CONFIG_FILE), preprocessor);
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
