import { Document, isMap, isPair, isScalar, isSeq, Pair, Scalar, YAMLMap, type Node } from 'yaml';
import { parseConfigText, type ParsedConfig } from './parsedConfig';

/** A top-level `key:` at column 0, plain or quoted. */
const TOP_LEVEL_KEY = /^(?:([A-Za-z_$][\w$.-]*)|"([^"\n]*)"|'([^'\n]*)')[ \t]*:(?:[ \t]|\r?$)/;

/** A section's header line when its value is a block mapping: `training:`, maybe with a comment. */
const BLOCK_MAPPING_HEADER = /^([A-Za-z_$][\w$.-]*)[ \t]*:[ \t]*(?:#.*)?\r?$/;
/** An entry of that mapping: `  key:` with a plain key. */
const ENTRY_KEY = /^( +)[A-Za-z_$][\w$.-]*[ \t]*:(?:[ \t]|\r?$)/;

interface Section {
  readonly text: string;
  readonly document: Document.Parsed;
  readonly entries: [string, unknown][];
  /** The absolute offset the section's node ranges currently point at. */
  offset: number;
  /** For a section parsed entry by entry, its entries by text, for the next edit of the section to reuse. */
  readonly parts?: ReadonlyMap<string, SectionEntry>;
}

/** One `key: value` entry of a section, parsed on its own. */
interface SectionEntry {
  readonly pair: Pair<Node, Node | null>;
  readonly entries: [string, unknown][];
  /** Where the key and the entry's mapping start and end in the entry's own text. */
  readonly keyStart: number;
  readonly mapRange: readonly [number, number, number];
}

/**
 * Parses a config section by section (one section per top-level key) and re-parses only the sections whose text
 * changed since the last call. Editing one section of a long config then costs a parse of that section, not of
 * the file. Any document this cannot split exactly — errors, duplicate sections, anchors, flow style at the top
 * level — is parsed whole, so the result always equals `parseConfigText`'s. One instance serves one document:
 * cached nodes are re-positioned in place as the text around them moves.
 */
export class SectionedConfigParser {
  private sections = new Map<string, Section>();

  parse(text: string): ParsedConfig {
    const starts = sectionStarts(text);
    if (!starts) return this.parseWhole(text);
    const previous = this.sections;
    const previousParts = new Map(
      [...previous.values()].flatMap((section) => (section.parts ? [[section.entries[0]![0], section.parts] as const] : [])),
    );
    const current = new Map<string, Section>();
    const ordered: Section[] = [];
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i]!;
      const sectionText = text.slice(start, starts[i + 1] ?? text.length);
      if (current.has(sectionText)) return this.parseWhole(text);
      const section = previous.get(sectionText) ?? parseSectionByEntries(sectionText, previousParts) ?? parseSection(sectionText);
      if (!section) return this.parseWhole(text);
      if (section.offset !== start) {
        shiftRanges(section.document.contents as Node, start - section.offset);
        section.offset = start;
      }
      current.set(sectionText, section);
      ordered.push(section);
    }
    const keys = new Set<string>();
    for (const section of ordered) {
      for (const [key] of section.entries) {
        if (keys.has(key)) return this.parseWhole(text);
        keys.add(key);
      }
    }
    this.sections = current;
    return assemble(text, ordered);
  }

  private parseWhole(text: string): ParsedConfig {
    this.sections = new Map();
    return parseConfigText(text);
  }
}

/**
 * Anchors, aliases, tags and directives tie parts of a document together; such documents are parsed whole. This is
 * /(?:^|[\s,[{])[&*!][^\s]|^(?:---|\.\.\.|%)/m, written as a scan for the few characters it needs: the pattern tried at
 * every position of the config took a tenth of the time of a sectioned parse.
 */
const LINE_START_MARKER = /^(?:---|\.\.\.|%)/m;

function hasCrossSectionSyntax(text: string): boolean {
  for (const indicator of ['&', '*', '!']) {
    for (let at = text.indexOf(indicator); at !== -1; at = text.indexOf(indicator, at + 1)) {
      const next = text[at + 1];
      if ((at === 0 || /[\s,[{]/.test(text[at - 1]!)) && next !== undefined && !/\s/.test(next)) return true;
    }
  }
  return LINE_START_MARKER.test(text);
}

function sectionStarts(text: string): number[] | undefined {
  if (hasCrossSectionSyntax(text)) return undefined;
  const starts: number[] = [];
  let lineStart = 0;
  while (lineStart < text.length) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const first = text[lineStart];
    if (first !== undefined && first !== ' ' && first !== '\n' && first !== '\r' && first !== '#') {
      if (!TOP_LEVEL_KEY.test(text.slice(lineStart, lineEnd))) return undefined;
      // Comments and blank lines before the first key belong to the first section.
      starts.push(starts.length === 0 ? 0 : lineStart);
    }
    lineStart = lineEnd + 1;
  }
  return starts.length > 0 ? starts : undefined;
}

/** A section parsed on its own, or undefined when it has any error: then only a whole parse gives the right messages. */
function parseSection(text: string): Section | undefined {
  const parsed = parseConfigText(text);
  if (parsed.syntaxDiagnostics.length > 0 || !isMap(parsed.document.contents)) return undefined;
  const value = parsed.value;
  if (!value || typeof value !== 'object') return undefined;
  return { text, document: parsed.document, entries: Object.entries(value), offset: 0 };
}

/**
 * A block-mapping section parsed entry by entry, reusing the entries whose text is unchanged since the last parse of
 * that section: an edit of one line of a long section then parses that line's entry, not the section. Undefined for
 * any section this cannot split exactly (the caller parses it whole), such as quoted keys, odd indentation or errors.
 */
function parseSectionByEntries(text: string, previousParts: ReadonlyMap<string, ReadonlyMap<string, SectionEntry>>): Section | undefined {
  const headerEnd = text.indexOf('\n');
  const header = BLOCK_MAPPING_HEADER.exec(headerEnd === -1 ? text : text.slice(0, headerEnd));
  if (!header || headerEnd === -1) return undefined;
  const name = header[1]!;
  const starts = entryStarts(text, headerEnd + 1);
  if (!starts) return undefined;
  const reusable = previousParts.get(name);
  const parts = new Map<string, SectionEntry>();
  const pairs: Pair<Node, Node | null>[] = [];
  const names = new Set<string>();
  for (let i = 0; i < starts.length; i++) {
    const start = starts[i]!;
    const entryText = text.slice(start, starts[i + 1] ?? text.length);
    if (parts.has(entryText)) return undefined;
    const entry = reusable?.get(entryText) ?? parseEntry(entryText);
    if (!entry) return undefined;
    const key = entry.entries[0]![0];
    if (names.has(key)) return undefined;
    names.add(key);
    // The entry's nodes point wherever its last use put them; move them to this entry's place in the section.
    const delta = start + entry.keyStart - (entry.pair.key as Node).range![0];
    shiftRanges(entry.pair.key as Node, delta);
    shiftRanges(entry.pair.value, delta);
    parts.set(entryText, entry);
    pairs.push(entry.pair);
  }
  const first = parts.get(text.slice(starts[0]!, starts[1] ?? text.length))!;
  const last = [...parts.values()][parts.size - 1]!;
  const lastStart = starts[starts.length - 1]!;
  const map = new YAMLMap();
  map.items.push(...pairs);
  map.range = [starts[0]! + first.mapRange[0], lastStart + last.mapRange[1], lastStart + last.mapRange[2]];
  const sectionKey = new Scalar(name);
  sectionKey.range = [0, name.length, name.length];
  const root = new YAMLMap();
  root.items.push(new Pair(sectionKey, map));
  const document = new Document() as unknown as Document.Parsed;
  document.contents = root as unknown as Document.Parsed['contents'];
  // fromEntries defines properties, so a key such as __proto__ stays data, as in the whole parse.
  const value = Object.fromEntries([...parts.values()].flatMap((entry) => entry.entries));
  return { text, document, entries: [[name, value]], offset: 0, parts };
}

/**
 * Where each entry of a section's block mapping starts: at each line that holds a key at the first entry's indentation.
 * Comments and blank lines before the first entry belong to it; undefined where the lines do not fit that shape.
 */
function entryStarts(text: string, bodyStart: number): number[] | undefined {
  const starts: number[] = [];
  let indent = -1;
  for (let lineStart = bodyStart; lineStart < text.length; ) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const line = text.slice(lineStart, lineEnd);
    const content = line.trimStart();
    if (content !== '' && content !== '\r' && !content.startsWith('#')) {
      const lineIndent = line.length - content.length;
      if (line[0] === '\t' || (indent !== -1 && lineIndent < indent)) return undefined;
      if (indent === -1 || lineIndent === indent) {
        const key = ENTRY_KEY.exec(line);
        if (key) {
          indent = key[1]!.length;
          starts.push(starts.length === 0 ? bodyStart : lineStart);
        } else if (indent === -1 || !content.startsWith('- ')) {
          return undefined;
        }
      }
    }
    lineStart = lineEnd + 1;
  }
  return starts.length > 0 ? starts : undefined;
}

/**
 * `  key: value` on one line, where the value is a plain scalar of characters that are never special in YAML, maybe
 * followed by a comment; then only blank lines and comments at column 0. Most edits change such an entry.
 */
const SCALAR_ENTRY = /^( +)([A-Za-z_$][\w$.-]*)[ \t]*:[ \t]+((?:[A-Za-z0-9_.~+]|-[\d.])[\w.@+~/-]*)((?:[ \t]+#[^\r\n]*)?[ \t]*)(?:\r?\n|$)/;
const TAIL_OF_COMMENTS = /^(?:(?:#[^\n]*)?\n)*(?:#[^\n]*)?$/;
/** The schema a whole parse resolves plain scalars with (YAML 1.2 core), taken from a parse so that the two agree. */
const CORE_SCHEMA = parseConfigText('a: 1\n').document.schema;

/** One entry's text parsed alone: exactly one key with a plain string name, and no error. */
function parseEntry(text: string): SectionEntry | undefined {
  return parseScalarEntry(text) ?? parseEntryWithYaml(text);
}

/**
 * A one-line scalar entry built directly, with the nodes, ranges and value a YAML parse gives it (the tests compare
 * the two): the YAML library's lexer, parser and composer cost about a tenth of a millisecond even for one line, and
 * several times that in a language server that has been idle between keystrokes.
 */
function parseScalarEntry(text: string): SectionEntry | undefined {
  const match = SCALAR_ENTRY.exec(text);
  if (!match || !TAIL_OF_COMMENTS.test(text.slice(match[0].length))) return undefined;
  const [line, indent, name, source, rest] = match as unknown as [string, string, string, string, string];
  const keyValue = resolvePlainScalar(name, true);
  if (typeof keyValue.value !== 'string') return undefined;
  const keyStart = indent.length;
  keyValue.range = [keyStart, keyStart + name.length, keyStart + name.length];
  const valueStart = line.length - (line.endsWith('\n') ? (line.endsWith('\r\n') ? 2 : 1) : 0) - rest.length - source.length;
  const value = resolvePlainScalar(source, false);
  value.range = [valueStart, valueStart + source.length, line.length];
  return {
    pair: new Pair<Node, Node | null>(keyValue, value),
    entries: [[name, value.value]],
    keyStart,
    mapRange: [keyStart, line.length, line.length],
  };
}

/** As the YAML composer resolves an untagged plain scalar: the first default tag whose test matches, else a string. */
function resolvePlainScalar(source: string, atKey: boolean): Scalar {
  const tag = CORE_SCHEMA.tags.find(
    (candidate) =>
      (candidate.default === true || (atKey && candidate.default === 'key')) && 'test' in candidate && candidate.test?.test(source),
  );
  let resolved: unknown = source;
  if (tag && 'resolve' in tag && !tag.collection)
    resolved = (tag.resolve as (value: string, onError: (message: string) => void, options: object) => unknown)(
      source,
      () => undefined,
      {},
    );
  const scalar = isScalar(resolved) ? (resolved as Scalar) : new Scalar(resolved);
  scalar.source = source;
  scalar.type = Scalar.PLAIN;
  return scalar;
}

function parseEntryWithYaml(text: string): SectionEntry | undefined {
  const parsed = parseConfigText(text);
  const map = parsed.document.contents;
  if (parsed.syntaxDiagnostics.length > 0 || !isMap(map) || map.items.length !== 1 || !map.range) return undefined;
  const pair = map.items[0] as Pair<Node, Node | null>;
  if (!isScalar(pair.key) || typeof pair.key.value !== 'string' || !pair.key.range) return undefined;
  const value = parsed.value;
  if (!value || typeof value !== 'object') return undefined;
  return { pair, entries: Object.entries(value), keyStart: pair.key.range[0], mapRange: [map.range[0], map.range[1], map.range[2]] };
}

function shiftRanges(node: Node | null | undefined, delta: number): void {
  if (!node || delta === 0) return;
  if (node.range) node.range = [node.range[0] + delta, node.range[1] + delta, node.range[2] + delta];
  if (isMap(node) || isSeq(node)) {
    for (const item of node.items) {
      if (isPair(item)) {
        shiftRanges(item.key as Node, delta);
        shiftRanges(item.value as Node, delta);
      } else {
        shiftRanges(item as Node, delta);
      }
    }
  }
}

function assemble(text: string, sections: readonly Section[]): ParsedConfig {
  const root = new YAMLMap();
  for (const section of sections) root.items.push(...(section.document.contents as YAMLMap).items);
  const firstKey = root.items[0]?.key as Node | undefined;
  root.range = [firstKey?.range?.[0] ?? 0, text.length, text.length];
  const document = new Document() as unknown as Document.Parsed;
  document.contents = root as unknown as Document.Parsed['contents'];
  // fromEntries defines properties, so a key such as __proto__ stays data, as in the whole parse.
  const value = Object.fromEntries(sections.flatMap((section) => section.entries));
  return { text, document, value, syntaxDiagnostics: [] };
}
