/** "encoding 64/2000 with ./base" → what the progress notification says, or undefined for other lines. */
export function encodingProgress(line: string): string | undefined {
  const match = /^encoding (\d+)\/(\d+) with (.+)$/.exec(line);
  return match ? `encoding the corpus with ${match[3]}: ${match[1]} of ${match[2]} texts` : undefined;
}
