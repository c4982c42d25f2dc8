import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NamedTensors } from '../model/namedTensors';
import { writeSafetensors } from '../model/safetensors';
import type { TokenClassificationHead } from './tokenClassificationHead';

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
export async function writeTokenClassifierFolder(modelFolder: string, head: TokenClassificationHead, maxSeqLength: number): Promise<string> {
  const folder = join(modelFolder, TOKEN_CLASSIFIER_FOLDER);
  mkdirSync(folder, { recursive: true });
  const snapshot = await head.snapshot();
  const kernel = snapshot.get('token_classifier.weight')!;
  const [hidden, tags] = kernel.shape as [number, number];
  const outputMajor = new Float32Array(kernel.data.length);
  for (let i = 0; i < hidden; i++) for (let j = 0; j < tags; j++) outputMajor[j * hidden + i] = (kernel.data as Float32Array)[i * tags + j]!;
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
