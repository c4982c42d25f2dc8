import type { Example, ExampleByKind, ExampleKind } from './trainingExamples';

/**
 * The text an example is compared on to find exact duplicates: (anchor, positive) for every
 * pair kind, the text for text classification, the token list for token classification.
 * Surrounding spaces are ignored. Scores, labels and negatives are not part of the key, so two
 * rows of the same pair with different scores count as duplicates and the first one is kept.
 */
export function duplicateKey(kind: ExampleKind, example: Example): string {
  if (kind === 'text-label') return (example as ExampleByKind['text-label']).text.trim();
  if (kind === 'token-tags') return JSON.stringify((example as ExampleByKind['token-tags']).tokens.map((token) => token.trim()));
  const pair = example as ExampleByKind['pair'];
  // A NUL cannot be typed into a data file, so it cannot make two different pairs collide.
  return `${pair.anchor.trim()}\u0000${pair.positive.trim()}`;
}

/** Drops exact duplicates (see `duplicateKey`), keeping the first of each in file order. */
export function deduplicate<K extends ExampleKind>(
  kind: K,
  examples: readonly ExampleByKind[K][],
): { kept: ExampleByKind[K][]; removed: number } {
  const seen = new Set<string>();
  const kept = examples.filter((example) => {
    const key = duplicateKey(kind, example);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { kept, removed: examples.length - kept.length };
}
