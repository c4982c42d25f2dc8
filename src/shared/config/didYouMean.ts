import { distance } from 'fastest-levenshtein';

/**
 * The closest candidate to a misspelt word, or undefined when nothing is close enough to be a plausible typo.
 * Separator differences (`learning-rate`, `learningRate`) count as an exact match.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const normalizedWord = normalize(word);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
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

function normalize(word: string): string {
  return word.toLowerCase().replace(/[-_\s]/g, '');
}
