import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NamedTensors } from '../model/namedTensors';
import { readSafetensors, writeSafetensors } from '../model/safetensors';
import { ClassificationHead, type HeadInput } from './classificationHead';

/** The folder, inside an exported model, that holds the classifier on top of the sentence-transformers encoder. */
export const CLASSIFIER_FOLDER = 'classifier';

/**
 * Writes the head beside the sentence-transformers files, in `classifier/`: a classifier needs its labels and
 * weights to be used. `model.safetensors` holds `classifier.weight` [features, labels] and `classifier.bias`
 * [labels]; `config.json` the labels in index order, the input (`text`, or `pair` as (u, v, |u − v|)) and the
 * number of features.
 */
export async function writeClassifierFolder(modelFolder: string, head: ClassificationHead): Promise<string> {
  const folder = join(modelFolder, CLASSIFIER_FOLDER);
  mkdirSync(folder, { recursive: true });
  writeSafetensors(join(folder, 'model.safetensors'), await head.snapshot());
  writeFileSync(
    join(folder, 'config.json'),
    `${JSON.stringify({ labels: head.labels, input: head.input, features: head.weight.shape[0] }, null, 2)}\n`,
  );
  return folder;
}

/** Reads the head that `writeClassifierFolder` wrote into an exported model folder, e.g. to evaluate with it. */
export function readClassifierFolder(modelFolder: string): ClassificationHead {
  const folder = join(modelFolder, CLASSIFIER_FOLDER);
  const configPath = join(folder, 'config.json');
  if (!existsSync(configPath))
    throw new Error(`${modelFolder} has no ${CLASSIFIER_FOLDER}/config.json, so it holds no classification head.`);
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { labels?: unknown; input?: unknown; features?: unknown };
  const inputs: readonly string[] = ['text', 'pair'];
  const labels = Array.isArray(config.labels) ? config.labels.map(String) : [];
  if (labels.length === 0 || !inputs.includes(String(config.input)) || typeof config.features !== 'number') {
    throw new Error(`${configPath} needs "labels" (a list), "input" (${inputs.join(' or ')}) and "features" (a number).`);
  }
  const weights = readSafetensors(join(folder, 'model.safetensors')).tensors;
  const kernel = weights.get('classifier.weight');
  if (!kernel || kernel.shape[0] !== config.features || kernel.shape[1] !== labels.length) {
    throw new Error(
      `${join(folder, 'model.safetensors')} needs a [${config.features}, ${labels.length}] classifier.weight as config.json describes, but has ${kernel ? `[${kernel.shape.join(', ')}]` : 'none'}.`,
    );
  }
  return restoredClassificationHead(labels, config.input as HeadInput, weights);
}

/** A head with saved weights; its embedding dimension follows from the weight's rows and the input. */
export function restoredClassificationHead(labels: readonly string[], input: HeadInput, weights: NamedTensors): ClassificationHead {
  const kernel = weights.get('classifier.weight');
  if (!kernel) throw new Error('The saved weights have no "classifier.weight" for the classification head.');
  const features = kernel.shape[0]!;
  const head = new ClassificationHead(labels, input, input === 'pair' ? features / 3 : features, 0);
  head.restore(weights);
  return head;
}
