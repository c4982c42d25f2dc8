import { MarkupKind, type Hover } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { formatPath } from '../../shared/config/configDiagnostic';
import type { SchemaNavigator } from '../../shared/config/schemaNavigator';
import type { DatasetFacts, DataFileFacts } from '../../shared/config/datasetFacts';
import { keyPathAt } from './cursorContext';
import { imageFolderMarkdown, imageRowsMarkdown } from './imageFolderMarkdown';
import { schemaMarkdown } from './schemaDocs';

/** Hover on a key or its value shows that key's schema documentation. */
export class HoverService {
  constructor(private readonly navigator: SchemaNavigator) {}

  /** `dataset` gives what the config's data files hold, when the caller has validated the document. */
  hover(document: TextDocument, offset: number, dataset?: () => DatasetFacts): Hover | null {
    const text = document.getText();
    const found = keyPathAt(text, offset);
    if (!found) return null;
    const schema = this.navigator.schemaAt(found.path);
    if (!schema) return null;
    const keyPath = formatPath(found.path);
    const facts = keyPath === 'data.train' || keyPath === 'data.validation' ? dataset?.() : undefined;
    const file = facts?.[keyPath === 'data.train' ? 'train' : 'validation'];
    // The implicit validation/ folder beside an image training folder has no key of its own, so data.train shows it.
    const sibling = keyPath === 'data.train' && facts?.validation?.implicit ? facts.validation : undefined;
    const dataMarkdown = (file ? `\n\n---\n\n${dataFileMarkdown(file)}` : '') + (sibling ? `\n\n---\n\n${dataFileMarkdown(sibling)}` : '');
    return {
      contents: { kind: MarkupKind.Markdown, value: schemaMarkdown(this.navigator, schema, keyPath) + dataMarkdown },
      range: { start: document.positionAt(found.keyStart), end: document.positionAt(found.keyEnd) },
    };
  }
}

const SAMPLE_VALUE_LENGTH = 80;

/** The file's format, columns, row count and first rows, as a user checking what they pointed at wants to see. */
export function dataFileMarkdown(file: DataFileFacts): string {
  if (file.imageFolder) return imageFolderMarkdown(file, escapeMarkdown);
  const summary = file.summary;
  if (!summary) return `\`${file.written}\`: format unknown`;
  if (!summary.ok) return `\`${file.written}\` ${summary.message}`;
  const rows = summary.sampledRows !== undefined ? `about ${summary.rows.toLocaleString('en-US')}` : summary.rows.toLocaleString('en-US');
  const lines = [
    `\`${file.written}\` · ${summary.format} · ${rows} rows${summary.badRowCount > 0 ? ` · ${summary.badRowCount} malformed` : ''}`,
  ];
  lines.push('', `Columns: ${summary.columns.map((column) => `\`${escapeMarkdown(column)}\``).join(', ') || 'none'}`);
  if (file.imageRows) lines.push('', imageRowsMarkdown(file.imageRows, escapeMarkdown));
  if (summary.firstRows.length > 0 && summary.columns.length > 0) {
    lines.push('', `| ${summary.columns.map(escapeMarkdown).join(' | ')} |`, `| ${summary.columns.map(() => '---').join(' | ')} |`);
    for (const row of summary.firstRows)
      lines.push(`| ${summary.columns.map((column) => escapeMarkdown(shorten(row[column]))).join(' | ')} |`);
  }
  return lines.join('\n');
}

function shorten(value: unknown): string {
  const text = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > SAMPLE_VALUE_LENGTH ? `${text.slice(0, SAMPLE_VALUE_LENGTH - 1)}…` : text;
}

/** Data is shown as text, never interpreted: Markdown and HTML characters are escaped, and line breaks flattened. */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>&]/g, (ch) => `\\${ch}`).replace(/\r?\n/g, ' ');
}
