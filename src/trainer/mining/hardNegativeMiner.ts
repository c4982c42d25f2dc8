import { createRandom } from '../data/seededRandom';
import { resolveMiningOptions, type MiningOptions, type ResolvedMiningOptions } from './miningOptions';
import { describeScores, type ScoreDistribution } from './scoreDistribution';
import { selectNegatives, SKIP_REASONS, type AnchorSelection, type SkipReason } from './selectNegatives';

/** What a mining run found, over all anchors. */
export interface MiningSummary {
  readonly anchors: number;
  /** Anchors that got all `numNegatives` negatives. */
  readonly anchorsWithEnough: number;
  /** Anchors that got some, but fewer. */
  readonly anchorsWithSome: number;
  readonly anchorsWithNone: number;
  /** Distinct (anchor, negative) pairs. */
  readonly negativesMined: number;
  /** Candidates looked at over all anchors (the anchors' positives not counted). */
  readonly candidates: number;
  readonly skipped: Readonly<Record<SkipReason, number>>;
  /** One score per (anchor, positive). */
  readonly positiveScores: ScoreDistribution;
  /** One score per (anchor, mined negative). */
  readonly negativeScores: ScoreDistribution;
  /** Positive minus negative score, for each positive and each negative of its anchor. */
  readonly differences: ScoreDistribution;
}

export interface MiningResult {
  readonly options: ResolvedMiningOptions;
  /** One per anchor, in anchor order. */
  readonly selections: readonly AnchorSelection[];
  readonly summary: MiningSummary;
}

/**
 * Mines negatives one score row at a time, so that a caller can compute the similarity matrix in chunks and never
 * hold all of it. Rows must come in anchor order: `random` sampling draws from one seeded sequence.
 */
export class HardNegativeMiner {
  private readonly selections: AnchorSelection[] = [];
  private readonly random: () => number;

  constructor(
    private readonly positives: readonly (readonly number[])[],
    readonly options: ResolvedMiningOptions,
  ) {
    this.random = createRandom(options.seed);
  }

  /** The similarities of anchor `anchor` to every corpus entry. */
  addRow(anchor: number, row: ArrayLike<number>): AnchorSelection {
    if (anchor !== this.selections.length)
      throw new Error(`Score rows must come in anchor order: got anchor ${anchor}, expected ${this.selections.length}.`);
    const positives = this.positives[anchor];
    if (!positives) throw new Error(`Anchor ${anchor} is out of range: there are ${this.positives.length} anchors.`);
    const selection = selectNegatives(row, positives, this.options, this.random);
    this.selections.push(selection);
    return selection;
  }

  get anchorsDone(): number {
    return this.selections.length;
  }

  result(): MiningResult {
    if (this.selections.length !== this.positives.length)
      throw new Error(`Mining is unfinished: ${this.selections.length} of ${this.positives.length} anchors have a score row.`);
    return { options: this.options, selections: [...this.selections], summary: summarize(this.selections, this.options) };
  }
}

/**
 * Mines every anchor of a whole similarity matrix: `scores[a][c]` is anchor a's similarity to corpus entry c, and
 * `positives[a]` lists a's positives among the corpus entries. Pure; for matrices that fit in memory.
 */
export function mineHardNegatives(
  scores: readonly ArrayLike<number>[],
  positives: readonly (readonly number[])[],
  options: MiningOptions = {},
): MiningResult {
  if (scores.length !== positives.length)
    throw new Error(`The score matrix has ${scores.length} rows, but ${positives.length} anchors have positives.`);
  const miner = new HardNegativeMiner(
    positives,
    resolveMiningOptions(
      options,
      positives.reduce((most, own) => Math.max(most, own.length), 0),
    ),
  );
  scores.forEach((row, anchor) => miner.addRow(anchor, row));
  return miner.result();
}

function summarize(selections: readonly AnchorSelection[], options: ResolvedMiningOptions): MiningSummary {
  const skipped = Object.fromEntries(SKIP_REASONS.map((reason) => [reason, 0])) as Record<SkipReason, number>;
  const positiveScores: number[] = [];
  const negativeScores: number[] = [];
  const differences: number[] = [];
  let anchorsWithEnough = 0;
  let anchorsWithNone = 0;
  let candidates = 0;
  for (const selection of selections) {
    for (const reason of SKIP_REASONS) skipped[reason] += selection.skipped[reason];
    candidates += selection.candidates;
    if (selection.negatives.length === options.numNegatives) anchorsWithEnough++;
    if (selection.negatives.length === 0) anchorsWithNone++;
    positiveScores.push(...selection.positiveScores);
    for (const negative of selection.negatives) {
      negativeScores.push(negative.score);
      for (const positive of selection.positiveScores) differences.push(positive - negative.score);
    }
  }
  return {
    anchors: selections.length,
    anchorsWithEnough,
    anchorsWithSome: selections.length - anchorsWithEnough - anchorsWithNone,
    anchorsWithNone,
    negativesMined: negativeScores.length,
    candidates,
    skipped,
    positiveScores: describeScores(positiveScores),
    negativeScores: describeScores(negativeScores),
    differences: describeScores(differences),
  };
}
