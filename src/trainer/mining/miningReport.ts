import type { MiningResult } from './hardNegativeMiner';
import type { MiningCorpus } from './miningCorpus';
import type { MinedTable, OutputFormat } from './minedRows';
import type { ScoreDistribution } from './scoreDistribution';
import { SKIP_REASONS } from './selectNegatives';

/** Where the mined rows came from and went, for the report. */
export interface MiningRunFacts {
  readonly model: string;
  readonly data: string;
  readonly out: string;
  readonly outputFormat: OutputFormat;
  /** Bad input rows dropped under on_bad_row: skip. */
  readonly rowsSkipped: number;
  /** The prompts put in front of anchors and corpus texts for encoding, if any. */
  readonly prompts: { readonly anchor?: string; readonly corpus?: string };
  readonly seconds: { readonly encoding: number; readonly mining: number };
}

/** The JSON report written next to the output: settings, counts, and the score distributions. */
export function miningReport(
  corpus: MiningCorpus,
  result: MiningResult,
  table: MinedTable,
  facts: MiningRunFacts,
): Record<string, unknown> {
  const { options, summary } = result;
  return {
    model: facts.model,
    data: facts.data,
    out: facts.out,
    output_format: facts.outputFormat,
    prompts: { anchor: facts.prompts.anchor ?? null, corpus: facts.prompts.corpus ?? null },
    options: {
      num_negatives: options.numNegatives,
      range_min: options.rangeMin,
      range_max: options.rangeMax,
      absolute_margin: options.absoluteMargin ?? null,
      relative_margin: options.relativeMargin ?? null,
      max_score: options.maxScore ?? null,
      min_score: options.minScore ?? null,
      sampling: options.sampling,
      seed: options.seed,
    },
    pairs: corpus.pairCount,
    rows_skipped: facts.rowsSkipped,
    anchors: summary.anchors,
    corpus_size: corpus.corpus.length,
    anchors_with_enough_negatives: summary.anchorsWithEnough,
    anchors_with_some_negatives: summary.anchorsWithSome,
    anchors_without_negatives: summary.anchorsWithNone,
    negatives_mined: summary.negativesMined,
    rows_written: table.rows.length,
    pairs_left_out: table.pairsLeftOut,
    candidates: summary.candidates,
    skipped: summary.skipped,
    scores: { positive: summary.positiveScores, negative: summary.negativeScores, difference: summary.differences },
    seconds: facts.seconds,
  };
}

/** The summary printed after mining: counts, the score table and what each filter dropped. */
export function miningSummaryLines(corpus: MiningCorpus, result: MiningResult, table: MinedTable, facts: MiningRunFacts): string[] {
  const { options, summary } = result;
  const percent = (part: number, whole: number) => (whole === 0 ? '0%' : `${((100 * part) / whole).toFixed(1)}%`);
  const prompted = Object.entries(facts.prompts).map(([role, text]) => `${role} ${JSON.stringify(text)}`);
  const lines = [
    `${corpus.pairCount} pairs: ${summary.anchors} anchors, ${corpus.corpus.length} distinct positives as the corpus${facts.rowsSkipped > 0 ? ` (${facts.rowsSkipped} bad rows skipped)` : ''}`,
    ...(prompted.length > 0 ? [`encoded with the prompts: ${prompted.join(', ')}`] : []),
    `anchors with all ${options.numNegatives} negatives: ${summary.anchorsWithEnough} (${percent(summary.anchorsWithEnough, summary.anchors)}); with fewer: ${summary.anchorsWithSome}; with none: ${summary.anchorsWithNone}`,
    `${table.rows.length} ${facts.outputFormat === 'triplet' ? 'triplets' : `${2 + options.numNegatives}-tuples`} written to ${facts.out}${table.pairsLeftOut > 0 ? ` (${table.pairsLeftOut} pairs left out for want of negatives)` : ''}`,
    '',
    scoreRow('score', ['positive', 'negative', 'difference']),
    ...(
      [
        ['count', (d: ScoreDistribution) => d.count],
        ['mean', (d: ScoreDistribution) => d.mean],
        ['std', (d: ScoreDistribution) => d.std],
        ['min', (d: ScoreDistribution) => d.min],
        ['25%', (d: ScoreDistribution) => d.p25],
        ['median', (d: ScoreDistribution) => d.median],
        ['75%', (d: ScoreDistribution) => d.p75],
        ['max', (d: ScoreDistribution) => d.max],
      ] as const
    ).map(([name, pick]) =>
      scoreRow(
        name,
        [summary.positiveScores, summary.negativeScores, summary.differences].map((distribution) => {
          const value = pick(distribution);
          return value === undefined ? '' : name === 'count' ? String(value) : value.toFixed(4);
        }),
      ),
    ),
  ];
  const filters = SKIP_REASONS.filter((reason) => summary.skipped[reason] > 0);
  if (filters.length > 0) lines.push('');
  for (const reason of filters)
    lines.push(`skipped ${summary.skipped[reason]} candidates (${percent(summary.skipped[reason], summary.candidates)}) by ${reason}`);
  if (summary.anchorsWithEnough < summary.anchors)
    lines.push(
      `${summary.anchors - summary.anchorsWithEnough} anchors got fewer than ${options.numNegatives} negatives; a larger --range-max, a smaller --range-min or looser --margin/--max-score would find more.`,
    );
  return lines;
}

function scoreRow(name: string, cells: readonly string[]): string {
  return `${name.padEnd(8)}${cells.map((cell) => cell.padStart(12)).join('')}`;
}
