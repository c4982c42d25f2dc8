/**
 * The words spelling correction looks at: runs of letters, with inner apostrophes ("don't"). A run that touches a
 * digit, an underscore, an @ or a path or dotted-name separator followed by more word characters ("v2beta",
 * "snake_case", "user@host", "file.txt", "x-ray") is part of an identifier, not prose, and is not a word here.
 */
export const WORD =
  /(?<![\p{L}\p{M}\p{N}_@]|[-./\\][\p{L}\p{N}])\p{L}[\p{L}\p{M}]*(?:['’]\p{L}[\p{L}\p{M}]*)*(?![\p{L}\p{M}\p{N}_@]|[-./\\'’][\p{L}\p{N}])/gu;

/** The words of a text, as `WORD` finds them. */
export function wordsOf(text: string): string[] {
  return text.match(WORD) ?? [];
}

/** How often each word (lowercased) occurs in the texts: the data's own vocabulary, which correction never touches. */
export function countWords(texts: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) for (const word of wordsOf(text)) counts.set(word.toLowerCase(), (counts.get(word.toLowerCase()) ?? 0) + 1);
  return counts;
}

/** The restricted Damerau-Levenshtein (optimal string alignment) distance: a swap of two neighbours counts as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
