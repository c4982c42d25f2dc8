import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TFJS_CHECKPOINT_FORMAT, TRAINER_STATE_FILE } from '../../shared/run/runFolder';
import { loadCheckpoint } from './checkpointStore';
import { CLASSIFIER_FOLDER, readClassifierFolder, restoredClassificationHead } from './classificationHeadExport';
import { ClassificationHead, type HeadInput } from './classificationHead';
import { readTokenClassifierFolder, TOKEN_CLASSIFIER_FOLDER } from './tokenClassificationExport';
import { TokenClassificationHead, type TokenObjective } from './tokenClassificationHead';

/**
 * What a checkpoint records of its task head, beside the head's weights in `encoder.safetensors`: the labels
 * (taken from the training rows, so not recoverable from the weights) and how the head reads its input.
 */
export type TaskHeadDescription =
  | { readonly kind: 'classifier'; readonly labels: readonly string[]; readonly input: HeadInput }
  | { readonly kind: 'token_classifier'; readonly labels: readonly string[]; readonly objective: TokenObjective };

export type TaskHead = ClassificationHead | TokenClassificationHead;

export function describeTaskHead(head: TaskHead): TaskHeadDescription {
  return head instanceof ClassificationHead
    ? { kind: 'classifier', labels: [...head.labels], input: head.input }
    : { kind: 'token_classifier', labels: [...head.labels], objective: head.objective };
}

/**
 * The task head of an EmbedTune checkpoint (described in its trainer_state.json) or of an exported model (its
 * `classifier/` or `token_classifier/` folder); undefined when the folder holds an encoder only.
 */
export function readSavedTaskHead(folder: string): TaskHead | undefined {
  const statePath = join(folder, TRAINER_STATE_FILE);
  // A Hugging Face Trainer checkpoint (the accelerate engine's) has a trainer_state.json of its own, without this format.
  const state = existsSync(statePath)
    ? (JSON.parse(readFileSync(statePath, 'utf8')) as { format?: unknown; head?: TaskHeadDescription })
    : undefined;
  if (state?.format === TFJS_CHECKPOINT_FORMAT) {
    const described = state.head;
    const { weights } = loadCheckpoint(folder);
    if (!described) {
      if (weights.has('classifier.weight') || weights.has('token_classifier.weight')) {
        throw new Error(
          `${folder} holds a task head's weights, but its trainer_state.json does not name the head's labels (it was saved by an older EmbedTune); use the run's exported model/ folder instead.`,
        );
      }
      return undefined;
    }
    if (described.kind === 'classifier') return restoredClassificationHead(described.labels, described.input, weights);
    const emission = weights.get('token_classifier.weight');
    if (!emission)
      throw new Error(
        `${folder}/encoder.safetensors has no "token_classifier.weight", though trainer_state.json describes a token-classification head.`,
      );
    const head = new TokenClassificationHead(described.labels, described.objective, emission.shape[0]!, 0);
    head.restore(weights);
    return head;
  }
  if (existsSync(join(folder, CLASSIFIER_FOLDER, 'config.json'))) return readClassifierFolder(folder);
  if (existsSync(join(folder, TOKEN_CLASSIFIER_FOLDER, 'config.json'))) return readTokenClassifierFolder(folder);
  return undefined;
}
