/**
 * Real (definition, words) pairs from WordNet 3.1, the reverse-dictionary task of `bench:real`: the anchor is a
 * synset's definition and the positive its word list, e.g. ("a member of the genus Canis …", "dog, domestic dog,
 * Canis familiaris"). Taken from one lexicographer file (e.g. noun.animal) in file order, so that the texts share a
 * topic and the nearest non-positives are close calls, which is what hard-negative mining is about.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { locateWordNet } from '../../src/trainer/preprocess/wordnet/wordNetLocation';

export interface GlossPair {
  readonly anchor: string;
  readonly positive: string;
}

/** WordNet's lexicographer file numbers of a few noun topics. */
export const LEXICOGRAPHER_FILES = { 'noun.animal': 5, 'noun.artifact': 6, 'noun.food': 13, 'noun.plant': 20 } as const;

/** The first `count` synsets of `lexicographerFile` whose definition has at least three words and whose word list is unique. */
export function wordNetGlossPairs(lexicographerFile: keyof typeof LEXICOGRAPHER_FILES, count: number): GlossPair[] {
  const wanted = LEXICOGRAPHER_FILES[lexicographerFile];
  const pairs: GlossPair[] = [];
  const seen = new Set<string>();
  for (const line of readFileSync(join(locateWordNet().databaseDir, 'data.noun'), 'utf8').split('\n')) {
    // The licence at the top of each data file is indented by two spaces.
    if (line === '' || line.startsWith('  ')) continue;
    const bar = line.indexOf(' | ');
    if (bar === -1) continue;
    const fields = line.slice(0, bar).split(' ');
    if (Number.parseInt(fields[1]!, 10) !== wanted) continue;
    const wordCount = Number.parseInt(fields[3]!, 16);
    const words = Array.from({ length: wordCount }, (_, i) => fields[4 + 2 * i]!.replace(/\([a-z]+\)$/, '').replace(/_/g, ' '));
    const definition = line
      .slice(bar + 3)
      .split(/;\s*"/)[0]!
      .trim();
    const positive = words.join(', ');
    if (definition.split(' ').length < 3 || seen.has(positive.toLowerCase())) continue;
    seen.add(positive.toLowerCase());
    pairs.push({ anchor: definition, positive });
    if (pairs.length === count) break;
  }
  return pairs;
}
