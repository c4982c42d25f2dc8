import { randomBytes } from 'node:crypto';

/** A fresh nonce for each load of a webview's HTML: only scripts carrying it may run. */
export function createNonce(): string {
  return randomBytes(18).toString('base64').replace(/[+/=]/g, '');
}

export interface WebviewPage {
  readonly title: string;
  /** `webview.cspSource`: the origin the webview's own resources are served from. */
  readonly cspSource: string;
  readonly nonce: string;
  /** URIs (as strings) of the bundled script and stylesheets, under media/. */
  readonly scriptUri: string;
  readonly styleUris: readonly string[];
}

/**
 * The Content Security Policy of every EmbedTune webview: nothing by default; scripts only with this load's nonce
 * (no inline handlers, no eval, no remote scripts); styles and images only from the extension's media folder.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'nonce-${nonce}'`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

/** The HTML shell of a webview: the CSP, the stylesheets and the bundled script. The script builds the rest. */
export function webviewHtml(page: WebviewPage): string {
  const styles = page.styleUris.map((uri) => `<link rel="stylesheet" href="${escapeAttribute(uri)}">`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${escapeAttribute(contentSecurityPolicy(page.cspSource, page.nonce))}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    ${styles}
    <title>${escapeText(page.title)}</title>
  </head>
  <body>
    <main id="app" aria-live="polite"></main>
    <script nonce="${escapeAttribute(page.nonce)}" src="${escapeAttribute(page.scriptUri)}"></script>
  </body>
</html>
`;
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function escapeAttribute(text: string): string {
  return escapeText(text).replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
