import { Document, isMap, isPair, isSeq, YAMLMap, type Node } from 'yaml';
import { parseConfigText, type ParsedConfig } from './parsedConfig';

/** A top-level `key:` at column 0, plain or quoted. */
const TOP_LEVEL_KEY = /^(?:([A-Za-z_$][\w$.-]*)|"([^"\n]*)"|'([^'\n]*)')[ \t]*:(?:[ \t]|\r?$)/;
/** Anchors, aliases, tags and directives tie parts of a document together; such documents are parsed whole. */
const CROSS_SECTION_SYNTAX = /(?:^|[\s,[{])[&*!][^\s]|^(?:---|\.\.\.|%)/m;

interface Section {
  readonly text: string;
  readonly document: Document.Parsed;
  readonly entries: [string, unknown][];
  /** The absolute offset the section's node ranges currently point at. */
  offset: number;
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
    const current = new Map<string, Section>();
    const ordered: Section[] = [];
    for (let i = 0; i < starts.length; i++) {
      const start = starts[i]!;
      const sectionText = text.slice(start, starts[i + 1] ?? text.length);
      if (current.has(sectionText)) return this.parseWhole(text);
      const section = previous.get(sectionText) ?? parseSection(sectionText);
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

function sectionStarts(text: string): number[] | undefined {
  if (CROSS_SECTION_SYNTAX.test(text)) return undefined;
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

function shiftRanges(node: Node | null | undefined, delta: number): void {
  if (!node) return;
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
