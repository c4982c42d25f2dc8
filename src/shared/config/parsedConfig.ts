import { Document, isMap, isNode, isScalar, isSeq, parseDocument, type Node, type Pair } from 'yaml';
import type { TextRange } from '../textRange';
import type { ConfigDiagnostic, ConfigPath } from './configDiagnostic';

/** A config document parsed once, keeping every node's source offsets. JSON is parsed as the YAML 1.2 subset it is. */
export interface ParsedConfig {
  readonly text: string;
  readonly document: Document.Parsed;
  /** The plain value, or undefined when the document is empty or could not be converted. */
  readonly value: unknown;
  readonly syntaxDiagnostics: ConfigDiagnostic[];
}

export interface LocatedNode {
  /** The key of the pair holding the node, when the node is a map value. */
  readonly keyRange?: TextRange;
  /** The value itself; absent when the key has no value (`epochs:`). */
  readonly valueRange?: TextRange;
  readonly node?: Node;
  /** The whole pair (key and value), or the value for sequence items. */
  readonly range: TextRange;
}

export function parseConfigText(text: string): ParsedConfig {
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true, strict: true, logLevel: 'error' });
  const syntaxDiagnostics: ConfigDiagnostic[] = document.errors.map((error) => ({
    range: tokenRangeAt(text, error.pos[0]),
    severity: 'error',
    code: 'yaml-syntax',
    message: firstLine(error.message),
  }));
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    syntaxDiagnostics.push({
      range: { start: 0, end: Math.min(text.length, 1) },
      severity: 'error',
      code: 'yaml-syntax',
      message: firstLine(error instanceof Error ? error.message : String(error)),
    });
    value = undefined;
  }
  return { text, document, value, syntaxDiagnostics };
}

/** Finds the node at a key path. Stops at the deepest existing ancestor when `fallBackToAncestor` is set. */
export function locatePath(parsed: ParsedConfig, path: ConfigPath, fallBackToAncestor = false): LocatedNode | undefined {
  let current: unknown = parsed.document.contents;
  let located: LocatedNode | undefined = isNode(current) ? nodeLocation(current as Node) : undefined;
  for (const segment of path) {
    let next: LocatedNode | undefined;
    if (isMap(current) && typeof segment === 'string') {
      const pair = current.items.find((item) => isScalar(item.key) && String(item.key.value) === segment);
      if (pair) next = pairLocation(pair as Pair<Node, Node | null>);
    } else if (isSeq(current) && typeof segment === 'number') {
      const item = current.items[segment];
      if (isNode(item)) next = nodeLocation(item as Node);
    }
    if (!next) return fallBackToAncestor ? located : undefined;
    located = next;
    current = next.node;
  }
  return located;
}

/** The range a diagnostic about a value should cover: the value when present, else its key. */
export function valueRangeOf(parsed: ParsedConfig, path: ConfigPath): TextRange {
  const located = locatePath(parsed, path, true);
  return located?.valueRange ?? located?.keyRange ?? firstLineRange(parsed.text);
}

/** The range a diagnostic about a key should cover. */
export function keyRangeOf(parsed: ParsedConfig, path: ConfigPath): TextRange {
  const located = locatePath(parsed, path, true);
  return located?.keyRange ?? located?.valueRange ?? firstLineRange(parsed.text);
}

function pairLocation(pair: Pair<Node, Node | null>): LocatedNode {
  const keyRange = pair.key && pair.key.range ? { start: pair.key.range[0], end: pair.key.range[1] } : undefined;
  const value = isNode(pair.value) ? pair.value : undefined;
  const valueRange =
    value?.range && value.range[1] > value.range[0] ? { start: value.range[0], end: value.range[1] } : undefined;
  const start = keyRange?.start ?? valueRange?.start ?? 0;
  const end = valueRange?.end ?? keyRange?.end ?? start;
  return { keyRange, valueRange, node: value, range: { start, end } };
}

function nodeLocation(node: Node): LocatedNode {
  const range = node.range ? { start: node.range[0], end: node.range[1] } : { start: 0, end: 0 };
  return { valueRange: range, node, range };
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').trim();
}

/**
 * The parser points at one character; a user sees the whole token there (a duplicate key, an unclosed string).
 * An error past the last token, such as a missing closing quote, moves back onto that token.
 */
function tokenRangeAt(text: string, offset: number): TextRange {
  let start = Math.max(0, Math.min(offset, text.length));
  if (/^\s*$/.test(text.slice(start))) {
    while (start > 0 && /\s/.test(text[start - 1]!)) start--;
    while (start > 0 && !/[\s:]/.test(text[start - 1]!)) start--;
  }
  let end = start;
  while (end < text.length && !/[\s:,\]}]/.test(text[end]!)) end++;
  return { start, end: Math.max(end, Math.min(start + 1, text.length)) };
}

export function firstLineRange(text: string): TextRange {
  const newline = text.indexOf('\n');
  return { start: 0, end: newline === -1 ? text.length : newline };
}
