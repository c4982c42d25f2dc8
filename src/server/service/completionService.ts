import { readdirSync, type Dirent } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import {
  CompletionItemKind,
  InsertTextFormat,
  InsertTextMode,
  MarkupKind,
  type CompletionItem,
  type CompletionList,
  type Range,
} from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { formatPath } from '../../shared/config/configDiagnostic';
import { LORA_TARGETS_BY_MODEL_TYPE, localModelType } from '../../shared/config/loraTargets';
import { ConfigView } from '../../shared/config/configView';
import { parseConfigText } from '../../shared/config/parsedConfig';
import { suggestedMetrics } from '../../shared/config/taskRequirements';
import type { JsonSchema } from '../../shared/config/jsonSchema';
import type { SchemaNavigator } from '../../shared/config/schemaNavigator';
import { cursorContextAt } from './cursorContext';
import { schemaMarkdown } from './schemaDocs';

/** Keys whose values are data files, offered from the config's folder. */
const DATA_FILE_KEYS = new Set(['data.train', 'data.validation']);
const METRIC_KEYS = new Set(['evaluation.metrics', 'evaluation.primary']);
const DATA_FILE_PATTERN = /\.(jsonl|ndjson|csv|tsv|tab)$/i;
const MAX_FILES_LISTED = 200;
const RANKING_METRICS = ['ndcg', 'mrr', 'recall', 'map'];
const RANKING_CUTOFFS = [1, 3, 5, 10, 20, 50, 100];

export class CompletionService {
  constructor(
    private readonly navigator: SchemaNavigator,
    /** Whether a folder may be listed: an untrusted workspace lists none outside its folders. */
    private readonly mayList: (absolutePath: string) => boolean = () => true,
  ) {}

  /** `configView` gives the document's current config when the caller has it parsed already. */
  complete(document: TextDocument, offset: number, documentPath: string | undefined, configView?: () => ConfigView): CompletionList {
    const text = document.getText();
    const context = cursorContextAt(text, offset);
    if (context.kind === 'none') return { isIncomplete: false, items: [] };
    const replaceRange = { start: document.positionAt(context.prefixStart), end: document.positionAt(context.wordEnd) };

    if (context.kind === 'key') {
      const properties = this.navigator.propertiesAt(context.parentPath);
      const parent = this.navigator.schemaAt(context.parentPath);
      const required = new Set(parent ? (this.navigator.resolve(parent).required ?? []) : []);
      const items = Object.entries(properties)
        .filter(([name]) => !context.siblings.has(name) && name !== '$schema')
        .map(([name, schema], index): CompletionItem => {
          const keyPath = formatPath([...context.parentPath, name]);
          const resolved = this.navigator.resolve(schema);
          return {
            label: name,
            kind: isObjectSchema(resolved) ? CompletionItemKind.Module : CompletionItemKind.Property,
            detail: shortType(resolved),
            documentation: { kind: MarkupKind.Markdown, value: schemaMarkdown(this.navigator, resolved, keyPath) },
            textEdit: { range: replaceRange, newText: context.hasColon ? name : this.keySnippet(name, resolved, context.indent) },
            insertTextFormat: context.hasColon ? InsertTextFormat.PlainText : InsertTextFormat.Snippet,
            insertTextMode: InsertTextMode.asIs,
            sortText: `${required.has(name) ? '0' : '1'}${String(index).padStart(3, '0')}`,
            filterText: name,
          };
        });
      return { isIncomplete: false, items };
    }

    const schema = this.navigator.schemaAt(context.path);
    if (!schema) return { isIncomplete: false, items: [] };
    const target = context.inSequence ? this.navigator.schemaAt([...context.path, 0]) : schema;
    if (!target) return { isIncomplete: false, items: [] };
    const resolved = this.navigator.resolve(target);
    const keyPath = formatPath(context.path);
    const candidates = METRIC_KEYS.has(keyPath)
      ? this.metricCandidates(configView?.() ?? this.viewOf(text))
      : keyPath === 'strategy.lora.targets'
        ? (this.loraTargetCandidates(configView?.() ?? this.viewOf(text), documentPath) ?? this.valueCandidates(resolved))
        : this.valueCandidates(resolved);
    const values = candidates.filter((value) => !context.siblingItems.has(String(value)));
    const defaultValue = resolved.default;
    const items: CompletionItem[] = values.map((value, index) => ({
      label: String(value),
      kind:
        typeof value === 'string' && this.navigator.literalValues(resolved).includes(value)
          ? CompletionItemKind.EnumMember
          : CompletionItemKind.Value,
      detail: value === defaultValue ? 'default' : undefined,
      documentation: { kind: MarkupKind.Markdown, value: schemaMarkdown(this.navigator, resolved, formatPath(context.path)) },
      textEdit: { range: replaceRange, newText: context.quoted ? String(value) : formatScalar(value) },
      sortText: `${value === defaultValue ? '0' : '1'}${String(index).padStart(3, '0')}`,
    }));
    if (!context.inSequence && DATA_FILE_KEYS.has(keyPath) && documentPath) {
      items.push(...this.dataFileItems(documentPath, context.prefix, replaceRange));
    }
    return { isIncomplete: false, items };
  }

  /** The metrics this config's task and loss can compute, rather than every metric the schema allows. */
  private metricCandidates(view: ConfigView): string[] {
    const suggested = suggestedMetrics(view.task(), view.lossType());
    // A list that has every suggested metric already still gets the other usual cutoffs of the ranking metrics.
    const ranking = suggested.some((metric) => metric.includes('@'))
      ? RANKING_METRICS.flatMap((name) => RANKING_CUTOFFS.map((k) => `${name}@${k}`))
      : [];
    return [...new Set([...suggested, ...ranking])];
  }

  /** The LoRA target names of the model's family, when model.base is a local folder whose config.json says its model_type. */
  private loraTargetCandidates(view: ConfigView, documentPath: string | undefined): string[] | undefined {
    if (!documentPath) return undefined;
    const modelType = localModelType(dirname(documentPath), view.raw(['model', 'base']), this.mayList);
    const targets = modelType === undefined ? undefined : LORA_TARGETS_BY_MODEL_TYPE[modelType];
    return targets ? [...targets] : undefined;
  }

  private viewOf(text: string): ConfigView {
    return new ConfigView(parseConfigText(text).value, this.navigator);
  }

  /** Enum members and booleans first, then the schema's examples, without repeats. */
  private valueCandidates(schema: JsonSchema): unknown[] {
    const literals = this.navigator.literalValues(schema);
    const examples = [...(schema.examples ?? []), ...this.navigator.branches(schema).flatMap((branch) => branch.examples ?? [])];
    const scalars = [...literals, ...(schema.default !== undefined ? [schema.default] : []), ...examples].filter(
      (value) => value === null || typeof value !== 'object',
    );
    return [...new Set(scalars)];
  }

  private keySnippet(name: string, schema: JsonSchema, indent: number): string {
    const childIndent = ' '.repeat(indent + 2);
    if (isObjectSchema(schema)) {
      const required = schema.required ?? [];
      const properties = this.navigator.propertiesOf(schema);
      const lines = required.map((child, i) => {
        const childSchema = properties[child] ? this.navigator.resolve(properties[child]!) : {};
        return `${childIndent}${child}: \${${i + 1}:${escapeSnippet(formatScalar(placeholderOf(childSchema) ?? ''))}}`;
      });
      return `${name}:\n${lines.length > 0 ? lines.join('\n') : `${childIndent}$0`}`;
    }
    const literals = this.navigator.literalValues(schema).filter((value) => typeof value !== 'object');
    if (
      literals.length > 0 &&
      this.navigator.branches(schema).every((branch) => branch.enum || branch.const !== undefined || branch.type === 'boolean')
    ) {
      const ordered = [schema.default, ...literals.filter((value) => value !== schema.default)].filter((value) => value !== undefined);
      return `${name}: \${1|${ordered.map((value) => escapeChoice(formatScalar(value))).join(',')}|}`;
    }
    if (Array.isArray(schema.default)) {
      return `${name}: [\${1:${escapeSnippet(schema.default.map((item) => formatScalar(item)).join(', '))}}]`;
    }
    const placeholder = placeholderOf(schema);
    if (placeholder !== undefined) return `${name}: \${1:${escapeSnippet(formatScalar(placeholder))}}`;
    return `${name}: $1`;
  }

  private dataFileItems(documentPath: string, prefix: string, range: Range): CompletionItem[] {
    const typedDir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/') + 1) : '';
    // Resolved as data.train itself is: an absolute path stays absolute.
    const folder = isAbsolute(typedDir) ? typedDir : join(dirname(documentPath), typedDir);
    if (!this.mayList(folder)) return [];
    let entries: Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return [];
    }
    return entries
      .filter((entry) => !entry.name.startsWith('.') && (entry.isDirectory() || DATA_FILE_PATTERN.test(entry.name)))
      .slice(0, MAX_FILES_LISTED)
      .map((entry) => {
        const path = `${typedDir}${entry.name}${entry.isDirectory() ? '/' : ''}`;
        return {
          label: path,
          kind: entry.isDirectory() ? CompletionItemKind.Folder : CompletionItemKind.File,
          textEdit: { range, newText: path },
          sortText: `2${path}`,
          ...(entry.isDirectory() ? { command: { title: 'Suggest', command: 'editor.action.triggerSuggest' } } : {}),
        };
      });
  }
}

function isObjectSchema(schema: JsonSchema): boolean {
  return schema.type === 'object' || schema.properties !== undefined;
}

function shortType(schema: JsonSchema): string | undefined {
  if (schema.enum) return schema.enum.map(String).join(' | ');
  if (Array.isArray(schema.type)) return schema.type.join(' | ');
  if (schema.type) return schema.type;
  if (schema.anyOf) return 'one of several forms';
  return undefined;
}

/** A YAML scalar as the user would type it: plain where YAML reads it back unchanged, quoted otherwise. */
export function formatScalar(value: unknown): string {
  if (typeof value !== 'string') return String(value);
  if (value === '' || /^[\s]|[\s]$|[:#,\[\]{}&*!|>'"%@`]|^(true|false|null|yes|no|on|off|~)$|^[-+.\d]/i.test(value)) {
    // Metric names such as ndcg@10 contain '@', which is only special at the start of a plain scalar.
    if (/^[A-Za-z][\w.-]*@\d+$/.test(value)) return value;
    return JSON.stringify(value);
  }
  return value;
}

function escapeSnippet(text: string): string {
  return text.replace(/[$}\\]/g, '\\$&');
}

function escapeChoice(text: string): string {
  return text.replace(/[$}\\|,]/g, '\\$&');
}

/** What a snippet offers for a key: its default, or for a key without one (a required key, an optional file) its first example. */
function placeholderOf(schema: JsonSchema): unknown {
  return schema.default ?? schema.examples?.[0];
}
