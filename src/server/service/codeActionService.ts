import { CodeActionKind, type CodeAction, type Diagnostic } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextRange } from '../../shared/textRange';
import type { ConfigFix, DiagnosticData } from '../../shared/config/configDiagnostic';
import { formatPath } from '../../shared/config/configDiagnostic';
import { assignValues, moveKey } from '../../shared/config/configEdits';
import type { DiagnosticCode } from '../../shared/config/diagnosticCodes';
import { formatScalar } from './completionService';
import type { DocumentKind } from './documentKind';
import { DIAGNOSTIC_SOURCE } from './diagnosticConversion';

type QuickFixProvider = (diagnostic: Diagnostic, data: DiagnosticData, document: TextDocument, kind: DocumentKind) => CodeAction[];

/** "Did you mean": the diagnostic's range is exactly the misspelt key or value, so the fix replaces that range. */
const replaceWithSuggestion: QuickFixProvider = (diagnostic, data, document, kind) => {
  if (!data.suggestion) return [];
  const original = document.getText(diagnostic.range);
  // A block scalar (`|` or `>`) spans lines; replacing it with a plain word would swallow the line break after it.
  if (/^[|>]/.test(original) || original.includes('\n')) return [];
  const newText = kind === 'json' || /^["']/.test(original) ? JSON.stringify(data.suggestion) : formatScalar(data.suggestion);
  return [
    {
      title: `Change to "${data.suggestion}"`,
      kind: CodeActionKind.QuickFix,
      diagnostics: [diagnostic],
      isPreferred: true,
      edit: { changes: { [document.uri]: [{ range: diagnostic.range, newText }] } },
    },
  ];
};

/** A key of another section (`engine.mixed_precision`) moves, with its value, to where it belongs. */
const moveToSection: QuickFixProvider = (diagnostic, data, document, kind) => {
  if (!data.path || !data.moveTo) return [];
  const replacement = moveKey(document.getText(), data.path, data.moveTo, kind);
  if (!replacement) return [];
  return [
    {
      title: `Move to ${formatPath(data.moveTo)}`,
      kind: CodeActionKind.QuickFix,
      diagnostics: [diagnostic],
      isPreferred: true,
      edit: { changes: { [document.uri]: [{ range: rangeOf(document, replacement.range), newText: replacement.newText }] } },
    },
  ];
};

/** Advice diagnostics carry the assignments that apply them; the edit is computed against the current text. */
const applyConfigFixes: QuickFixProvider = (diagnostic, data, document, kind) =>
  (data.fixes ?? []).flatMap((fix: ConfigFix): CodeAction[] => {
    const replacement = assignValues(document.getText(), fix.set, kind);
    if (!replacement) return [];
    return [
      {
        title: fix.title,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diagnostic],
        isPreferred: fix.preferred === true,
        edit: {
          changes: {
            [document.uri]: [
              {
                range: rangeOf(document, replacement.range),
                newText: replacement.newText,
              },
            ],
          },
        },
      },
    ];
  });

const QUICK_FIXES: Partial<Record<DiagnosticCode, QuickFixProvider>> = {
  'unknown-key': (...args) => [...replaceWithSuggestion(...args), ...moveToSection(...args)],
  'invalid-value': replaceWithSuggestion,
};

export class CodeActionService {
  codeActions(document: TextDocument, diagnostics: readonly Diagnostic[], kind: DocumentKind): CodeAction[] {
    const actions: CodeAction[] = [];
    for (const diagnostic of diagnostics) {
      if (diagnostic.source !== DIAGNOSTIC_SOURCE || typeof diagnostic.code !== 'string') continue;
      const data = (diagnostic.data ?? {}) as DiagnosticData;
      const provider = QUICK_FIXES[diagnostic.code as DiagnosticCode] ?? applyConfigFixes;
      actions.push(...provider(diagnostic, data, document, kind));
    }
    return actions;
  }
}

function rangeOf(document: TextDocument, range: TextRange) {
  return { start: document.positionAt(range.start), end: document.positionAt(range.end) };
}
