import { CodeActionKind, type CodeLens, type Connection, type TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { embedtuneSchemaNavigator } from '../../shared/config/embedtuneSchema';
import { runPlanTitle } from '../../shared/config/runPlan';
import { planFromValidation } from '../../shared/config/validateConfig';
import { DryRunRequest, type ServerSettings } from '../../shared/protocol/languageMessages';
import { CodeActionService } from '../service/codeActionService';
import { CompletionService } from '../service/completionService';
import { documentKindOf } from '../service/documentKind';
import { HoverService } from '../service/hoverService';
import { keyHistoriesInTurns, lensesFrom, outputDirOf } from '../service/hyperparameterHistory';
import { mineHardNegativesActions } from '../service/mineNegativesAction';
import { RunHistory } from '../service/runHistory';
import { documentSymbols } from '../service/symbolService';
import type { WorkspaceBoundary } from '../service/workspaceBoundary';
import { safely } from './safeHandler';
import { filePathOf, type DocumentValidator } from './validationHandler';

/** Thin protocol glue: each handler finds the document, asks a pure service, and returns LSP types. */
export function registerFeatureHandlers(
  connection: Connection,
  documents: TextDocuments<TextDocument>,
  validator: DocumentValidator,
  settings: () => ServerSettings,
  boundary: () => WorkspaceBoundary,
): void {
  const completion = new CompletionService(embedtuneSchemaNavigator, (path) => boundary().allows(path));
  const hover = new HoverService(embedtuneSchemaNavigator);
  const codeActions = new CodeActionService();
  const runHistory = new RunHistory();
  // JSON configs get completion and hover from VS Code's JSON service through jsonValidation.
  const yamlDocument = (uri: string) => {
    const document = documents.get(uri);
    return document && documentKindOf(uri, document.languageId) === 'yaml' ? document : undefined;
  };

  connection.onCompletion(
    safely(connection, 'completion', null, ({ textDocument, position }) => {
      const document = yamlDocument(textDocument.uri);
      return document
        ? completion.complete(document, document.offsetAt(position), filePathOf(document.uri), () => validator.resultFor(document).view)
        : null;
    }),
  );

  connection.onHover(
    safely(connection, 'hover', null, ({ textDocument, position }) => {
      const document = yamlDocument(textDocument.uri);
      return document ? hover.hover(document, document.offsetAt(position), () => validator.resultFor(document).dataset) : null;
    }),
  );

  connection.onCodeAction(
    safely(connection, 'code actions', [], ({ textDocument, range, context }) => {
      const document = documents.get(textDocument.uri);
      if (!document) return [];
      const fixes = codeActions.codeActions(document, context.diagnostics, documentKindOf(document.uri, document.languageId));
      const wantsQuickFixes = !context.only || context.only.some((kind) => CodeActionKind.QuickFix.startsWith(kind));
      const mining = wantsQuickFixes ? mineHardNegativesActions(document, range, validator.resultFor(document), boundary().restricted) : [];
      return [...fixes, ...mining];
    }),
  );

  connection.onDocumentSymbol(
    safely(connection, 'outline', [], ({ textDocument }) => {
      const document = yamlDocument(textDocument.uri);
      return document ? documentSymbols(document, validator.resultFor(document).parsed) : [];
    }),
  );

  // A connection holds one code lens handler: it asks for both kinds, each failing on its own.
  const dryRunLens = safely(connection, 'dry-run code lens', [] as CodeLens[], (uri: string): CodeLens[] => {
    const document = documents.get(uri);
    if (!document || !settings().codeLens.dryRun) return [];
    const plan = planFromValidation(validator.resultFor(document));
    const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
    const title = runPlanTitle(plan);
    return [{ range, command: { title, command: 'embedtune.showDryRun', arguments: [document.uri] } }];
  });
  // Past runs are read here, on a code lens request, and never on completion's path; not at all in an untrusted
  // workspace, whose config could point output_dir anywhere.
  const historyLens = async (uri: string): Promise<CodeLens[]> => {
    try {
      const document = yamlDocument(uri);
      const configPath = document && filePathOf(document.uri);
      if (!document || !configPath || !settings().codeLens.history || boundary().restricted) return [];
      const { parsed } = validator.resultFor(document);
      const histories = await keyHistoriesInTurns(await runHistory.runsOf(configPath, outputDirOf(configPath, parsed.value)));
      // The text may have changed while the runs were read: place the lenses on the document as it is now.
      const current = yamlDocument(uri);
      return current ? lensesFrom(current, validator.resultFor(current).parsed, histories) : [];
    } catch (error) {
      connection.console.error(
        `embedtune: hyperparameter history code lens failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
      );
      return [];
    }
  };
  connection.onCodeLens(async ({ textDocument }) => [...dryRunLens(textDocument.uri), ...(await historyLens(textDocument.uri))]);

  connection.onRequest(
    DryRunRequest.method,
    safely(connection, 'dry run', null, ({ uri }: DryRunRequest.Params): DryRunRequest.Result | null => {
      const document = documents.get(uri);
      if (!document) return null;
      const result = validator.resultFor(document);
      return {
        plan: planFromValidation(result),
        errors: result.diagnostics.filter((d) => d.severity === 'error').length,
        warnings: result.diagnostics.filter((d) => d.severity === 'warning').length,
      };
    }),
  );
}
