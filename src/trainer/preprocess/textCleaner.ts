import type { ResolvedConfig } from '../../shared/config/configTypes';
import { htmlToText } from './htmlToText';

export type CleanOptions = ResolvedConfig['preprocess']['clean'];

/**
 * What `remove_special_characters` removes: anything that is not a letter, mark, digit, punctuation, currency or
 * math symbol, or whitespace (emoji, pictographs, control characters), plus invisible format characters (zero-width
 * joiners, byte-order marks, tag characters) and the emoji variation selectors and keycap mark that would
 * otherwise survive as combining marks once their emoji is gone.
 */
const SPECIAL_CHARACTERS = /[^\p{L}\p{M}\p{N}\p{P}\p{Sc}\p{Sm}\s]|[\p{Cf}\uFE00-\uFE0F\u20E3\u{E0100}-\u{E01EF}]/gu;

const WHITESPACE_RUN = /\s+/g;

/** Whether cleaning with these options can change any text at all, so that callers can skip it. */
export function cleansAnything(options: CleanOptions): boolean {
  return (
    options.strip_html ||
    options.lowercase ||
    options.unicode_normalization !== 'none' ||
    options.remove_special_characters ||
    options.collapse_whitespace
  );
}

/**
 * Builds the function that applies `preprocess.clean` to one text, in the order that lets each step see the
 * output of the one before: markup is removed first (its entities may decode to characters that need
 * normalizing), then Unicode normalization (NFKC folds full-width letters that lowercasing then sees), then
 * lowercasing, special-character removal, and last whitespace collapsing (removals leave gaps).
 */
export function textCleaner(options: CleanOptions): (text: string) => string {
  return (text) => {
    let cleaned = text;
    if (options.strip_html) cleaned = htmlToText(cleaned);
    if (options.unicode_normalization !== 'none') cleaned = cleaned.normalize(options.unicode_normalization);
    if (options.lowercase) cleaned = cleaned.toLowerCase();
    if (options.remove_special_characters) cleaned = cleaned.replace(SPECIAL_CHARACTERS, '');
    if (options.collapse_whitespace) cleaned = cleaned.replace(WHITESPACE_RUN, ' ').trim();
    return cleaned;
  };
}
