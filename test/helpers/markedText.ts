import type { TextRange } from '../../src/shared/textRange';

/** `training:\n  lear|` → the text without `|` and the cursor offset. */
export function withCursor(marked: string): { text: string; offset: number } {
  const offset = marked.indexOf('|');
  if (offset === -1) throw new Error('no | cursor marker in test text');
  return { text: marked.slice(0, offset) + marked.slice(offset + 1), offset };
}

/** `training:\n  [[lerning_rate]]: 1` → the text without the brackets and the range they marked. */
export function withRange(marked: string): { text: string; range: TextRange } {
  const start = marked.indexOf('[[');
  const end = marked.indexOf(']]');
  if (start === -1 || end < start) throw new Error('no [[range]] marker in test text');
  const text = marked.slice(0, start) + marked.slice(start + 2, end) + marked.slice(end + 2);
  return { text, range: { start, end: end - 2 } };
}
