import type { MiningResult } from './hardNegativeMiner';
import type { MiningCorpus } from './miningCorpus';

/** `triplet`: one row per negative; `n-tuple`: one row per pair with all its negatives, as sentence-transformers' `output_format`. */
export type OutputFormat = 'triplet' | 'n-tuple';

export const OUTPUT_FORMATS: readonly OutputFormat[] = ['triplet', 'n-tuple'];

/** The column names of the rows written: the data's own anchor and positive columns, and the negatives'. */
export interface OutputColumns {
  readonly anchor: string;
  readonly positive: string;
  /** Triplets use it as is; n-tuples number it: negative_1, negative_2, … */
  readonly negative: string;
}

export interface MinedTable {
  /** Column names in order. */
  readonly columns: readonly string[];
  readonly rows: readonly Readonly<Record<string, string | number[]>>[];
  /** Input pairs (after merging duplicates) that produced no row: their anchor got no negative (triplet) or too few (n-tuple). */
  readonly pairsLeftOut: number;
}

/** The column a score list is written to when scores are asked for, as in sentence-transformers. */
export const SCORES_COLUMN = 'scores';

/**
 * The rows of the mined data set, anchor by anchor in the order of the input, each anchor's positives in their
 * order. With `withScores`, a `scores` column holds the positive's score and then each negative's.
 */
export function minedTable(
  corpus: MiningCorpus,
  result: MiningResult,
  format: OutputFormat,
  columns: OutputColumns,
  withScores: boolean,
): MinedTable {
  const wanted = result.options.numNegatives;
  const negativeColumns =
    format === 'triplet' ? [columns.negative] : Array.from({ length: wanted }, (_, i) => `${columns.negative}_${i + 1}`);
  const names = [columns.anchor, columns.positive, ...negativeColumns, ...(withScores ? [SCORES_COLUMN] : [])];
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) throw new Error(`Two output columns would both be named "${repeated}"; name the columns apart.`);
  const rows: Record<string, string | number[]>[] = [];
  let pairsLeftOut = 0;
  result.selections.forEach((selection, anchorIndex) => {
    const anchor = corpus.anchors[anchorIndex]!;
    const { negatives } = selection;
    corpus.positives[anchorIndex]!.forEach((document, i) => {
      const positive = corpus.corpus[document]!;
      const positiveScore = selection.positiveScores[i]!;
      const kept = format === 'triplet' ? negatives.length > 0 : negatives.length === wanted;
      if (!kept) {
        pairsLeftOut++;
        return;
      }
      const base = { [columns.anchor]: anchor, [columns.positive]: positive };
      if (format === 'n-tuple') {
        const row: Record<string, string | number[]> = { ...base };
        negatives.forEach((negative, n) => (row[negativeColumns[n]!] = corpus.corpus[negative.index]!));
        if (withScores) row[SCORES_COLUMN] = [positiveScore, ...negatives.map((negative) => negative.score)];
        rows.push(row);
        return;
      }
      for (const negative of negatives) {
        rows.push({
          ...base,
          [columns.negative]: corpus.corpus[negative.index]!,
          ...(withScores ? { [SCORES_COLUMN]: [positiveScore, negative.score] } : {}),
        });
      }
    });
  });
  return { columns: names, rows, pairsLeftOut };
}
