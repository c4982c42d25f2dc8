import nspell from 'nspell';
import type { HunspellDictionary } from './spellingDictionary';
import { WORD } from './spellingWords';

/** Words shorter than this are left alone: at one or two letters nearly every edit is another word. */
const MIN_WORD_LENGTH = 3;

/** What spelling correction did over a whole run's data, for `run_started` and `preview-data`. */
export interface SpellingCounts {
  /** Words replaced, counting every occurrence. */
  words_corrected: number;
  /** Words not in the dictionary that were left because they are frequent in the training data or protected. */
  words_kept_as_vocabulary: number;
  /** Words not in the dictionary left because no single close suggestion exists (none, or several at one edit). */
  words_left_ambiguous: number;
}

export interface SpellingCorrectorOptions {
  /** Lowercased words of the training data that count as vocabulary (frequent enough, or protected). */
  readonly vocabulary: ReadonlySet<string>;
}

/**
 * Corrects a word only when the dictionary does not know it, the training data does not use it often, it is not
 * protected, and exactly one dictionary word lies one edit away (an insertion, deletion, substitution or swap of two
 * neighbouring letters). Anything else, including acronyms and mixed-case identifiers, is left as written.
 */
export class SpellingCorrector {
  readonly counts: SpellingCounts = { words_corrected: 0, words_kept_as_vocabulary: 0, words_left_ambiguous: 0 };
  /** Each distinct correction made and how often, for showing what changed. */
  readonly corrections = new Map<string, { to: string; count: number }>();
  private readonly checker;
  private readonly decided = new Map<string, string | undefined>();

  constructor(
    dictionary: HunspellDictionary,
    private readonly options: SpellingCorrectorOptions,
  ) {
    this.checker = nspell(dictionary.aff, dictionary.dic);
  }

  /** The text with every correctable word corrected; the counts and `corrections` are updated. */
  correct(text: string): string {
    return text.replace(WORD, (word) => this.correctWord(word));
  }

  private correctWord(word: string): string {
    const casing = casingOf(word);
    if (word.length < MIN_WORD_LENGTH || casing === 'other') return word;
    const lower = word.toLowerCase();
    if (this.checker.correct(word) || this.checker.correct(lower)) return word;
    if (this.options.vocabulary.has(lower)) {
      this.counts.words_kept_as_vocabulary++;
      return word;
    }
    if (!this.decided.has(lower)) this.decided.set(lower, this.onlyCloseSuggestion(lower));
    const fix = this.decided.get(lower);
    if (fix === undefined) {
      this.counts.words_left_ambiguous++;
      return word;
    }
    const corrected = casing === 'capitalized' ? capitalized(fix) : fix;
    this.counts.words_corrected++;
    const seen = this.corrections.get(word);
    this.corrections.set(word, { to: corrected, count: (seen?.count ?? 0) + 1 });
    return corrected;
  }

  /**
   * The one dictionary word one edit from `lower`, or undefined when there is not exactly one. The edits are made
   * here and each is looked up, rather than asking Hunspell for suggestions: its search goes on to two edits when
   * one finds nothing, which costs about half a second per unknown word, and two-edit words are never used anyway.
   */
  private onlyCloseSuggestion(lower: string): string | undefined {
    const close = new Set<string>();
    for (const candidate of oneEditAway(lower)) {
      if (close.has(candidate) || !(this.checker.correct(candidate) || this.checker.correct(capitalized(candidate)))) continue;
      close.add(candidate);
      if (close.size > 1) return undefined;
    }
    return close.size === 1 ? [...close][0] : undefined;
  }
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Every string one deletion, swap of neighbours, replacement or insertion of a letter away from `word`. */
function* oneEditAway(word: string): Generator<string> {
  for (let i = 0; i <= word.length; i++) {
    const [before, after] = [word.slice(0, i), word.slice(i)];
    if (after.length > 0) yield before + after.slice(1);
    if (after.length > 1) yield before + after[1] + after[0] + after.slice(2);
    for (const letter of LETTERS) {
      if (after.length > 0 && letter !== after[0]) yield before + letter + after.slice(1);
      yield before + letter + after;
    }
  }
}

function capitalized(word: string): string {
  return word[0]!.toUpperCase() + word.slice(1);
}

/** Lowercase and Capitalized words are prose; ALL-CAPS and mIxEd words are acronyms or names, never corrected. */
function casingOf(word: string): 'lower' | 'capitalized' | 'other' {
  const rest = word.slice(1);
  if (rest !== rest.toLowerCase()) return 'other';
  return word[0] === word[0]!.toLowerCase() ? 'lower' : 'capitalized';
}
