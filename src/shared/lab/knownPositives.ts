/** Where an evaluation query's positives are in the Lab's corpus, and whether a query is one of the run's evaluation queries. */
export interface EvaluationQueries {
  readonly queries: readonly string[];
  readonly corpus: readonly string[];
  /** For each query, the indices into `corpus` of its relevant documents. */
  readonly relevant: readonly (readonly number[])[];
}

/**
 * The corpus indices of the query's known positives, ascending, when the query is an evaluation query (matched
 * exactly, as the evaluation matches texts); undefined for any other query. A positive missing from the corpus
 * (the user picked another file) has no index and is left out.
 */
export function knownPositiveIndices(query: string, evaluation: EvaluationQueries, corpus: readonly string[]): number[] | undefined {
  const q = evaluation.queries.indexOf(query);
  if (q < 0) return undefined;
  const where = new Map<string, number>();
  corpus.forEach((text, index) => {
    if (!where.has(text)) where.set(text, index);
  });
  const found = evaluation.relevant[q]!.flatMap((document) => {
    const index = where.get(evaluation.corpus[document]!);
    return index === undefined ? [] : [index];
  });
  return [...new Set(found)].sort((a, b) => a - b);
}
