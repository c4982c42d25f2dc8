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

const SIMPLE_ENTRY = /^( *)([A-Za-z_][\w-]*):(?: +(.*?))?(?: +#.*)?$/;
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/;
const PLAIN_WORD = /^[A-Za-z_][\w./@-]*$/;
const CORE_WORDS: Readonly<Record<string, unknown>> = { true: true, false: false, null: null, '~': null };

/**
 * The plain value of an excerpt whose every line is `section:` or `  key: scalar`, where each scalar is one that
 * YAML's core schema and JSON read alike (a decimal number, true, false, null, ~) or a bare word: as `yaml` would
 * parse it, in a few microseconds instead of a third of a millisecond. Undefined for anything else, which the caller
 * parses as YAML.
 */
export function simpleValues(excerpt: string): Record<string, Record<string, unknown>> | undefined {
  const value: Record<string, Record<string, unknown>> = {};
  let section: Record<string, unknown> | undefined;
  for (const line of excerpt.split('\n')) {
    const entry = SIMPLE_ENTRY.exec(line);
    if (!entry) return undefined;
    const [, indent, key, scalar] = entry;
    if (indent === '') {
      if (scalar !== undefined || Object.hasOwn(value, key!)) return undefined;
      section = value[key!] = {};
      continue;
    }
    if (!section || indent !== '  ' || scalar === undefined || Object.hasOwn(section, key!)) return undefined;
    if (Object.hasOwn(CORE_WORDS, scalar)) section[key!] = CORE_WORDS[scalar];
    else if (JSON_NUMBER.test(scalar)) section[key!] = Number(scalar);
    else if (PLAIN_WORD.test(scalar) && !/^(true|false|null)$/i.test(scalar)) section[key!] = scalar;
    else return undefined;
  }
  return value;
}
