import {
  createConnection,
  type Connection,
  DidChangeConfigurationNotification,
  ProposedFeatures,
  TextDocuments,
  TextDocumentSyncKind,
  type WorkspaceFolder,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DEFAULT_SERVER_SETTINGS, type ServerSettings } from '../shared/protocol/languageMessages';
import { registerFeatureHandlers } from './handlers/featureHandlers';
import { DocumentValidator, filePathOf } from './handlers/validationHandler';
import { WorkspaceBoundary } from './service/workspaceBoundary';
import { routeConsoleToClient } from './transport/consoleToClient';
import { FramedStreamMessageReader } from './transport/framedStreamMessageReader';
import { FramedStreamMessageWriter } from './transport/framedStreamMessageWriter';

// process.env is an exotic object whose every read calls into C++; the yaml parser reads LOG_TOKENS once per token,
// which cost about a millisecond per parse of a 300-line config. A plain copy keeps the same values.
process.env = { ...process.env };

const connection = openConnection();
const documents = new TextDocuments(TextDocument);
let settings: ServerSettings = DEFAULT_SERVER_SETTINGS;
let canPullConfiguration = false;
let boundary = WorkspaceBoundary.unrestricted();

process.on('uncaughtException', (error) => connection.console.error(`embedtune: uncaught ${error.stack ?? error.message}`));
process.on('unhandledRejection', (reason) => connection.console.error(`embedtune: unhandled rejection ${String(reason)}`));

const validator = new DocumentValidator(connection, documents, () => settings.validation.debounceMs);

connection.onInitialize(({ capabilities, initializationOptions, workspaceFolders, rootUri }) => {
  canPullConfiguration = capabilities.workspace?.configuration === true;
  boundary = workspaceBoundaryOf(initializationOptions, workspaceFolders, rootUri);
  validator.restrictReadsTo(boundary);
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: [':', ' ', '-', '/', '[', ','], resolveProvider: false },
      hoverProvider: true,
      codeActionProvider: { codeActionKinds: ['quickfix'] },
      documentSymbolProvider: true,
      codeLensProvider: { resolveProvider: false },
    },
    serverInfo: { name: 'embedtune-language-server', version: '0.1.0' },
  };
});

connection.onInitialized(() => {
  if (canPullConfiguration) {
    void connection.client.register(DidChangeConfigurationNotification.type, { section: 'embedtune' });
    void refreshSettings();
  }
});

async function refreshSettings(): Promise<void> {
  if (!canPullConfiguration) return;
  try {
    const pulled = (await connection.workspace.getConfiguration('embedtune')) as Partial<ServerSettings> | null;
    settings = {
      validation: { ...DEFAULT_SERVER_SETTINGS.validation, ...(pulled?.validation ?? {}) },
      codeLens: { ...DEFAULT_SERVER_SETTINGS.codeLens, ...(pulled?.codeLens ?? {}) },
    };
  } catch (error) {
    connection.console.error(`embedtune: could not read settings: ${String(error)}`);
  }
}

connection.onDidChangeConfiguration(() => {
  void refreshSettings().then(() => validator.revalidateAll());
});

documents.onDidOpen(({ document }) => validator.publish(document));
documents.onDidChangeContent(({ document }) => validator.schedule(document));
documents.onDidClose(({ document }) => validator.forget(document.uri));
connection.onDidChangeWatchedFiles(() => validator.revalidateAll());

registerFeatureHandlers(
  connection,
  documents,
  validator,
  () => settings,
  () => boundary,
);

/**
 * A client that says nothing of trust (another editor) is trusted, as VS Code's own trusted mode; the extension always
 * says, and an untrusted workspace keeps reads inside its folders (or the root folder of an older client).
 */
function workspaceBoundaryOf(
  options: unknown,
  folders: readonly WorkspaceFolder[] | null | undefined,
  rootUri: string | null,
): WorkspaceBoundary {
  const trusted = (options as { workspaceTrusted?: unknown } | undefined)?.workspaceTrusted;
  if (trusted !== false) return WorkspaceBoundary.unrestricted();
  const uris = folders ? folders.map((folder) => folder.uri) : rootUri ? [rootUri] : [];
  return WorkspaceBoundary.within(uris.flatMap((uri) => filePathOf(uri) ?? []));
}

/**
 * Over stdio (how the extension and other editors start the server) messages come in through FramedStreamMessageReader
 * and go out through FramedStreamMessageWriter, each handled in the same turn its bytes arrive or it is sent; any other
 * transport the library opens from the command line as before.
 */
function openConnection(): Connection {
  if (!process.argv.slice(2).includes('--stdio')) return createConnection(ProposedFeatures.all);
  const opened = createConnection(
    ProposedFeatures.all,
    new FramedStreamMessageReader(process.stdin),
    new FramedStreamMessageWriter(process.stdout),
  );
  routeConsoleToClient(opened.console);
  exitWithClient(opened);
  return opened;
}

/** As the library does for a stdio it opens itself: the server ends when the client closes its stdin, 0 after shutdown. */
function exitWithClient(opened: Connection): void {
  let shutDown = false;
  opened.onShutdown(() => {
    shutDown = true;
  });
  const exit = () => process.exit(shutDown ? 0 : 1);
  process.stdin.on('end', exit);
  process.stdin.on('close', exit);
}

documents.listen(connection);
connection.listen();
