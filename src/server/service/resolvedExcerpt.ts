const TOP_LEVEL_KEY = /^([A-Za-z_][\w-]*)\s*:/;
const NESTED_KEY = /^ +([A-Za-z_][\w-]*)\s*:(\s|$)/;

/**
 * The lines of a block-style config.resolved.yaml, as both engines write it, that hold the values at `paths` (two
 * levels: section and key), each key with its whole block. Parsing YAML is most of the cost of reading a past run,
 * and a resolved config is mostly keys the history never shows (data, preprocessing, a long metrics list), so that
 * the first read of 200 runs parses a dozen lines each rather than hundreds. Anything this cannot follow safely (a
 * document marker, a directive, flow style at the top, a section that is a list, a quoted or complex key) gives back
 * the whole text, which reads the same, only slower.
 */
export function resolvedExcerpt(text: string, paths: readonly (readonly string[])[]): string {
  if (/^(---|\.\.\.|%|[{[])/m.test(text)) return text;
  const wanted = new Map<string, Set<string>>();
  for (const [section, key] of paths) {
    if (section === undefined || key === undefined) continue;
    wanted.set(section, (wanted.get(section) ?? new Set()).add(key));
  }
  const kept: string[] = [];
  let keys: Set<string> | undefined;
  let childIndent: number | undefined;
  let keepBlock = false;
  for (const line of text.split('\n')) {
    const section = TOP_LEVEL_KEY.exec(line)?.[1];
    if (section !== undefined) {
      keys = wanted.get(section);
      childIndent = undefined;
      keepBlock = false;
      if (keys) kept.push(line);
      continue;
    }
    // A blank or comment line belongs to the block above it: content inside a block scalar, a comment elsewhere.
    if (/^\s*(#|$)/.test(line)) {
      if (keepBlock) kept.push(line);
      continue;
    }
    if (!/^ /.test(line)) return text;
    if (!keys) continue;
    const indent = line.length - line.trimStart().length;
    childIndent ??= indent;
    if (indent === childIndent) {
      const key = NESTED_KEY.exec(line)?.[1];
      if (key === undefined) return text;
      keepBlock = keys.has(key);
    } else if (indent < childIndent) {
      return text;
    }
    if (keepBlock) kept.push(line);
  }
  return kept.join('\n');
}
