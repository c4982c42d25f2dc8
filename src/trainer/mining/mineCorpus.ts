import type { SentenceEmbedder } from '../model/sentenceEmbedder';
import { HardNegativeMiner, type MiningResult } from './hardNegativeMiner';
import type { MiningCorpus } from './miningCorpus';
import { encodeUnitVectors, forEachScoreRow } from './miningEmbeddings';
import type { ResolvedMiningOptions } from './miningOptions';

export type MiningStage = 'encoding' | 'mining';

export interface MineCorpusSettings {
  readonly batchSize: number;
  /** Put in front of anchors and corpus texts for encoding only, as encode_query and encode_document do. */
  readonly prompts: { readonly anchor?: string; readonly corpus?: string };
  /** Called when a stage starts (done 0) and as it goes: texts encoded, then anchors mined. */
  readonly onProgress: (stage: MiningStage, done: number, total: number) => void;
}

/**
 * Encodes the corpus and the anchors with `embedder`, then mines each anchor's negatives from its row of cosine
 * similarities, one chunk of rows at a time.
 */
export async function mineCorpus(
  embedder: SentenceEmbedder,
  corpus: MiningCorpus,
  options: ResolvedMiningOptions,
  settings: MineCorpusSettings,
): Promise<{ result: MiningResult; seconds: { encoding: number; mining: number } }> {
  const { prompts, onProgress } = settings;
  const encodingStarted = performance.now();
  const texts = [
    ...corpus.corpus.map((text) => (prompts.corpus ?? '') + text),
    ...corpus.anchors.map((text) => (prompts.anchor ?? '') + text),
  ];
  onProgress('encoding', 0, texts.length);
  const vectors = await encodeUnitVectors(embedder, texts, settings.batchSize, (done) => onProgress('encoding', done, texts.length));
  const encoding = seconds(encodingStarted);

  const miningStarted = performance.now();
  const miner = new HardNegativeMiner(corpus.positives, options);
  const anchors = corpus.anchors.length;
  onProgress('mining', 0, anchors);
  await forEachScoreRow(vectors.slice(corpus.corpus.length), vectors.slice(0, corpus.corpus.length), (anchor, row) => {
    miner.addRow(anchor, row);
    onProgress('mining', anchor + 1, anchors);
  });
  return { result: miner.result(), seconds: { encoding, mining: seconds(miningStarted) } };
}

function seconds(since: number): number {
  return Math.round((performance.now() - since) / 10) / 100;
}
