import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NamedTensors } from '../model/namedTensors';
import { readSafetensors, writeSafetensors } from '../model/safetensors';
import { TokenClassificationHead, type TokenObjective } from './tokenClassificationHead';

/** The folder, inside an exported model, that holds the tagger on top of the sentence-transformers encoder. */
export const TOKEN_CLASSIFIER_FOLDER = 'token_classifier';

/**
 * Writes the head beside the encoder's sentence-transformers files, in `token_classifier/`:
 * - `model.safetensors`: `classifier.weight` [tags, hidden] and `classifier.bias` [tags], laid out as the
 *   `classifier` of transformers' BertForTokenClassification; with a CRF also `crf.transitions` [tags, tags]
 *   (row = previous tag), `crf.start_transitions` and `crf.end_transitions` [tags], named as pytorch-crf's CRF;
 * - `config.json`: the tags in index order (`id2label`, `label2id`), the objective, and how words map to word
 *   pieces (`first_subtoken`: each word is tagged from the encoder output at its first piece).
 */
export async function writeTokenClassifierFolder(
  modelFolder: string,
  head: TokenClassificationHead,
  maxSeqLength: number,
): Promise<string> {
  const folder = join(modelFolder, TOKEN_CLASSIFIER_FOLDER);
  mkdirSync(folder, { recursive: true });
  const snapshot = await head.snapshot();
  const kernel = snapshot.get('token_classifier.weight')!;
  const [hidden, tags] = kernel.shape as [number, number];
  const outputMajor = new Float32Array(kernel.data.length);
  for (let i = 0; i < hidden; i++)
    for (let j = 0; j < tags; j++) outputMajor[j * hidden + i] = (kernel.data as Float32Array)[i * tags + j]!;
  const tensors: NamedTensors = new Map([
    ['classifier.weight', { dtype: 'F32', shape: [tags, hidden], data: outputMajor }],
    ['classifier.bias', snapshot.get('token_classifier.bias')!],
  ]);
  for (const name of ['crf.transitions', 'crf.start_transitions', 'crf.end_transitions']) {
    const tensor = snapshot.get(name);
    if (tensor) tensors.set(name, tensor);
  }
  writeSafetensors(join(folder, 'model.safetensors'), tensors, { format: 'pt' });
  const config = {
    task: 'token-classification',
    objective: head.objective,
    crf: head.objective === 'crf',
    hidden_size: hidden,
    num_labels: tags,
    id2label: Object.fromEntries(head.labels.map((label, i) => [String(i), label])),
    label2id: Object.fromEntries(head.labels.map((label, i) => [label, i])),
    word_alignment: 'first_subtoken',
    max_seq_length: maxSeqLength,
  };
  writeFileSync(join(folder, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return folder;
}

/** Reads the head that `writeTokenClassifierFolder` wrote into an exported model folder, e.g. to tag or evaluate with it. */
export function readTokenClassifierFolder(modelFolder: string): TokenClassificationHead {
  const folder = join(modelFolder, TOKEN_CLASSIFIER_FOLDER);
  const configPath = join(folder, 'config.json');
  if (!existsSync(configPath))
    throw new Error(`${modelFolder} has no ${TOKEN_CLASSIFIER_FOLDER}/config.json, so it holds no token-classification head.`);
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as {
    objective?: string;
    hidden_size?: number;
    id2label?: Record<string, string>;
  };
  const objectives: readonly string[] = ['crf', 'softmax', 'focal'];
  const labels = Object.entries(config.id2label ?? {})
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, label]) => label);
  if (!objectives.includes(config.objective ?? '') || typeof config.hidden_size !== 'number' || labels.length === 0) {
    throw new Error(`${configPath} needs "objective" (${objectives.join(', ')}), "hidden_size" and "id2label".`);
  }
  const tensors = readSafetensors(join(folder, 'model.safetensors')).tensors;
  const kernel = tensors.get('classifier.weight');
  const bias = tensors.get('classifier.bias');
  if (!kernel || !bias) throw new Error(`${join(folder, 'model.safetensors')} has no classifier.weight and classifier.bias.`);
  const [tags, hidden] = kernel.shape as [number, number];
  if (tags !== labels.length || hidden !== config.hidden_size) {
    throw new Error(
      `${join(folder, 'model.safetensors')} has a [${kernel.shape.join(', ')}] classifier.weight, but config.json names ${labels.length} tags and hidden size ${config.hidden_size}.`,
    );
  }
  const inputMajor = new Float32Array(kernel.data.length);
  for (let j = 0; j < tags; j++) for (let i = 0; i < hidden; i++) inputMajor[i * tags + j] = (kernel.data as Float32Array)[j * hidden + i]!;
  const weights: NamedTensors = new Map([
    ['token_classifier.weight', { dtype: 'F32', shape: [hidden, tags], data: inputMajor }],
    ['token_classifier.bias', bias],
  ]);
  for (const name of ['crf.transitions', 'crf.start_transitions', 'crf.end_transitions']) {
    const tensor = tensors.get(name);
    if (tensor) weights.set(name, tensor);
  }
  const head = new TokenClassificationHead(labels, config.objective as TokenObjective, hidden, 0);
  head.restore(weights);
  return head;
}
