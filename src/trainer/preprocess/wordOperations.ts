import type { SynonymFinder } from './synonymFinder';

/** EDA's operations, in the order they are applied and reported. */
export const AUGMENT_OPERATIONS = ['synonym_replacement', 'random_swap', 'random_deletion'] as const;

export type AugmentOperationName = (typeof AUGMENT_OPERATIONS)[number];

/** A whitespace-separated word split from the punctuation around it, so that "cars," becomes "autos,". */
const WORD_PARTS = /^([^\p{L}\p{N}]*)(.*?)([^\p{L}\p{N}]*)$/su;

function splitWord(word: string): { lead: string; core: string; trail: string } {
  const [, lead = '', core = '', trail = ''] = WORD_PARTS.exec(word) ?? [];
  return { lead, core, trail };
}

/** A replacement written in the case of the word it replaces: "Cars" → "Autos", "CARS" → "AUTOS". */
function inCaseOf(original: string, replacement: string): string {
  if (original.length > 1 && original === original.toUpperCase() && original !== original.toLowerCase()) return replacement.toUpperCase();
  if (original[0] !== undefined && original[0] !== original[0].toLowerCase()) return replacement[0]!.toUpperCase() + replacement.slice(1);
  return replacement;
}

/**
 * The positions that an operation changes: each candidate independently with `probability`, and at least one,
 * as in EDA, so that every augmented copy differs from its row.
 */
function pickPositions(candidates: readonly number[], probability: number, random: () => number): number[] {
  const picked = candidates.filter(() => random() < probability);
  if (picked.length === 0 && candidates.length > 0) picked.push(candidates[Math.floor(random() * candidates.length)]!);
  return picked;
}

export interface SynonymReplacementOptions {
  readonly synonyms: SynonymFinder;
  readonly probability: number;
  /** Only these positions may change, e.g. the tokens outside entities. */
  readonly replaceable?: (index: number) => boolean;
  /** Keep one token one word: a multi-word synonym ("motor car") would break the token/tag alignment. */
  readonly singleWordOnly?: boolean;
}

/** EDA synonym replacement: words swapped for WordNet synonyms. Undefined when no word of the text has one. */
export function replaceSynonyms(words: readonly string[], options: SynonymReplacementOptions, random: () => number): string[] | undefined {
  const choices = new Map<number, readonly string[]>();
  let previous: string | undefined;
  words.forEach((word, index) => {
    const { core } = splitWord(word);
    if (options.replaceable?.(index) ?? true) {
      const choice = options.synonyms.find(core, previous);
      const replacements = choice?.replacements.filter((replacement) => !options.singleWordOnly || !replacement.includes(' '));
      if (replacements && replacements.length > 0) choices.set(index, replacements);
    }
    previous = core;
  });
  const positions = pickPositions([...choices.keys()], options.probability, random);
  if (positions.length === 0) return undefined;
  const replaced = [...words];
  for (const index of positions) {
    const replacements = choices.get(index)!;
    const { lead, core, trail } = splitWord(words[index]!);
    replaced[index] = lead + inCaseOf(core, replacements[Math.floor(random() * replacements.length)]!) + trail;
  }
  return replaced;
}

/** EDA random swap: as many swaps of two movable items as positions picked. Undefined with fewer than two movable items. */
export function swapRandomly<T>(
  items: readonly T[],
  movable: readonly number[],
  probability: number,
  random: () => number,
): T[] | undefined {
  if (movable.length < 2) return undefined;
  const swapped = [...items];
  for (let swaps = pickPositions(movable, probability, random).length; swaps > 0; swaps--) {
    const first = Math.floor(random() * movable.length);
    const second = (first + 1 + Math.floor(random() * (movable.length - 1))) % movable.length;
    const [a, b] = [movable[first]!, movable[second]!];
    [swapped[a], swapped[b]] = [swapped[b]!, swapped[a]!];
  }
  return swapped;
}

/** EDA random deletion: the picked removable items deleted, always leaving at least one item. Undefined with a single item. */
export function deleteRandomly<T>(
  items: readonly T[],
  removable: readonly number[],
  probability: number,
  random: () => number,
): T[] | undefined {
  if (items.length < 2 || removable.length === 0) return undefined;
  const deleted = new Set(pickPositions(removable, probability, random));
  if (deleted.size === items.length) deleted.delete([...deleted][Math.floor(random() * deleted.size)]!);
  return items.filter((_, index) => !deleted.has(index));
}
