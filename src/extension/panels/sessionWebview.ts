import * as vscode from 'vscode';
import { createNonce, webviewHtml } from './webviewHtml';

/** What a panel's webview talks to: the messages it sends, already parsed, and a disposal. */
export interface WebviewSession<Message> extends vscode.Disposable {
  handle(message: Message): Promise<void>;
}

export interface SessionWebviewSpec<Message> {
  /** The bundle under media/dist: `<name>.js` and `<name>.css`. */
  readonly name: string;
  readonly title: string;
  /** Validates what the webview sent; undefined for anything malformed. */
  readonly parse: (raw: unknown) => Message | undefined;
  readonly session: WebviewSession<Message>;
  readonly log: (lines: string[]) => void;
  readonly onDispose: () => void;
}

/** Scripts on, and nothing loadable but the extension's media folder. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')] };
}

/**
 * Loads a bundled webview into the panel and wires it to its session: each message from the page is parsed, then
 * handled; malformed ones and failures go to the log, never to an exception in the extension host. Returns what to
 * dispose with the panel (the session included).
 */
export function connectSessionWebview<Message>(
  panel: vscode.WebviewPanel,
  extensionUri: vscode.Uri,
  spec: SessionWebviewSpec<Message>,
): vscode.Disposable[] {
  const disposables: vscode.Disposable[] = [spec.session];
  panel.webview.options = webviewOptions(extensionUri);
  const asset = (file: string) => panel.webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'dist', file)).toString();
  panel.webview.html = webviewHtml({
    title: spec.title,
    cspSource: panel.webview.cspSource,
    nonce: createNonce(),
    scriptUri: asset(`${spec.name}.js`),
    styleUris: [asset(`${spec.name}.css`)],
  });
  panel.onDidDispose(spec.onDispose, null, disposables);
  const label = spec.title.replace(/^EmbedTune /, '');
  panel.webview.onDidReceiveMessage(
    (raw: unknown) => {
      const message = spec.parse(raw);
      if (!message) {
        spec.log([`${label}: ignored a malformed message: ${JSON.stringify(raw)?.slice(0, 200)}`]);
        return;
      }
      void spec.session
        .handle(message)
        .catch((error: unknown) =>
          spec.log([`${label}: ${(message as { command?: string }).command ?? 'a message'} failed: ${String(error)}`]),
        );
    },
    null,
    disposables,
  );
  return disposables;
}
