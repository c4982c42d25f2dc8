import { fileURLToPath } from 'node:url';
import type { Connection, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { DataFileProbe } from '../../shared/data/dataFileProbe';
import { validateConfigText, type ValidationResult } from '../../shared/config/validateConfig';
import { toLspDiagnostics } from '../service/diagnosticConversion';
import { documentKindOf } from '../service/documentKind';

/** Validates open configs, debounced per document, and keeps the latest result for the other features to reuse. */
export class DocumentValidator {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly results = new Map<string, { version: number; result: ValidationResult }>();
  private readonly probe = new DataFileProbe();

  constructor(
    private readonly connection: Connection,
    private readonly documents: TextDocuments<TextDocument>,
    private readonly debounceMs: () => number,
  ) {}

  schedule(document: TextDocument): void {
    clearTimeout(this.timers.get(document.uri));
    this.timers.set(
      document.uri,
      setTimeout(() => {
        this.timers.delete(document.uri);
        const current = this.documents.get(document.uri);
        if (current) this.publish(current);
      }, this.debounceMs()),
    );
  }

  /** The validation of the document's current version, computed now if the debounced one has not run yet. */
  resultFor(document: TextDocument): ValidationResult {
    const cached = this.results.get(document.uri);
    if (cached && cached.version === document.version) return cached.result;
    const result = validateConfigText(document.getText(), {
      configPath: filePathOf(document.uri),
      probe: this.probe,
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
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
    this.results.delete(uri);
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
