import { isMap, isScalar, isSeq, stringify, type Node, type YAMLMap } from 'yaml';
import type { TextRange } from '../textRange';
import type { ConfigPath } from './configDiagnostic';
import { locatePath, parseConfigText, type ParsedConfig } from './parsedConfig';

export interface TextReplacement {
  readonly range: TextRange;
  readonly newText: string;
}

export interface Assignment {
  readonly path: ConfigPath;
  readonly value: unknown;
}

/**
 * Applies assignments to a config's text the way a person would edit it: a present value is replaced in place,
 * a missing key is inserted into its mapping at that mapping's indentation, and comments elsewhere are untouched.
 * Returns one minimal replacement, or undefined when an assignment cannot be placed.
 */
export function assignValues(text: string, assignments: readonly Assignment[], format: 'yaml' | 'json'): TextReplacement | undefined {
  // Edits are made with \n and converted back, so that a CRLF file stays CRLF throughout.
  const crlf = text.includes('\r\n');
  const original = crlf ? text.replace(/\r\n/g, '\n') : text;
  let current = original;
  for (const assignment of assignments) {
    const next = assignOne(current, assignment, format);
    if (next === undefined) return undefined;
    current = next;
  }
  return minimalReplacement(text, crlf ? current.replace(/\n/g, '\r\n') : current);
}

/**
 * Moves a key with its value to another path (`engine.mixed_precision` to `training.mixed_precision`): its lines are
 * removed, and the value is assigned at the new path as `assignValues` would. A mapping the move leaves empty goes too,
 * so that no `engine:` without a value is left behind. Block YAML only; undefined where the key cannot be cut out cleanly.
 */
export function moveKey(text: string, from: ConfigPath, to: ConfigPath, format: 'yaml' | 'json'): TextReplacement | undefined {
  if (format !== 'yaml' || from.length === 0) return undefined;
  const crlf = text.includes('\r\n');
  const original = crlf ? text.replace(/\r\n/g, '\n') : text;
  const parsed = parseConfigText(original);
  if (parsed.syntaxDiagnostics.length > 0 || !locatePath(parsed, from)) return undefined;
  // A scalar moves as its node, so that it keeps its quotes: `"no"` must not become `no`, which YAML 1.1 reads as false.
  const node = locatePath(parsed, from)?.node;
  const value = isScalar(node) ? node.clone() : (valueAtPath(parsed.value, from) ?? null);
  const removed = removeKey(original, parsed, from);
  const moved = removed === undefined ? undefined : assignOne(removed, { path: to, value }, format);
  if (moved === undefined) return undefined;
  return minimalReplacement(text, crlf ? moved.replace(/\n/g, '\r\n') : moved);
}

/** The text without the key's lines, or without its mapping's when it is the mapping's only key. */
function removeKey(text: string, parsed: ParsedConfig, path: ConfigPath): string | undefined {
  const parentPath = path.slice(0, -1);
  const parent = parentPath.length === 0 ? (parsed.document.contents as Node | null) : locatePath(parsed, parentPath)?.node;
  if (!isMap(parent) || parent.flow) return undefined;
  if (parent.items.length === 1 && parentPath.length > 0 && typeof parentPath[parentPath.length - 1] === 'string')
    return removeKey(text, parsed, parentPath);
  const located = locatePath(parsed, path);
  if (!located?.keyRange) return undefined;
  const lineStart = text.lastIndexOf('\n', located.keyRange.start - 1) + 1;
  // A key that shares its line with something before it (`- key: v`) cannot be cut out by lines.
  if (text.slice(lineStart, located.keyRange.start).trim() !== '') return undefined;
  const lineEnd = endOfLine(text, contentEnd(text, located.range.end));
  return splice(text, { start: lineStart, end: Math.min(text.length, lineEnd + 1) }, '');
}

function valueAtPath(value: unknown, path: ConfigPath): unknown {
  let current = value;
  for (const segment of path)
    current = current && typeof current === 'object' ? (current as Record<string | number, unknown>)[segment] : undefined;
  return current;
}

function assignOne(text: string, { path, value }: Assignment, format: 'yaml' | 'json'): string | undefined {
  const parsed = parseConfigText(text);
  const located = locatePath(parsed, path);
  if (located) {
    if (located.valueRange && located.node && !isMap(located.node)) {
      const block = isSeq(located.node) && !located.node.flow;
      const start = block && located.keyRange ? colonAfter(text, located.keyRange.end) + 1 : located.valueRange.start;
      const prefix = block ? ' ' : '';
      return splice(text, { start, end: contentEnd(text, located.valueRange.end) }, prefix + formatValue(value, format));
    }
    if (!located.valueRange && located.keyRange) {
      const colon = colonAfter(text, located.keyRange.end);
      return splice(text, { start: colon + 1, end: colon + 1 }, ` ${formatValue(value, format)}`);
    }
    return undefined;
  }
  // Find the deepest existing mapping and insert the rest of the path under it.
  for (let depth = path.length - 1; depth >= 0; depth--) {
    const ancestorPath = path.slice(0, depth);
    const ancestor =
      depth === 0 ? { node: parsed.document.contents as Node | null, keyRange: undefined } : locatePath(parsed, ancestorPath);
    if (!ancestor) continue;
    const remaining = path.slice(depth);
    if (remaining.some((segment) => typeof segment !== 'string')) return undefined;
    const nested = nest(remaining as string[], value);
    const node = ancestor.node;
    if (isMap(node) && node.items.length > 0) return insertIntoMap(text, node, nested, format);
    const empty =
      node === null ||
      node === undefined ||
      (isScalar(node) && node.value === null) ||
      (isMap(node) && node.items.length === 0 && !node.flow);
    if (format === 'yaml' && empty) {
      if (depth === 0) return appendTopLevel(text, nested);
      if (!ancestor.keyRange) return undefined;
      const colon = colonAfter(text, ancestor.keyRange.end);
      const indent = ' '.repeat(columnOf(text, ancestor.keyRange.start) + 2);
      return splice(text, { start: colon + 1, end: colon + 1 }, `\n${blockLines(nested, indent).replace(/\n$/, '')}`);
    }
    return undefined;
  }
  return undefined;
}

function insertIntoMap(text: string, map: YAMLMap, nested: Record<string, unknown>, format: 'yaml' | 'json'): string | undefined {
  const last = map.items[map.items.length - 1]!;
  const lastKey = last.key as Node | null;
  const lastValue = last.value as Node | null;
  const rawEnd = lastValue?.range?.[1] ?? lastKey?.range?.[1];
  if (rawEnd === undefined || !lastKey?.range) return undefined;
  const end = contentEnd(text, rawEnd);
  if (map.flow || format === 'json') {
    const entries = Object.entries(nested).map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`);
    return splice(text, { start: end, end }, `, ${entries.join(', ')}`);
  }
  const indent = ' '.repeat(columnOf(text, lastKey.range[0]));
  const lineEnd = endOfLine(text, end);
  return splice(text, { start: lineEnd, end: lineEnd }, `\n${blockLines(nested, indent).replace(/\n$/, '')}`);
}

function appendTopLevel(text: string, nested: Record<string, unknown>): string {
  const separator = text.length === 0 || text.endsWith('\n') ? '' : '\n';
  return `${text}${separator}${blockLines(nested, '')}`;
}

function blockLines(nested: Record<string, unknown>, indent: string): string {
  return stringify(nested, { flowCollectionPadding: false, collectionStyle: 'block', indent: 2 })
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => `${indent}${line}\n`)
    .join('');
}

function formatValue(value: unknown, format: 'yaml' | 'json'): string {
  if (format === 'json') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => formatValue(item, format)).join(', ')}]`;
  return stringify(value).trimEnd();
}

function nest(path: readonly string[], value: unknown): Record<string, unknown> {
  return path.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<string, unknown>;
}

/** Block collections' ranges run through their trailing newline; edits stop at the last visible character. */
function contentEnd(text: string, end: number): number {
  let trimmed = end;
  while (trimmed > 0 && /\s/.test(text[trimmed - 1]!)) trimmed--;
  return trimmed;
}

function colonAfter(text: string, offset: number): number {
  const colon = text.indexOf(':', offset);
  return colon === -1 ? offset : colon;
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1);
}

function endOfLine(text: string, offset: number): number {
  const newline = text.indexOf('\n', offset);
  return newline === -1 ? text.length : newline;
}

function splice(text: string, range: TextRange, replacement: string): string {
  return text.slice(0, range.start) + replacement + text.slice(range.end);
}

function minimalReplacement(before: string, after: string): TextReplacement {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let endBefore = before.length;
  let endAfter = after.length;
  while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
    endBefore--;
    endAfter--;
  }
  return { range: { start, end: endBefore }, newText: after.slice(start, endAfter) };
}
