import * as vscode from 'vscode';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

export const CONFIG_DOCUMENT_SELECTOR = [
  { scheme: 'file', language: 'embedtune' },
  { scheme: 'untitled', language: 'embedtune' },
  { scheme: 'file', language: 'json', pattern: '**/*.embedtune.json' },
];

/** Starts `dist/server.js` as a separate Node process over stdio; the extension host only relays. */
export function createLanguageClient(context: vscode.ExtensionContext): LanguageClient {
  const serverModule = context.asAbsolutePath('dist/server.js');
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.stdio },
    debug: { module: serverModule, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6010'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: CONFIG_DOCUMENT_SELECTOR,
    synchronize: {
      configurationSection: 'embedtune',
      // Diagnostics depend on data files: re-check when they change on disk. Images too, so that copying images into
      // an empty class folder clears its diagnostic (the server debounces, so a copy of many images re-checks once).
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.{jsonl,ndjson,csv,tsv,tab,png,jpg,jpeg}'),
    },
    outputChannelName: 'EmbedTune Language Server',
    // Read at each start: in an untrusted workspace the server reads no data file and lists no folder outside it.
    initializationOptions: () => ({ workspaceTrusted: vscode.workspace.isTrusted }),
  };
  const client = new LanguageClient('embedtune', 'EmbedTune Language Server', serverOptions, clientOptions);
  // Trust is only ever granted during a session (revoking it reloads the window); a restart hands the server the news.
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => void client.restart()));
  return client;
}
