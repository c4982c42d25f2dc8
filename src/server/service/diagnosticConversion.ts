import { DiagnosticSeverity, type Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { ConfigDiagnostic, Severity } from '../../shared/config/configDiagnostic';
import { originOf } from '../../shared/config/diagnosticCodes';
import type { DocumentKind } from './documentKind';

export const DIAGNOSTIC_SOURCE = 'embedtune';

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  information: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

/** Offsets become positions here, at the protocol edge. JSON documents keep only what VS Code's JSON service cannot report. */
export function toLspDiagnostics(document: TextDocument, diagnostics: readonly ConfigDiagnostic[], kind: DocumentKind): Diagnostic[] {
  return diagnostics
    .filter((diagnostic) => kind === 'yaml' || originOf(diagnostic.code) === 'semantic')
    .map((diagnostic) => ({
      range: { start: document.positionAt(diagnostic.range.start), end: document.positionAt(diagnostic.range.end) },
      severity: SEVERITY[diagnostic.severity],
      code: diagnostic.code,
      source: DIAGNOSTIC_SOURCE,
      message: diagnostic.message,
      ...(diagnostic.data ? { data: diagnostic.data } : {}),
    }));
}
