import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers kernels' gradients only on request; training needs every one of them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { WordPieceAligner } from '../data/tokenClassificationAlignment';
import type { TokenTagsExample } from '../data/trainingExamples';
import { DropoutSource, mixSeed } from '../model/bert/dropoutSource';
import type { SentenceEmbedder } from '../model/sentenceEmbedder';
import type { PassCoordinates, StepGradients } from './gradientStep';
import type { TokenClassificationHead, TokenLossSettings } from './tokenClassificationHead';

/** What a token-classification pass needs besides the examples. */
export interface Tagger {
  readonly embedder: SentenceEmbedder;
  readonly head: TokenClassificationHead;
  readonly aligner: WordPieceAligner;
}

/**
 * Loss and gradients of one micro-batch of tagged sentences, for the encoder and the head: word pieces through
 * the encoder, the first piece of each word through the emission layer, then the head's loss (CRF or per word).
 * Dropout masks derive from the pass's coordinates, as for the other trainers, so a resumed run replays them.
 */
export function tokenClassificationGradients(
  { embedder, head, aligner }: Tagger,
  trainable: ReadonlyMap<string, tf.Variable>,
  examples: readonly TokenTagsExample[],
  settings: TokenLossSettings,
  coordinates: PassCoordinates,
  training = true,
): StepGradients {
  const aligned = aligner.align(
    examples.map((example) => example.tokens),
    embedder.settings.maxSeqLength,
  );
  const tags = new Int32Array(examples.length * aligned.words);
  aligned.taggedWords.forEach((wordIndices, b) =>
    wordIndices.forEach((word, w) => (tags[b * aligned.words + w] = head.indexOf(examples[b]!.tags[word]!))),
  );
  const dropout = training ? DropoutSource.forPass(mixSeed(coordinates.seed, coordinates.microBatch), coordinates.step, 0) : undefined;
  const { value, grads } = tf.variableGrads(() => {
    const emissions = head.emissions(embedder.encoder.forward(aligned.tokens, dropout), aligned.firstPieces, aligned.words);
    return head.loss(emissions, tags, aligned.lengths, settings);
  }, [...trainable.values()]);
  const loss = value.dataSync()[0]!;
  value.dispose();
  const gradients = new Map<string, tf.Tensor>();
  for (const [name, variable] of trainable) {
    const gradient = grads[variable.name];
    if (gradient) gradients.set(name, gradient);
  }
  return { loss, gradients };
}

/**
 * The predicted tag of every word of each sentence, in batches and without gradients. A word the model never saw
 * (cut off by model.max_seq_length, or one the tokenizer drops) is tagged 'O'.
 */
export async function predictTags(
  { embedder, head, aligner }: Tagger,
  sentences: readonly (readonly string[])[],
  batchSize: number,
): Promise<string[][]> {
  const predicted: string[][] = [];
  for (let start = 0; start < sentences.length; start += batchSize) {
    const chunk = sentences.slice(start, start + batchSize);
    const aligned = aligner.align(chunk, embedder.settings.maxSeqLength);
    const emissions = tf.tidy(() => head.emissions(embedder.encoder.forward(aligned.tokens), aligned.firstPieces, aligned.words));
    const paths = await head.decode(emissions, aligned.lengths);
    emissions.dispose();
    chunk.forEach((words, b) => {
      const tags = words.map(() => 'O');
      aligned.taggedWords[b]!.forEach((word, w) => (tags[word] = head.labels[paths[b]![w]!]!));
      predicted.push(tags);
    });
  }
  return predicted;
}
