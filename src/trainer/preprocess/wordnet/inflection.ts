import type { Inflection } from './morphology';
import type { WordNetDatabase } from './wordNetDatabase';

const VOWELS = /[aeiou]/;

/**
 * Puts a lemma into the inflection another word had, so that a synonym fits the sentence: "automobile" as a plural
 * is "automobiles", "sprint" in the past is "sprinted". A noun phrase inflects its last word and a verb phrase its
 * first ("go on foot" → "goes on foot"). Spelling changes come from WordNet's exception lists ("stop" → "stopped",
 * "child" → "children"); a verb whose past is irregular there ("run" → "ran") gives undefined, since its past tense
 * and past participle may differ. Irregular and graded forms are never produced.
 */
export function inflect(wordnet: WordNetDatabase, lemma: string, inflection: Inflection): string | undefined {
  if (inflection === 'none') return lemma;
  if (inflection === 'irregular' || inflection === 'graded') return undefined;
  const words = lemma.split(' ');
  const head = inflection === 'plural' ? words.length - 1 : 0;
  const inflected = inflection === 'plural' ? pluralOf(wordnet, words[head]!) : verbForm(wordnet, words[head]!, inflection);
  if (inflected === undefined) return undefined;
  words[head] = inflected;
  return words.join(' ');
}

function pluralOf(wordnet: WordNetDatabase, noun: string): string {
  const irregular = wordnet.exceptionForms(noun, 'noun')[0];
  if (irregular) return irregular;
  if (/(s|x|z|ch|sh)$/.test(noun)) return `${noun}es`;
  if (/[^aeiou]y$/.test(noun)) return `${noun.slice(0, -1)}ies`;
  return `${noun}s`;
}

function verbForm(wordnet: WordNetDatabase, verb: string, inflection: 'third-person' | 'past' | 'present-participle'): string | undefined {
  const listed = wordnet.exceptionForms(verb, 'verb');
  if (inflection === 'third-person') {
    if (verb === 'be') return 'is';
    if (verb === 'have') return 'has';
    if (/(s|x|z|ch|sh|o)$/.test(verb)) return `${verb}es`;
    if (/[^aeiou]y$/.test(verb)) return `${verb.slice(0, -1)}ies`;
    return `${verb}s`;
  }
  const ending = inflection === 'past' ? 'ed' : 'ing';
  const spelled = listed.find((form) => form.endsWith(ending));
  if (spelled) return spelled;
  // Any other listed form is an irregular one ("ran"): this verb does not inflect by the rules.
  if (listed.length > 0) return undefined;
  if (inflection === 'past') {
    if (verb.endsWith('e')) return `${verb}d`;
    if (/[^aeiou]y$/.test(verb)) return `${verb.slice(0, -1)}ied`;
    return `${verb}ed`;
  }
  if (verb.endsWith('ie')) return `${verb.slice(0, -2)}ying`;
  if (verb.endsWith('e') && !/(ee|ye|oe)$/.test(verb) && VOWELS.test(verb.slice(0, -1))) return `${verb.slice(0, -1)}ing`;
  return `${verb}ing`;
}
