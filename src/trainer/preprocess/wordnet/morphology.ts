import { PARTS_OF_SPEECH, type IndexEntry, type PartOfSpeech, type WordNetDatabase } from './wordNetDatabase';

/**
 * The inflection a word form carries relative to its lemma, as far as it can be carried over to a synonym:
 * `irregular` (e.g. "ran", "better") and `graded` (comparatives and superlatives) cannot be reproduced reliably
 * on another word, so synonym replacement leaves such words alone.
 */
export type Inflection = 'none' | 'plural' | 'third-person' | 'past' | 'present-participle' | 'graded' | 'irregular';

/** One reading of a word form: a lemma in one part of speech, and how the form inflects it. */
export interface WordAnalysis {
  readonly entry: IndexEntry;
  readonly inflection: Inflection;
}

/** WordNet's detachment rules (morph.c): an inflectional ending and what replaces it in the base form. */
const DETACHMENT_RULES: Record<PartOfSpeech, readonly (readonly [ending: string, replacement: string])[]> = {
  noun: [
    ['s', ''],
    ['ses', 's'],
    ['xes', 'x'],
    ['zes', 'z'],
    ['ches', 'ch'],
    ['shes', 'sh'],
    ['men', 'man'],
    ['ies', 'y'],
  ],
  verb: [
    ['s', ''],
    ['ies', 'y'],
    ['es', 'e'],
    ['es', ''],
    ['ed', 'e'],
    ['ed', ''],
    ['ing', 'e'],
    ['ing', ''],
  ],
  adj: [
    ['er', ''],
    ['est', ''],
    ['er', 'e'],
    ['est', 'e'],
  ],
  adv: [],
};

/**
 * Every reading of a lower-case word form, as WordNet's morphy finds them: the form itself when it is a lemma,
 * the base forms its exception list gives, and the base forms its detachment rules produce that are lemmas.
 * Nouns ending in "ss" are not detached ("glass" is not the plural of "glas").
 */
export function analyzeWord(wordnet: WordNetDatabase, form: string): WordAnalysis[] {
  const analyses: WordAnalysis[] = [];
  for (const pos of PARTS_OF_SPEECH) {
    const seen = new Set<string>();
    const add = (lemma: string, inflection: Inflection) => {
      if (seen.has(lemma)) return;
      const entry = wordnet.lookup(lemma, pos);
      if (!entry) return;
      seen.add(lemma);
      analyses.push({ entry, inflection });
    };
    add(form, 'none');
    for (const base of wordnet.exceptionBases(form, pos)) add(base, inflectionOf(pos, form, true));
    if (pos === 'noun' && form.endsWith('ss')) continue;
    for (const [ending, replacement] of DETACHMENT_RULES[pos]) {
      if (form.length > ending.length && form.endsWith(ending))
        add(form.slice(0, -ending.length) + replacement, inflectionOf(pos, form, false));
    }
  }
  return analyses;
}

/** What an inflected form of `pos` expresses, told from its ending; an exception-list form with no regular ending is irregular. */
function inflectionOf(pos: PartOfSpeech, form: string, fromExceptionList: boolean): Inflection {
  if (pos === 'noun') return 'plural';
  if (pos === 'adj' || pos === 'adv') return 'graded';
  if (form.endsWith('ing')) return 'present-participle';
  if (form.endsWith('ed')) return 'past';
  if (form.endsWith('s') && !fromExceptionList) return 'third-person';
  return 'irregular';
}
