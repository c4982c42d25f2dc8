import type { ConfigPath } from '../../shared/config/configDiagnostic';

/** Where the cursor is in a block-style YAML config, worked out from indentation so that half-typed lines still resolve. */
export type CursorContext =
  | {
      readonly kind: 'key';
      readonly parentPath: ConfigPath;
      /** The partial key typed so far, and where it starts. */
      readonly prefix: string;
      readonly prefixStart: number;
      /** Where the word under the cursor ends: completion replaces the whole word, not just what precedes the cursor. */
      readonly wordEnd: number;
      /** The key already has its colon (`lear|ning_rate: 1`): only the name is replaced. */
      readonly hasColon: boolean;
      /** Column at which the key starts; nested snippet lines indent from here. */
      readonly indent: number;
      /** Keys already present in the same mapping. */
      readonly siblings: ReadonlySet<string>;
    }
  | {
      readonly kind: 'value';
      readonly path: ConfigPath;
      readonly prefix: string;
      readonly prefixStart: number;
      /** The cursor is on an item of a sequence (`- x` or `[a, x]`) rather than the value itself. */
      readonly inSequence: boolean;
      readonly siblingItems: ReadonlySet<string>;
      readonly wordEnd: number;
      /** The value is being typed inside quotes, which stay as they are. */
      readonly quoted: boolean;
    }
  | { readonly kind: 'none' };

/** `key:` with a plain, double-quoted or single-quoted key; the key is in group 2, 3 or 4. */
const KEY_LINE = /^(\s*)(?:([A-Za-z_$][\w$.-]*)|"([^"]*)"|'([^']*)')\s*:(?:\s|$)/;

function keyOf(match: RegExpExecArray): string {
  return match[2] ?? match[3] ?? match[4] ?? '';
}

interface Line {
  readonly text: string;
  readonly start: number;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  for (const raw of text.split('\n')) {
    lines.push({ text: raw.replace(/\r$/, ''), start });
    start += raw.length + 1;
  }
  return lines;
}

function indentOf(text: string): number {
  return text.length - text.trimStart().length;
}

function isBlank(text: string): boolean {
  const trimmed = text.trim();
  return trimmed === '' || trimmed.startsWith('#');
}

/** The chain of `key:` lines above `lineIndex` whose indentation is below `indent`, outermost first. */
export function parentPathAt(lines: readonly Line[], lineIndex: number, indent: number): string[] {
  const path: string[] = [];
  let threshold = indent;
  for (let i = lineIndex - 1; i >= 0 && threshold > 0; i--) {
    const text = lines[i]!.text;
    if (isBlank(text) || text.trimStart().startsWith('- ')) continue;
    const lineIndent = indentOf(text);
    if (lineIndent >= threshold) continue;
    const match = KEY_LINE.exec(text);
    if (!match) return path;
    path.unshift(keyOf(match));
    threshold = lineIndent;
  }
  return path;
}

/** Keys at exactly `indent` in the block that contains `lineIndex`. */
function siblingKeys(lines: readonly Line[], lineIndex: number, indent: number): Set<string> {
  const keys = new Set<string>();
  for (const direction of [-1, 1]) {
    for (let i = lineIndex + direction; i >= 0 && i < lines.length; i += direction) {
      const text = lines[i]!.text;
      if (isBlank(text)) continue;
      const lineIndent = indentOf(text);
      if (lineIndent < indent) break;
      if (lineIndent > indent) continue;
      const match = KEY_LINE.exec(text);
      if (match) keys.add(keyOf(match));
    }
  }
  return keys;
}

/** The items listed under the key, except the one on `editedLine`: completion replaces that one, so it is no sibling. */
function sequenceItemsBelow(lines: readonly Line[], keyLine: number, keyIndent: number, editedLine: number): Set<string> {
  const items = new Set<string>();
  for (let i = keyLine + 1; i < lines.length; i++) {
    if (i === editedLine) continue;
    const text = lines[i]!.text;
    if (isBlank(text)) continue;
    if (indentOf(text) < keyIndent || (indentOf(text) === keyIndent && !text.trimStart().startsWith('- '))) break;
    const item = /^\s*-\s*(.+?)\s*$/.exec(text);
    if (item) items.add(unquote(item[1]!));
  }
  return items;
}

function unquote(value: string): string {
  return value.replace(/^(["'])(.*)\1$/, '$2');
}

export function cursorContextAt(text: string, offset: number): CursorContext {
  const lines = splitLines(text);
  let lineIndex = lines.findIndex((line, i) => offset >= line.start && (i === lines.length - 1 || offset < lines[i + 1]!.start));
  if (lineIndex < 0) lineIndex = lines.length - 1;
  const line = lines[lineIndex]!;
  const before = line.text.slice(0, offset - line.start);
  const after = line.text.slice(offset - line.start);
  if (before.includes('#') && !/["']/.test(before)) return { kind: 'none' };
  const keyRest = /^[\w$.-]*/.exec(after)![0];
  const valueRest = /^[^\s,\]}#"']*/.exec(after)![0];

  const keyPosition = /^(\s*)([A-Za-z_$][\w$.-]*)?$/.exec(before);
  if (keyPosition) {
    const indent = keyPosition[1]!.length;
    const prefix = keyPosition[2] ?? '';
    return {
      kind: 'key',
      parentPath: parentPathAt(lines, lineIndex, indent),
      prefix,
      prefixStart: offset - prefix.length,
      wordEnd: offset + keyRest.length,
      hasColon: /^\s*:/.test(after.slice(keyRest.length)),
      indent,
      siblings: siblingKeys(lines, lineIndex, indent),
    };
  }

  const sequenceItem = /^(\s*)-\s+([^\s,\[\]{}#]*)$/.exec(before) ?? /^(\s*)-()$/.exec(before);
  if (sequenceItem) {
    const indent = sequenceItem[1]!.length;
    const parent = parentPathAt(lines, lineIndex, indent + 1);
    let keyLine = lineIndex - 1;
    while (keyLine >= 0 && !KEY_LINE.test(lines[keyLine]!.text)) keyLine--;
    const prefix = sequenceItem[2]!;
    return {
      kind: 'value',
      path: parent,
      prefix,
      prefixStart: offset - prefix.length,
      wordEnd: offset + valueRest.length,
      quoted: false,
      inSequence: true,
      siblingItems: keyLine >= 0 ? sequenceItemsBelow(lines, keyLine, indentOf(lines[keyLine]!.text), lineIndex) : new Set(),
    };
  }

  const valuePosition = /^(\s*)([A-Za-z_$][\w$.-]*)\s*:\s*(.*)$/.exec(before);
  if (valuePosition) {
    const indent = valuePosition[1]!.length;
    const key = valuePosition[2]!;
    const quoted = (text: string) => /^["']/.test(text);
    const rest = valuePosition[3]!;
    const path = [...parentPathAt(lines, lineIndex, indent), key];
    const flow = /^\[(.*)$/.exec(rest);
    if (flow) {
      const parts = flow[1]!.split(',');
      const item = parts[parts.length - 1]!.trimStart();
      const prefix = item.replace(/^["']/, '');
      return {
        kind: 'value',
        path,
        prefix,
        prefixStart: offset - prefix.length,
        wordEnd: offset + valueRest.length,
        quoted: quoted(item),
        inSequence: true,
        siblingItems: new Set(
          parts
            .slice(0, -1)
            .map((part) => unquote(part.trim()))
            .filter(Boolean),
        ),
      };
    }
    const prefix = rest.replace(/^["']/, '');
    return {
      kind: 'value',
      path,
      prefix,
      prefixStart: offset - prefix.length,
      wordEnd: offset + valueRest.length,
      quoted: quoted(rest),
      inSequence: false,
      siblingItems: new Set(),
    };
  }
  return { kind: 'none' };
}

/** The key path of the `key:` on the line at `offset`, if the offset is on that key or its value. */
export function keyPathAt(text: string, offset: number): { path: string[]; keyStart: number; keyEnd: number } | undefined {
  const lines = splitLines(text);
  const lineIndex = lines.findIndex((line, i) => offset >= line.start && (i === lines.length - 1 || offset < lines[i + 1]!.start));
  if (lineIndex < 0) return undefined;
  const line = lines[lineIndex]!;
  const match = KEY_LINE.exec(line.text);
  if (!match) {
    const item = /^(\s*)-\s/.exec(line.text);
    if (!item) return undefined;
    const path = parentPathAt(lines, lineIndex, item[1]!.length + 1);
    return path.length > 0 ? { path, keyStart: line.start + item[1]!.length, keyEnd: line.start + item[1]!.length + 1 } : undefined;
  }
  const indent = match[1]!.length;
  const keyStart = line.start + indent;
  const key = keyOf(match);
  const keyLength = match[2] !== undefined ? key.length : key.length + 2;
  return { path: [...parentPathAt(lines, lineIndex, indent), key], keyStart, keyEnd: keyStart + keyLength };
}
