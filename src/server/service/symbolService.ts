import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { SymbolKind, type DocumentSymbol } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ParsedConfig } from '../../shared/config/parsedConfig';

/** The outline: one symbol per key, nested as the config is, with scalar values as details. */
export function documentSymbols(document: TextDocument, parsed: ParsedConfig): DocumentSymbol[] {
  return symbolsOf(document, parsed.document.contents as Node | null);
}

function symbolsOf(document: TextDocument, node: Node | null): DocumentSymbol[] {
  if (isSeq(node)) {
    return node.items.flatMap((item, index) => {
      const child = item as Node;
      if (!child?.range || !(isMap(child) || isSeq(child))) return [];
      const range = toRange(document, child.range[0], child.range[1]);
      return [{ name: `[${index}]`, kind: SymbolKind.Object, range, selectionRange: range, children: symbolsOf(document, child) }];
    });
  }
  if (!isMap(node)) return [];
  const symbols: DocumentSymbol[] = [];
  for (const pair of node.items) {
    const key = pair.key as Node | null;
    const value = pair.value as Node | null;
    if (!isScalar(key) || !key.range) continue;
    const end = value?.range?.[1] ?? key.range[1];
    const selectionRange = toRange(document, key.range[0], key.range[1]);
    symbols.push({
      name: String(key.value),
      kind: isMap(value) ? SymbolKind.Module : isSeq(value) ? SymbolKind.Array : scalarKind(value),
      detail: isScalar(value) && value.value !== null ? String(value.value) : isSeq(value) ? `${value.items.length} items` : undefined,
      range: toRange(document, key.range[0], Math.max(end, key.range[1])),
      selectionRange,
      children: isMap(value) || isSeq(value) ? symbolsOf(document, value) : [],
    });
  }
  return symbols;
}

function scalarKind(value: Node | null): SymbolKind {
  if (!isScalar(value)) return SymbolKind.Property;
  if (typeof value.value === 'number') return SymbolKind.Number;
  if (typeof value.value === 'boolean') return SymbolKind.Boolean;
  return SymbolKind.String;
}

function toRange(document: TextDocument, start: number, end: number) {
  return { start: document.positionAt(start), end: document.positionAt(end) };
}
