import {
  Composer,
  Document,
  isMap,
  isNode,
  isScalar,
  isSeq,
  Parser,
  YAMLParseError,
  type CST,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';
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

/**
 * Deeper nesting than this is refused before it is composed: the YAML composer and every walk over the nodes recurse,
 * and about 700 levels exhaust the stack. A real config nests fewer than ten.
 */
export const MAX_NESTING_DEPTH = 256;

const PARSE_OPTIONS = { prettyErrors: false, strict: true, logLevel: 'error', uniqueKeys: false } as const;

export function parseConfigText(text: string): ParsedConfig {
  const encodingProblem = encodingDiagnostic(text);
  if (encodingProblem) return unparsed(text, encodingProblem);
  // The lexer and parser are iterative, so the token tree of any text can be measured before the recursive composer runs.
  const tokens = [...new Parser().parse(text)];
  const tooDeep = deepestNesting(tokens);
  if (tooDeep) return unparsed(text, [...syntaxErrorsBefore(text, tooDeep.firstDeepOffset), tooDeep.diagnostic]);
  const document = composeDocument(tokens, text.length);
  const syntaxDiagnostics: ConfigDiagnostic[] = [
    ...document.errors.map((error) => ({ offset: error.pos[0], message: error.message })),
    ...duplicateKeys(document.contents as Node | null),
  ]
    .sort((a, b) => a.offset - b.offset)
    .map(({ offset, message }) => ({
      range: tokenRangeAt(text, offset),
      severity: 'error',
      code: 'yaml-syntax',
      message: firstLine(message),
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

/** As `parseDocument` composes: the first document, and an error for any later one. */
function composeDocument(tokens: readonly CST.Token[], length: number): Document.Parsed {
  let document: Document.Parsed | undefined;
  for (const composed of new Composer(PARSE_OPTIONS).compose(tokens, true, length)) {
    if (!document) {
      document = composed;
    } else {
      document.errors.push(
        new YAMLParseError(
          composed.range.slice(0, 2) as [number, number],
          'MULTIPLE_DOCS',
          'Source contains multiple documents; please use YAML.parseAllDocuments()',
        ),
      );
      break;
    }
  }
  return document!;
}

/**
 * Duplicate keys, with the message the YAML library gives them. Its own check compares each key with every earlier
 * key of the mapping, which made a config with thousands of keys take seconds; one set per mapping is linear.
 */
function duplicateKeys(root: Node | null): { offset: number; message: string }[] {
  const found: { offset: number; message: string }[] = [];
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (isScalar(key)) {
          if (seen.has(key.value) && key.range) found.push({ offset: key.range[0], message: 'Map keys must be unique' });
          seen.add(key.value);
        }
        pending.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) {
      pending.push(...node.items);
    }
  }
  return found;
}

/** The deepest point of the token tree, when it is deeper than MAX_NESTING_DEPTH; walked with a stack, not recursion. */
function deepestNesting(tokens: readonly CST.Token[]): { diagnostic: ConfigDiagnostic; firstDeepOffset: number } | undefined {
  const pending: { token: CST.Token | null | undefined; depth: number }[] = tokens.map((token) => ({ token, depth: 0 }));
  let deepest: { offset: number; depth: number } | undefined;
  let firstDeepOffset = Infinity;
  while (pending.length > 0) {
    const { token, depth } = pending.pop()!;
    if (!token) continue;
    if (token.type === 'document') {
      pending.push({ token: token.value, depth });
    } else if (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection') {
      if (depth + 1 > SAFE_PREFIX_DEPTH) firstDeepOffset = Math.min(firstDeepOffset, token.offset);
      if (depth + 1 > MAX_NESTING_DEPTH && (!deepest || depth + 1 > deepest.depth)) deepest = { offset: token.offset, depth: depth + 1 };
      for (const item of token.items as CST.CollectionItem[])
        pending.push({ token: item.key, depth: depth + 1 }, { token: item.value, depth: depth + 1 });
    }
  }
  if (!deepest) return undefined;
  return {
    firstDeepOffset,
    diagnostic: {
      range: { start: deepest.offset, end: deepest.offset + 1 },
      severity: 'error',
      code: 'nesting-too-deep',
      message: `The config nests ${deepest.depth} levels deep here; EmbedTune reads at most ${MAX_NESTING_DEPTH} levels (a config needs fewer than 10). Look for a runaway run of brackets or indentation.`,
    },
  };
}

/** Nesting up to this depth is composed safely, so the text before deeper nesting can be checked for errors. */
const SAFE_PREFIX_DEPTH = 64;

/**
 * The syntax errors in the lines before nesting grows deep. A syntax error on every line (`k: a: b`) also nests each
 * line inside the one before; then the first error, not the depth, is what the user needs to see.
 */
function syntaxErrorsBefore(text: string, offset: number): ConfigDiagnostic[] {
  const prefix = text.slice(0, text.lastIndexOf('\n', offset) + 1);
  return prefix.length < text.length ? parseConfigText(prefix).syntaxDiagnostics.filter((d) => d.code === 'yaml-syntax') : [];
}

/**
 * Text that is not UTF-8 YAML at all. Read as UTF-8, a UTF-16 file starts with two replacement characters (its byte
 * order mark) or has a NUL between ASCII letters; a second byte order mark would otherwise become part of the first key.
 */
function encodingDiagnostic(text: string): ConfigDiagnostic | undefined {
  const head = text.slice(0, 1024);
  if (head.startsWith('\uFFFD\uFFFD') || /[\x01-\x7F]\0[\x01-\x7F]\0/.test(head) || /\0[\x01-\x7F]\0[\x01-\x7F]/.test(head)) {
    return {
      range: firstLineRange(text),
      severity: 'error',
      code: 'config-encoding',
      message: 'The file is UTF-16 encoded, but a config is read as UTF-8. Save it as UTF-8 (in VS Code: "Save with Encoding").',
    };
  }
  const bom = text.indexOf('\uFEFF', 1);
  if (bom !== -1) {
    const leading = bom === 1 && text.charCodeAt(0) === 0xfeff;
    return {
      range: { start: bom, end: bom + 1 },
      severity: 'error',
      code: 'config-encoding',
      message: leading
        ? 'The file starts with more than one byte order mark (U+FEFF); a UTF-8 file has at most one. Remove the extra ones, for example by saving the file as "UTF-8" rather than "UTF-8 with BOM".'
        : 'The file has a byte order mark (U+FEFF) after its start, as when two files are joined. Remove it: it is invisible, but it becomes part of the text around it.',
    };
  }
  return undefined;
}

function unparsed(text: string, problems: ConfigDiagnostic | ConfigDiagnostic[]): ParsedConfig {
  const document = new Document() as unknown as Document.Parsed;
  return { text, document, value: undefined, syntaxDiagnostics: Array.isArray(problems) ? problems : [problems] };
}

/** Finds the node at a key path. Stops at the deepest existing ancestor when `fallBackToAncestor` is set. */
export function locatePath(parsed: ParsedConfig, path: ConfigPath, fallBackToAncestor = false): LocatedNode | undefined {
  let current: unknown = parsed.document.contents;
  let located: LocatedNode | undefined = isNode(current) ? nodeLocation(current as Node) : undefined;
  for (const segment of path) {
    let next: LocatedNode | undefined;
    if (isMap(current) && typeof segment === 'string') {
      const pair = pairsByKey(current).get(segment);
      if (pair) next = pairLocation(pair);
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

const pairIndexes = new WeakMap<YAMLMap, { size: number; pairs: Map<string, Pair<Node, Node | null>> }>();

/**
 * A mapping's pairs by key, built once per mapping: a diagnostic per unknown key located its key by scanning the
 * mapping, so thousands of keys cost their square. The first of duplicate keys wins, as a scan would find it.
 */
function pairsByKey(map: YAMLMap): Map<string, Pair<Node, Node | null>> {
  const cached = pairIndexes.get(map);
  if (cached && cached.size === map.items.length) return cached.pairs;
  const pairs = new Map<string, Pair<Node, Node | null>>();
  for (const item of map.items) {
    if (!isScalar(item.key)) continue;
    const key = String(item.key.value);
    if (!pairs.has(key)) pairs.set(key, item as Pair<Node, Node | null>);
  }
  pairIndexes.set(map, { size: map.items.length, pairs });
  return pairs;
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
  const valueRange = value?.range && value.range[1] > value.range[0] ? { start: value.range[0], end: value.range[1] } : undefined;
  const start = keyRange?.start ?? valueRange?.start ?? 0;
  const end = valueRange?.end ?? keyRange?.end ?? start;
  return { keyRange, valueRange, node: value, range: { start, end } };
}

function nodeLocation(node: Node): LocatedNode {
  const range = node.range ? { start: node.range[0], end: node.range[1] } : { start: 0, end: 0 };
  return { valueRange: range, node, range };
}

function firstLine(message: string): string {
  return message
    .split('\n')[0]!
    .replace(/ at line \d+, column \d+:?$/, '')
    .trim();
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
