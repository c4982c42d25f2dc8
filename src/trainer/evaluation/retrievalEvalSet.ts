/** A validation pair seen as a retrieval judgment: the positive answers the anchor, unless `relevant` is false. */
export interface RetrievalPair {
  readonly anchor: string;
  readonly positive: string;
  /** False for a pair that is in the data but not a match, e.g. a contrastive pair labelled 0 or a low-scored pair. Default true. */
  readonly relevant?: boolean;
}

/** What `rankingMetrics` needs: texts to embed, and for each query the corpus indices of its relevant documents. */
export interface RetrievalEvalSet {
  readonly queries: string[];
  readonly corpus: string[];
  readonly relevant: number[][];
}

/**
 * Turns validation pairs into a retrieval task: every distinct anchor text is a query, every
 * distinct positive text is a corpus document (also those of non-relevant pairs, which act as
 * distractors), and a query's relevant documents are the positives of all its relevant pairs,
 * so an anchor that appears in several rows is one query with several answers. Anchors with no
 * relevant pair are left out, as sentence-transformers' evaluator leaves out such queries.
 * Texts are matched exactly; queries and documents keep their first-appearance order.
 */
export function buildRetrievalEvalSet(pairs: Iterable<RetrievalPair>): RetrievalEvalSet {
  const corpusIndex = new Map<string, number>();
  const relevantByAnchor = new Map<string, Set<number>>();
  for (const pair of pairs) {
    let doc = corpusIndex.get(pair.positive);
    if (doc === undefined) {
      doc = corpusIndex.size;
      corpusIndex.set(pair.positive, doc);
    }
    if (pair.relevant === false) continue;
    let docs = relevantByAnchor.get(pair.anchor);
    if (!docs) relevantByAnchor.set(pair.anchor, (docs = new Set()));
    docs.add(doc);
  }
  return {
    queries: [...relevantByAnchor.keys()],
    corpus: [...corpusIndex.keys()],
    relevant: [...relevantByAnchor.values()].map((docs) => [...docs]),
  };
}
