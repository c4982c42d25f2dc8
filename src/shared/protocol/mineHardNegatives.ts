/**
 * The "mine hard negatives" quick fix: the language server offers it as a code action carrying this command, and the
 * extension runs it, since mining is slow and runs the engine, which the server must never start itself.
 */
export const MINE_HARD_NEGATIVES_COMMAND = 'embedtune.mineHardNegatives';

export const MINE_HARD_NEGATIVES_TITLE = 'Mine hard negatives for these pairs';

/** The mined rows' negative column; `data.columns.negative` maps it as a one-column list, which mnrl reads as negatives. */
export const MINED_NEGATIVE_COLUMN = 'negative';
