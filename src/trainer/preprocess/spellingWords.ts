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
