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
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true, strict: true });
  const syntaxDiagnostics: ConfigDiagnostic[] = document.errors.map((error) => ({
    range: clampRange({ start: error.pos[0], end: Math.max(error.pos[1], error.pos[0] + 1) }, text.length),
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

function clampRange(range: TextRange, length: number): TextRange {
  const start = Math.max(0, Math.min(range.start, length));
  return { start, end: Math.max(start, Math.min(range.end, length)) };
}

export function firstLineRange(text: string): TextRange {
  const newline = text.indexOf('\n');
  return { start: 0, end: newline === -1 ? text.length : newline };
}
