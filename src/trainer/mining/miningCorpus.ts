import type { PairExample } from '../../shared/data/trainingExamples';

/** The texts a mining run encodes, and which corpus entries are each anchor's positives. */
export interface MiningCorpus {
  /** Each distinct anchor once, in order of first appearance. */
  readonly anchors: readonly string[];
  /** Each distinct positive once, in order of first appearance: the texts negatives are drawn from. */
  readonly corpus: readonly string[];
  /** For each anchor, the corpus indices of its positives, each once, in order of first appearance. */
  readonly positives: readonly (readonly number[])[];
  /** For each anchor, how many pairs it had, repeated pairs included. */
  readonly pairsPerAnchor: readonly number[];
  /** The pairs read, duplicates included. */
  readonly pairCount: number;
}

/**
 * Groups pairs as sentence-transformers' `mine_hard_negatives` does when it is given no separate corpus: the
 * corpus is the positives, deduplicated by exact text; an anchor that occurs in several pairs is one anchor with
 * several positives, none of which can be mined as its negative.
 */
export function buildMiningCorpus(pairs: readonly PairExample[]): MiningCorpus {
  const corpusIndex = new Map<string, number>();
  const anchorIndex = new Map<string, number>();
  const corpus: string[] = [];
  const anchors: string[] = [];
  const positives: number[][] = [];
  const pairsPerAnchor: number[] = [];
  for (const { anchor, positive } of pairs) {
    let document = corpusIndex.get(positive);
    if (document === undefined) {
      document = corpus.push(positive) - 1;
      corpusIndex.set(positive, document);
    }
    let query = anchorIndex.get(anchor);
    if (query === undefined) {
      query = anchors.push(anchor) - 1;
      anchorIndex.set(anchor, query);
      positives.push([]);
      pairsPerAnchor.push(0);
    }
    pairsPerAnchor[query]!++;
    const own = positives[query]!;
    if (!own.includes(document)) own.push(document);
  }
  return { anchors, corpus, positives, pairsPerAnchor, pairCount: pairs.length };
}

/**
 * The most pairs of any one anchor: that many extra candidates are fetched so that positives cannot crowd out
 * negatives. Repeated pairs count, as in sentence-transformers (it counts rows per anchor), so that both fetch the
 * same candidates.
 */
export function mostPositives(corpus: MiningCorpus): number {
  return corpus.pairsPerAnchor.reduce((most, count) => Math.max(most, count), 0);
}
