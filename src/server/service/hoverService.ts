import { MarkupKind, type Hover } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { formatPath } from '../../shared/config/configDiagnostic';
import type { SchemaNavigator } from '../../shared/config/schemaNavigator';
import { keyPathAt } from './cursorContext';
import { schemaMarkdown } from './schemaDocs';

/** Hover on a key or its value shows that key's schema documentation. */
export class HoverService {
  constructor(private readonly navigator: SchemaNavigator) {}

  hover(document: TextDocument, offset: number): Hover | null {
    const text = document.getText();
    const found = keyPathAt(text, offset);
    if (!found) return null;
    const schema = this.navigator.schemaAt(found.path);
    if (!schema) return null;
    return {
      contents: { kind: MarkupKind.Markdown, value: schemaMarkdown(this.navigator, schema, formatPath(found.path)) },
      range: { start: document.positionAt(found.keyStart), end: document.positionAt(found.keyEnd) },
    };
  }
}
