import { ENGLISH_STOP_WORDS } from './englishStopWords';
import { inflect } from './wordnet/inflection';
import { analyzeWord, type WordAnalysis } from './wordnet/morphology';
import type { PartOfSpeech, WordNetDatabase } from './wordnet/wordNetDatabase';

/** The synonyms a word can be replaced by, all in the part of speech and inflection it was read in. */
export interface SynonymChoice {
  readonly pos: PartOfSpeech;
  readonly lemma: string;
  /** Replacement forms in the word's own inflection, e.g. "automobiles" for "cars". */
  readonly replacements: readonly string[];
}

/** Words after which the next content word is a noun or an adjective, never a verb or an adverb's head. */
const DETERMINERS = new Set([
  'a',
  'an',
  'the',
  'this',
  'that',
  'these',
  'those',
  'my',
  'your',
  'his',
  'her',
  'its',
  'our',
  'their',
  'every',
  'each',
  'some',
  'any',
  'no',
]);

/** Words after which a word is read as a verb when it can be one: "will run", "she runs". "to" is not one: it is as often a preposition. */
const VERB_MARKERS = new Set([
  'will',
  'would',
  'can',
  'could',
  'shall',
  'should',
  'may',
  'might',
  'must',
  "don't",
  'dont',
  'do',
  'does',
  'did',
  'i',
  'you',
  'he',
  'she',
  'we',
  'they',
]);

type Context = 'noun-phrase' | 'after-subject-or-modal' | 'none';

/** Senses searched for synonyms, most frequent first; rarer senses drift too far from the word's likely meaning. */
const SENSES_SEARCHED = 3;

/** A word WordNet can know: letters, with inner hyphens or apostrophes. */
const LOOKUP_FORM = /^[a-z](?:[a-z'-]*[a-z])?$/;

const NOT_GRADED_OR_IRREGULAR = (reading: WordAnalysis) => reading.inflection !== 'irregular' && reading.inflection !== 'graded';

/**
 * Finds synonyms with WordNet for EDA's synonym replacement. A word is read in its most likely part of speech:
 * among the readings morphy finds (lemma and inflection per part of speech), the one whose lemma was seen most
 * often in WordNet's sense-tagged corpus, after a small look at the word before it: after a determiner or a word
 * that is most likely an adjective it is a noun or an adjective ("new cars", "quarterly reports"), and after a
 * subject pronoun or a modal it is a verb when it can be one ("she runs", "will buy"). This is not a tagger, but it
 * settles the common noun/verb ambiguity of plural and third-person forms. Synonyms come from the first of the lemma's most
 * frequent senses that has any, in that part of speech only, put into the word's inflection. Stop words,
 * proper nouns (capitalized lemmas) and words with no regular inflection to carry over are never replaced.
 */
export class SynonymFinder {
  private readonly cache = new Map<string, SynonymChoice | undefined>();
  private readonly contexts = new Map<string, Context>();

  constructor(private readonly wordnet: WordNetDatabase) {}

  /** Synonyms for `word` (any case) preceded by `previous`, or undefined when it must not or cannot be replaced. */
  find(word: string, previous: string | undefined): SynonymChoice | undefined {
    const form = word.toLowerCase();
    if (ENGLISH_STOP_WORDS.has(form) || !LOOKUP_FORM.test(form)) return undefined;
    const context = previous === undefined ? 'none' : this.contextAfter(previous.toLowerCase());
    const key = `${context}\u0000${form}`;
    if (this.cache.has(key)) return this.cache.get(key);
    const choice = this.choose(form, context);
    this.cache.set(key, choice);
    return choice;
  }

  private contextAfter(previous: string): Context {
    if (DETERMINERS.has(previous)) return 'noun-phrase';
    if (VERB_MARKERS.has(previous)) return 'after-subject-or-modal';
    if (ENGLISH_STOP_WORDS.has(previous) || !LOOKUP_FORM.test(previous)) return 'none';
    let context = this.contexts.get(previous);
    if (context === undefined) {
      context = mostLikely(analyzeWord(this.wordnet, previous))?.entry.pos === 'adj' ? 'noun-phrase' : 'none';
      this.contexts.set(previous, context);
    }
    return context;
  }

  private choose(form: string, context: Context): SynonymChoice | undefined {
    let readings = analyzeWord(this.wordnet, form).filter(NOT_GRADED_OR_IRREGULAR);
    if (context === 'noun-phrase') readings = preferred(readings, (reading) => reading.entry.pos === 'noun' || reading.entry.pos === 'adj');
    if (context === 'after-subject-or-modal') readings = preferred(readings, (reading) => reading.entry.pos === 'verb');
    const reading = mostLikely(readings);
    if (!reading) return undefined;
    const { entry } = reading;
    for (const offset of entry.synsetOffsets.slice(0, SENSES_SEARCHED)) {
      const replacements = new Set<string>();
      for (const lemma of this.wordnet.synset(entry.pos, offset).words) {
        if (lemma === entry.lemma || lemma.replace(/ /g, '_') === entry.lemma || lemma !== lemma.toLowerCase()) continue;
        const replacement = inflect(this.wordnet, lemma, reading.inflection);
        if (replacement && replacement !== form) replacements.add(replacement);
      }
      if (replacements.size > 0) return { pos: entry.pos, lemma: entry.lemma, replacements: [...replacements] };
    }
    return undefined;
  }
}

/** The readings that pass `test`, or all of them when none does: context narrows the choice but never empties it. */
function preferred(readings: WordAnalysis[], test: (reading: WordAnalysis) => boolean): WordAnalysis[] {
  const kept = readings.filter(test);
  return kept.length > 0 ? kept : readings;
}

/** The reading seen most often in the sense-tagged corpus; ties go to the one with more senses, then to WordNet's part-of-speech order. */
function mostLikely(readings: readonly WordAnalysis[]): WordAnalysis | undefined {
  let best: WordAnalysis | undefined;
  for (const reading of readings) {
    if (
      !best ||
      reading.entry.taggedSenseCount > best.entry.taggedSenseCount ||
      (reading.entry.taggedSenseCount === best.entry.taggedSenseCount &&
        reading.entry.synsetOffsets.length > best.entry.synsetOffsets.length)
    ) {
      best = reading;
    }
  }
  return best;
}
