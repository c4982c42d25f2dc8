import { fileURLToPath } from 'node:url';
import type { Connection, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { DataFileProbe } from '../../shared/data/dataFileProbe';
import { SectionedConfigParser } from '../../shared/config/sectionedConfigParser';
import { validateConfigText, type ValidationResult } from '../../shared/config/validateConfig';
import { toLspDiagnostics } from '../service/diagnosticConversion';
import { documentKindOf } from '../service/documentKind';
import type { WorkspaceBoundary } from '../service/workspaceBoundary';

/** Validates open configs, debounced per document, and keeps the latest result for the other features to reuse. */
export class DocumentValidator {
  private readonly timers = new Map<string, { cancel(): void }>();
  private readonly results = new Map<string, { version: number; result: ValidationResult }>();
  private probe = new DataFileProbe();
  /** Per open document: its sectioned parser, and its file path, which URL parsing would otherwise recompute per edit. */
  private readonly parsers = new Map<string, { parser: SectionedConfigParser; path: string | undefined }>();

  constructor(
    private readonly connection: Connection,
    private readonly documents: TextDocuments<TextDocument>,
    private readonly debounceMs: () => number,
  ) {}

  /** Data files are read only where the boundary allows; results read under another boundary are dropped. */
  restrictReadsTo(boundary: WorkspaceBoundary): void {
    this.probe = new DataFileProbe((path) => boundary.allows(path));
    this.results.clear();
  }

  schedule(document: TextDocument): void {
    this.timers.get(document.uri)?.cancel();
    const run = () => {
      this.timers.delete(document.uri);
      const current = this.documents.get(document.uri);
      if (current) this.publish(current);
    };
    // setTimeout(0) still waits about a millisecond; with no debounce, run as soon as pending messages are read.
    const delay = this.debounceMs();
    if (delay <= 0) {
      const immediate = setImmediate(run);
      this.timers.set(document.uri, { cancel: () => clearImmediate(immediate) });
    } else {
      const timeout = setTimeout(run, delay);
      this.timers.set(document.uri, { cancel: () => clearTimeout(timeout) });
    }
  }

  /** The validation of the document's current version, computed now if the debounced one has not run yet. */
  resultFor(document: TextDocument): ValidationResult {
    const cached = this.results.get(document.uri);
    if (cached && cached.version === document.version) return cached.result;
    let parsing = this.parsers.get(document.uri);
    if (!parsing) {
      parsing = { parser: new SectionedConfigParser(), path: filePathOf(document.uri) };
      this.parsers.set(document.uri, parsing);
    }
    const parser = parsing.parser;
    const result = validateConfigText(document.getText(), {
      configPath: parsing.path,
      probe: this.probe,
      parse: (text) => parser.parse(text),
      onInternalError: (error, check) => this.connection.console.error(`embedtune: the "${check}" check failed: ${String(error)}`),
    });
    this.results.set(document.uri, { version: document.version, result });
    return result;
  }

  publish(document: TextDocument): void {
    try {
      const result = this.resultFor(document);
      const kind = documentKindOf(document.uri, document.languageId);
      void this.connection.sendDiagnostics({
        uri: document.uri,
        version: document.version,
        diagnostics: toLspDiagnostics(document, result.diagnostics, kind),
      });
    } catch (error) {
      this.connection.console.error(`embedtune: validation failed for ${document.uri}: ${String(error)}`);
    }
  }

  /** Data files changed on disk: results that read them are stale. */
  revalidateAll(): void {
    this.results.clear();
    for (const document of this.documents.all()) this.schedule(document);
  }

  forget(uri: string): void {
    this.timers.get(uri)?.cancel();
    this.timers.delete(uri);
    this.results.delete(uri);
    this.parsers.delete(uri);
    void this.connection.sendDiagnostics({ uri, diagnostics: [] });
  }
}

export function filePathOf(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}
