/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Code passed to page.evaluate runs in the browser page; the DOM library types it.
import { CHROMIUM, HEADLESS_CHROMIUM_ARGS } from '../helpers/headlessChromium';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { createNonce, webviewHtml } from '../../src/extension/panels/webviewHtml';

/**
 * Runs a webview bundle in real headless Chromium the way VS Code hosts it: the page is the extension's own HTML
 * shell (same CSP, same nonce handling) served from a stand-in webview origin, the theme arrives as CSS variables
 * on <html> and a class on <body>, and `acquireVsCodeApi` records what the webview posts and keeps its state in
 * sessionStorage so that it survives a reload. No request leaves the page: anything else is aborted.
 */

const ROOT = resolve(__dirname, '../..');
export const ARTIFACTS = join(ROOT, '.test-artifacts', 'webview');
const ORIGIN = 'https://embedtune-webview.test';

/** Why the browser tests cannot run here, or undefined when they can. In CI a missing browser is a failure, not a skip. */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set EMBEDTUNE_CHROMIUM)`;
  if (process.env.CI) throw new Error(`The webview tests need a browser in CI: ${why}.`);
  return why;
}

export const THEMES = {
  dark: {
    bodyClass: 'vscode-dark',
    variables: {
      '--vscode-foreground': '#cccccc',
      '--vscode-editor-foreground': '#d4d4d4',
      '--vscode-editor-background': '#1e1e1e',
      '--vscode-descriptionForeground': '#9d9d9d',
      '--vscode-font-family': 'sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-editor-font-family': 'monospace',
      '--vscode-editor-font-size': '12px',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-background': '#0e639c',
      '--vscode-button-hoverBackground': '#1177bb',
      '--vscode-button-secondaryForeground': '#ffffff',
      '--vscode-button-secondaryBackground': '#3a3d41',
      '--vscode-dropdown-background': '#3c3c3c',
      '--vscode-dropdown-foreground': '#f0f0f0',
      '--vscode-badge-background': '#4d4d4d',
      '--vscode-badge-foreground': '#ffffff',
      '--vscode-errorForeground': '#f48771',
      '--vscode-progressBar-background': '#0e70c0',
      '--vscode-textCodeBlock-background': '#0a0a0a',
      '--vscode-editorWidget-border': '#454545',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#89d185',
      '--vscode-charts-purple': '#b180d7',
      '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-yellow': '#cca700',
      '--vscode-list-inactiveSelectionBackground': '#37373d',
    },
  },
  light: {
    bodyClass: 'vscode-light',
    variables: {
      '--vscode-foreground': '#616161',
      '--vscode-editor-foreground': '#000000',
      '--vscode-editor-background': '#ffffff',
      '--vscode-descriptionForeground': '#717171',
      '--vscode-font-family': 'sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-editor-font-family': 'monospace',
      '--vscode-editor-font-size': '12px',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-background': '#007acc',
      '--vscode-button-hoverBackground': '#0062a3',
      '--vscode-button-secondaryForeground': '#ffffff',
      '--vscode-button-secondaryBackground': '#5f6a79',
      '--vscode-dropdown-background': '#ffffff',
      '--vscode-dropdown-foreground': '#000000',
      '--vscode-badge-background': '#c4c4c4',
      '--vscode-badge-foreground': '#333333',
      '--vscode-errorForeground': '#a1260d',
      '--vscode-progressBar-background': '#0e70c0',
      '--vscode-textCodeBlock-background': '#f3f3f3',
      '--vscode-editorWidget-border': '#c8c8c8',
      '--vscode-charts-blue': '#1a85ff',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#388a34',
      '--vscode-charts-purple': '#652d90',
      '--vscode-charts-red': '#e51400',
      '--vscode-charts-yellow': '#bf8803',
      '--vscode-list-inactiveSelectionBackground': '#e4e6f1',
    },
  },
} as const;
export type ThemeName = keyof typeof THEMES;

export class WebviewBrowser {
  private constructor(
    readonly context: BrowserContext,
    private readonly userDataDir: string,
  ) {}

  static async launch(): Promise<WebviewBrowser> {
    const userDataDir = mkdtempSync(join(tmpdir(), 'embedtune-chromium-'));
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...HEADLESS_CHROMIUM_ARGS],
      viewport: { width: 1100, height: 900 },
    });
    return new WebviewBrowser(context, userDataDir);
  }

  /** Opens a webview page (`dashboard` or `checkpoints`) and waits for its `ready` message. */
  async open(name: 'dashboard' | 'checkpoints' | 'lab', theme: ThemeName = 'dark'): Promise<WebviewPage> {
    const page = await this.context.newPage();
    const webview = new WebviewPage(page);
    await page.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.origin !== ORIGIN) return route.abort();
      if (url.pathname === `/${name}.html`) return route.fulfill({ contentType: 'text/html', body: themedHtml(name, THEMES[theme]) });
      const file = join(ROOT, decodeURIComponent(url.pathname));
      if (!file.startsWith(join(ROOT, 'media')) || !existsSync(file)) return route.fulfill({ status: 404, body: '' });
      const type = extname(file) === '.js' ? 'text/javascript' : extname(file) === '.css' ? 'text/css' : 'application/octet-stream';
      return route.fulfill({ contentType: type, body: readFileSync(file) });
    });
    await page.addInitScript({ content: VSCODE_API_SHIM });
    page.on('pageerror', (error) => webview.errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') webview.errors.push(message.text());
    });
    await page.goto(`${ORIGIN}/${name}.html`);
    await webview.waitForPosted('ready');
    return webview;
  }

  async close(): Promise<void> {
    await this.context.close();
    rmSync(this.userDataDir, { recursive: true, force: true });
  }
}

/**
 * What VS Code gives a webview before its scripts run: `acquireVsCodeApi` (once per page), here recording posted
 * messages and keeping state in sessionStorage so that it survives a reload. It is a string, not a function, because
 * the test runner's transpiler adds helpers (`__name`) to functions that do not exist in the page; `__name` is
 * defined too, for the functions tests pass to page.evaluate.
 */
const VSCODE_API_SHIM = `
globalThis.__name = (fn) => fn;
window.__posted = [];
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => window.__cspViolations.push(event.violatedDirective + ' ' + event.blockedURI));
let acquired = false;
window.acquireVsCodeApi = () => {
  if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
  acquired = true;
  return {
    postMessage: (message) => window.__posted.push(JSON.parse(JSON.stringify(message))),
    getState: () => JSON.parse(sessionStorage.getItem('vscodeState') ?? 'null') ?? undefined,
    setState: (state) => { sessionStorage.setItem('vscodeState', JSON.stringify(state)); return state; },
  };
};
`;

export class WebviewPage {
  /** Uncaught errors and console errors of the page; a test ends by checking there were none. */
  readonly errors: string[] = [];

  constructor(readonly page: Page) {}

  /** Sends a message as the extension does (`webview.postMessage`), and waits for the page to render it. */
  async send(message: unknown): Promise<void> {
    await this.page.evaluate((m) => window.postMessage(m, '*'), message as object);
    await this.frame();
  }

  /** Waits for two animation frames, so that a render scheduled by a message has happened. */
  async frame(): Promise<void> {
    await this.page.evaluate(() => new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
  }

  async posted(): Promise<{ command: string; [key: string]: unknown }[]> {
    return this.page.evaluate(() => (window as unknown as { __posted: { command: string }[] }).__posted);
  }

  /** Polls from outside: page.waitForFunction would need eval in the page, which the webview's CSP rightly forbids. */
  async waitForPosted(command: string, count = 1, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const posted = await this.posted().catch(() => []);
      if (posted.filter((m) => m.command === command).length >= count) return;
      if (Date.now() > deadline)
        throw new Error(`the webview never posted ${count} "${command}" message(s); errors: ${this.errors.join('; ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async cspViolations(): Promise<string[]> {
    return this.page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations);
  }

  async text(selector: string): Promise<string> {
    return (await this.page.locator(selector).first().textContent()) ?? '';
  }

  async screenshot(name: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, `${name}.png`);
    await this.page.screenshot({ path, fullPage: true });
    return path;
  }

  /** A fingerprint of what a chart's canvas shows, to tell whether it was redrawn differently. */
  async canvasDigest(chartTitle: string): Promise<string> {
    return this.page.evaluate((title) => {
      const figure = [...document.querySelectorAll('figure.chart')].find((f) => f.getAttribute('data-chart') === title);
      const canvas = figure?.querySelector('canvas');
      return canvas ? canvas.toDataURL() : '';
    }, chartTitle);
  }

  /** How many pixels of a chart's canvas are close to `color` (#rrggbb): the chart drew a line of that colour. */
  async pixelsOfColor(chartTitle: string, color: string, tolerance = 40): Promise<number> {
    return this.page.evaluate(
      ([title, hex, tol]) => {
        const figure = [...document.querySelectorAll('figure.chart')].find((f) => f.getAttribute('data-chart') === title);
        const canvas = figure?.querySelector('canvas');
        if (!canvas) return -1;
        const context = canvas.getContext('2d')!;
        const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
        const target = [1, 3, 5].map((i) => parseInt((hex as string).slice(i, i + 2), 16));
        let count = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3]! < 200) continue;
          if (
            Math.abs(data[i]! - target[0]!) + Math.abs(data[i + 1]! - target[1]!) + Math.abs(data[i + 2]! - target[2]!) <=
            (tol as number)
          )
            count++;
        }
        return count;
      },
      [chartTitle, color, tolerance] as const,
    );
  }
}

function themedHtml(name: string, theme: (typeof THEMES)[ThemeName]): string {
  const html = webviewHtml({
    title: `EmbedTune ${name}`,
    cspSource: ORIGIN,
    nonce: createNonce(),
    scriptUri: `${ORIGIN}/media/dist/${name}.js`,
    styleUris: [`${ORIGIN}/media/dist/${name}.css`],
  });
  const style = Object.entries(theme.variables)
    .map(([key, value]) => `${key}: ${value}`)
    .join('; ');
  // VS Code puts the theme's variables on <html> and the theme kind on <body>.
  return html.replace('<html lang="en">', `<html lang="en" style="${style}">`).replace('<body>', `<body class="${theme.bodyClass}">`);
}

/** The recorded run: events.jsonl and config.resolved.yaml of a real tiny training run (see fixtures/recordTinyRun.ts). */
export function recordedRun(): { events: RunEvent[]; config: string; runId: string } {
  const dir = join(__dirname, 'fixtures', 'tiny-run');
  const events = readFileSync(join(dir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunEvent);
  return { events, config: readFileSync(join(dir, 'config.resolved.yaml'), 'utf8'), runId: events[0]!.run_id };
}
