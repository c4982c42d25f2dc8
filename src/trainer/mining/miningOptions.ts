/** How negatives are picked from the candidates that pass every filter. */
export type SamplingStrategy = 'top' | 'random';

/** The settings of `mine_hard_negatives` that EmbedTune follows; unset ones keep sentence-transformers' defaults. */
export interface MiningOptions {
  /** Negatives per anchor (default 3). */
  readonly numNegatives?: number;
  /** Skip this many of the best remaining candidates, which are often unlabelled positives (default 0). */
  readonly rangeMin?: number;
  /** Look no further than this rank; by default derived from the other settings, as sentence-transformers does. */
  readonly rangeMax?: number;
  /** Drop a candidate unless it scores at least this much below the anchor's (lowest) positive. */
  readonly absoluteMargin?: number;
  /** Drop a candidate scoring above `positive − |positive| × relativeMargin`. */
  readonly relativeMargin?: number;
  /** Drop a candidate scoring above this. */
  readonly maxScore?: number;
  /** Drop a candidate scoring below this. */
  readonly minScore?: number;
  /** `top` takes the best candidates in the window, `random` draws them from it (default `top`). */
  readonly sampling?: SamplingStrategy;
  /** Seeds `random` sampling, so that a mining run can be repeated (default 42). */
  readonly seed?: number;
}

export interface ResolvedMiningOptions {
  readonly numNegatives: number;
  readonly rangeMin: number;
  readonly rangeMax: number;
  readonly absoluteMargin?: number;
  readonly relativeMargin?: number;
  readonly maxScore?: number;
  readonly minScore?: number;
  readonly sampling: SamplingStrategy;
  readonly seed: number;
  /** The most positives any one anchor has: that many extra candidates are fetched so that positives cannot crowd out negatives. */
  readonly maxPositives: number;
}

/** A setting that cannot work; `option` is its name in `MiningOptions`. */
export class MiningOptionError extends Error {
  override readonly name = 'MiningOptionError';

  constructor(
    readonly option: keyof MiningOptions,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Fills in the defaults and rejects settings that would mine nothing without saying so. Without `rangeMax`, the
 * window is `rangeMin + numNegatives + maxPositives`, or ten times the negatives when a margin or `maxScore` may
 * filter candidates out: the rule of sentence-transformers' `mine_hard_negatives`.
 */
export function resolveMiningOptions(
  options: MiningOptions,
  maxPositives: number,
  /** How messages name an option: a CLI passes its flags, a config its keys. */
  nameOf: (option: keyof MiningOptions) => string = (option) => option,
): ResolvedMiningOptions {
  const requireWhole = (option: keyof MiningOptions, value: number, least: number) => {
    if (!Number.isInteger(value) || value < least)
      throw new MiningOptionError(option, `${nameOf(option)} must be a whole number of at least ${least}, not ${value}.`);
  };
  const numNegatives = options.numNegatives ?? 3;
  const rangeMin = options.rangeMin ?? 0;
  requireWhole('numNegatives', numNegatives, 1);
  requireWhole('rangeMin', rangeMin, 0);
  for (const name of ['absoluteMargin', 'relativeMargin', 'maxScore', 'minScore'] as const) {
    const value = options[name];
    if (value !== undefined && !Number.isFinite(value))
      throw new MiningOptionError(name, `${nameOf(name)} must be a finite number, not ${value}.`);
  }
  const filters = options.absoluteMargin !== undefined || options.relativeMargin !== undefined || options.maxScore !== undefined;
  const rangeMax = options.rangeMax ?? rangeMin + (filters ? numNegatives * 10 : numNegatives) + maxPositives;
  requireWhole('rangeMax', rangeMax, 1);
  if (rangeMin >= rangeMax)
    throw new MiningOptionError(
      'rangeMin',
      `${nameOf('rangeMin')} (${rangeMin}) must be smaller than ${nameOf('rangeMax')} (${rangeMax}).`,
    );
  if (numNegatives > rangeMax - rangeMin)
    throw new MiningOptionError(
      'numNegatives',
      `Cannot mine ${numNegatives} negatives per anchor: only ${rangeMax - rangeMin} candidates remain between ${nameOf('rangeMin')} ${rangeMin} and ${nameOf('rangeMax')} ${rangeMax}. Lower ${nameOf('numNegatives')} or ${nameOf('rangeMin')}, or raise ${nameOf('rangeMax')}.`,
    );
  const sampling = options.sampling ?? 'top';
  if (sampling !== 'top' && sampling !== 'random')
    throw new MiningOptionError('sampling', `${nameOf('sampling')} must be top or random, not "${String(sampling)}".`);
  const seed = options.seed ?? 42;
  requireWhole('seed', seed, 0);
  return {
    numNegatives,
    rangeMin,
    rangeMax,
    sampling,
    seed,
    maxPositives,
    ...(options.absoluteMargin !== undefined ? { absoluteMargin: options.absoluteMargin } : {}),
    ...(options.relativeMargin !== undefined ? { relativeMargin: options.relativeMargin } : {}),
    ...(options.maxScore !== undefined ? { maxScore: options.maxScore } : {}),
    ...(options.minScore !== undefined ? { minScore: options.minScore } : {}),
  };
}
