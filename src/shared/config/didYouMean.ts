import { distance } from 'fastest-levenshtein';

/**
 * The closest candidate to a misspelt word, or undefined when nothing is close enough to be a plausible typo.
 * Separator differences (`learning-rate`, `learningRate`) count as an exact match.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const normalizedWord = normalize(word);
  let best: string | undefined;
  let bestDistance = Infinity;
  const typedSymbols = symbolsOf(word);
  for (const candidate of candidates) {
    // A candidate that lacks a symbol the user typed (the @ of recall@0) is a different kind of value, not a typo.
    if ([...typedSymbols].some((symbol) => !candidate.includes(symbol))) continue;
    const normalizedCandidate = normalize(candidate);
    if (normalizedCandidate === normalizedWord) return candidate;
    const d = distance(normalizedWord, normalizedCandidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  if (best === undefined) return undefined;
  // Two edits cover a transposition (`mnlr`), which Levenshtein counts as two.
  const allowed = Math.max(2, Math.floor(Math.max(normalizedWord.length, normalize(best).length) / 3));
  return bestDistance <= allowed ? best : undefined;
}

function symbolsOf(word: string): Set<string> {
  return new Set(word.replace(/[\w\s-]/g, ''));
}

function normalize(word: string): string {
  return word.toLowerCase().replace(/[-_\s]/g, '');
}
