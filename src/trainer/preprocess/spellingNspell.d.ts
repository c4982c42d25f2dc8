// nspell ships no types; this covers the part of its API that spellingCorrector uses.
declare module 'nspell' {
  interface NSpell {
    /** Whether the word is in the dictionary (with its affixes and casing rules). */
    correct(word: string): boolean;
    /** Dictionary words close to `word`, closest first. */
    suggest(word: string): string[];
  }
  function nspell(aff: string | Uint8Array, dic: string | Uint8Array): NSpell;
  export = nspell;
}
