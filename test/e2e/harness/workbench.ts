/// <reference lib="dom" />
// Code passed to evaluate runs in the browser page; the DOM library types it.
import { CHROMIUM, HEADLESS_CHROMIUM_ARGS } from '../../helpers/headlessChromium';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Frame, type Locator, type Page } from 'playwright-core';
import type { CodeServer } from './codeServer';
import { takeDocsScreenshot, WINDOW, type DocsScreenshot } from './docsScreenshots';
import type { Artifacts } from './scenario';

/**
 * Drives the VS Code workbench in headless Chromium as a user does: keyboard shortcuts, the command palette, clicks,
 * and reading what is on screen (the status bar, the Problems panel, notifications, webviews). Nothing here calls
 * VS Code's API: what a test asserts is what a user would see.
 */

export class E2EBrowser {
  private constructor(
    private readonly userDataDir: string,
    private readonly context: BrowserContext,
  ) {}

  static async launch(): Promise<E2EBrowser> {
    if (!existsSync(CHROMIUM))
      throw new Error(`the e2e tests need Chromium at ${CHROMIUM}: apt-get install -y chromium, or set EMBEDTUNE_CHROMIUM`);
    const userDataDir = mkdtempSync(join(tmpdir(), 'embedtune-e2e-chromium-'));
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        ...HEADLESS_CHROMIUM_ARGS,
        // Nothing the workbench asks for may leave this machine.
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      ],
      viewport: { ...WINDOW },
      // Headless Chromium hides scrollbars by default; users see them, and so do the docs' pictures.
      ignoreDefaultArgs: ['--hide-scrollbars'],
    });
    return new E2EBrowser(userDataDir, context);
  }

  async newPage(): Promise<Page> {
    return this.context.newPage();
  }

  async close(): Promise<void> {
    await this.context.close().catch(() => undefined);
    rmSync(this.userDataDir, { recursive: true, force: true });
  }
}

export class Workbench {
  private constructor(
    readonly page: Page,
    private readonly artifacts: Artifacts,
  ) {}

  /** Opens a folder in a new tab and waits until the workbench has restored and our extension has activated. */
  static async open(browser: E2EBrowser, server: CodeServer, folder: string, artifacts: Artifacts): Promise<Workbench> {
    const page = await browser.newPage();
    const workbench = new Workbench(page, artifacts);
    await page.goto(server.folderUrl(folder));
    await workbench.waitForWorkbench();
    return workbench;
  }

  async waitForWorkbench(): Promise<void> {
    await this.page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: 60_000 });
    // The explorer lists the folder once the remote file system is connected.
    await this.page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
  }

  async screenshot(name: string): Promise<string> {
    return this.artifacts.screenshot(this.page, name);
  }

  /** A picture for the README and docs/ (see docsScreenshots.ts), kept among the scenario's screenshots too. */
  async docsScreenshot(name: DocsScreenshot): Promise<void> {
    await takeDocsScreenshot(this.page, name);
    await this.screenshot(`docs-${name}`);
  }

  /** Presses keys in the workbench (a chord such as Control+Shift+P, or several separated by spaces). */
  async press(...keys: string[]): Promise<void> {
    for (const key of keys) await this.page.keyboard.press(key);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Quick input: the command palette and Quick Open

  private get quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /** Opens the quick input with a shortcut, retrying while the workbench is still taking its keybindings. */
  private async openQuickInput(shortcut: string, prefix: string): Promise<void> {
    const input = this.quickInput.locator('.quick-input-box input');
    for (let attempt = 0; attempt < 20; attempt++) {
      await this.page.keyboard.press(shortcut);
      if (await input.isVisible().catch(() => false)) {
        // F1 opens with ">" typed; Quick Open with nothing. Whatever is there is replaced.
        await input.fill(prefix);
        return;
      }
      await this.page.waitForTimeout(250);
    }
    throw new Error(`${shortcut} did not open the quick input`);
  }

  /** The labels the quick input lists now. */
  async quickInputLabels(): Promise<string[]> {
    return this.quickInput.locator('.quick-input-list .monaco-list-row .label-name').allTextContents();
  }

  /** Runs a command from the command palette by its full title, e.g. "EmbedTune: Start Training". */
  async runCommand(title: string): Promise<void> {
    await this.openQuickInput('F1', `>${title}`);
    const row = this.quickInput.locator('.quick-input-list .monaco-list-row', {
      has: this.page.locator('.label-name', { hasText: exactly(title) }),
    });
    await row
      .first()
      .waitFor({ timeout: 15_000 })
      .catch(async () => {
        throw new Error(
          `the command palette does not list "${title}"; it lists: ${(await this.quickInputLabels()).join(' | ') || 'nothing'}`,
        );
      });
    await row.first().click();
    await this.quickInput.waitFor({ state: 'hidden', timeout: 5_000 });
  }

  /** The palette's entries for a filter, then closes it: to check what a user may run. */
  async commandPaletteEntries(filter: string): Promise<string[]> {
    await this.openQuickInput('F1', `>${filter}`);
    // The list settles after the filter is applied.
    await this.page.waitForTimeout(400);
    const labels = await this.quickInputLabels();
    await this.page.keyboard.press('Escape');
    return labels;
  }

  /** Opens a workspace file with Quick Open (Ctrl+P) and waits for its editor tab to be active. */
  async openFile(relativePath: string): Promise<void> {
    const name = relativePath.split('/').pop()!;
    await this.openQuickInput('Control+P', relativePath);
    const row = this.quickInput.locator('.quick-input-list .monaco-list-row', { hasText: name });
    await row.first().waitFor({ timeout: 20_000 });
    await row.first().click();
    await this.page.locator(`.tabs-container .tab.active[aria-label^="${name}"]`).waitFor({ timeout: 15_000 });
    await this.activeEditor.locator('.view-lines').waitFor();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The editor

  get activeEditor(): Locator {
    return this.page.locator('.editor-group-container.active .monaco-editor').first();
  }

  /** Focuses the active editor and puts the cursor at a 1-based line and column, with Go to Line (Ctrl+G). */
  async goTo(line: number, column = 1): Promise<void> {
    await this.openQuickInput('Control+G', `:${line}:${column}`);
    await this.page.keyboard.press('Enter');
    await this.quickInput.waitFor({ state: 'hidden', timeout: 5_000 });
  }

  /** The text of a rendered line of the active editor (1-based; the line must be in view, as Go to Line makes it). */
  async editorLine(line: number): Promise<string> {
    const top = await this.activeEditor.evaluate((editor, wanted) => {
      // Line numbers are rendered beside each view line at the same vertical offset.
      const numbers = [...editor.querySelectorAll('.margin-view-overlays .line-numbers')];
      const number = numbers.find((n) => n.textContent?.trim() === String(wanted));
      return number ? (number.parentElement as HTMLElement).style.top : null;
    }, line);
    if (top === null) throw new Error(`line ${line} is not rendered in the editor`);
    const text = await this.activeEditor
      .locator(`.view-lines .view-line[style*="top:${top}"], .view-lines .view-line[style*="top: ${top}"]`)
      .first()
      .textContent();
    // The editor renders spaces as non-breaking spaces.
    return (text ?? '').replace(/\u00a0/g, ' ');
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The status bar, notifications and the Problems panel

  /** A status bar item by its id (`publisher.extension.itemId` for an extension's item). */
  statusItem(id: string): Locator {
    return this.page.locator(`.part.statusbar [id="${id}"]`);
  }

  async statusText(id: string): Promise<string> {
    const item = this.statusItem(id);
    if (!(await item.isVisible().catch(() => false))) return '';
    return ((await item.textContent()) ?? '').trim();
  }

  /** Waits until the status item's text matches, and returns it; fails with the text it had. */
  async waitForStatus(id: string, pattern: RegExp, timeoutMs: number): Promise<string> {
    let text = '';
    let items: string[] = [];
    await poll(
      `the status bar item ${id} to match ${pattern}`,
      timeoutMs,
      async () => {
        text = await this.statusText(id);
        if (pattern.test(text)) return true;
        items = await this.page
          .locator('.part.statusbar .statusbar-item')
          .evaluateAll((all) => all.map((e) => `${e.id}: ${e.textContent?.trim()}`));
        return false;
      },
      () => (text ? `it shows "${text}"` : `it is not shown; the status bar has ${JSON.stringify(items)}`),
    );
    return text;
  }

  /** The notification toasts on screen, each as its message text. */
  async notifications(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-toast .notification-list-item-message').allTextContents();
  }

  async waitForNotification(pattern: RegExp, timeoutMs: number): Promise<string> {
    let found = '';
    let seen: string[] = [];
    await poll(
      `a notification matching ${pattern}`,
      timeoutMs,
      async () => {
        seen = await this.notifications();
        found = seen.find((text) => pattern.test(text)) ?? '';
        // Found once its toast has finished fading in, so that a screenshot shows it.
        return found !== '' && (await this.page.locator('.notification-toast.notification-fade-in-done', { hasText: found }).count()) > 0;
      },
      () => `notifications on screen: ${JSON.stringify(seen)}`,
    );
    return found;
  }

  /** The Problems panel's rows, as "message (source code) [Ln L, Col C]" texts. */
  async problems(): Promise<string[]> {
    const rows = this.page.locator('.markers-panel .monaco-list-row');
    const texts = await rows.evaluateAll((elements) =>
      elements
        .filter((row) => row.querySelector('.marker-message-details, .marker-line'))
        .map((row) => (row as HTMLElement).innerText.replace(/\s+/g, ' ').trim()),
    );
    return texts;
  }

  async showProblems(): Promise<void> {
    await this.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    await this.page.locator('.markers-panel').waitFor({ timeout: 10_000 });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Webviews

  /**
   * The frame of a webview whose document has this title (our panels set "EmbedTune Dashboard" and "EmbedTune
   * Checkpoints"). VS Code hosts each webview in an iframe with the content in an inner iframe.
   */
  async webview(documentTitle: string, timeoutMs = 20_000): Promise<Frame> {
    let frame: Frame | undefined;
    await poll(`a webview titled "${documentTitle}"`, timeoutMs, async () => {
      for (const candidate of this.page.frames()) {
        if (candidate === this.page.mainFrame() || candidate.isDetached()) continue;
        const title = await candidate.title().catch(() => '');
        if (title === documentTitle && (await isShownWebviewFrame(candidate))) {
          frame = candidate;
          return true;
        }
      }
      return false;
    });
    return frame!;
  }

  /**
   * How many pixels of a dashboard chart's canvas are drawn in the theme's `--vscode-charts-blue`, the colour of
   * each chart's first series: more than a few dozen means a line with points is on screen.
   */
  static async chartPixels(frame: Frame, chartTitle: string): Promise<number> {
    return frame.evaluate((title) => {
      const figure = [...document.querySelectorAll('figure.chart')].find((f) => f.getAttribute('data-chart') === title);
      const canvas = figure?.querySelector('canvas');
      if (!canvas) return -1;
      const probe = document.createElement('div');
      probe.style.color = 'var(--vscode-charts-blue)';
      document.body.append(probe);
      const [r, g, b] = getComputedStyle(probe).color.match(/\d+/g)!.map(Number) as [number, number, number];
      probe.remove();
      const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
      let count = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3]! >= 200 && Math.abs(data[i]! - r) + Math.abs(data[i + 1]! - g) + Math.abs(data[i + 2]! - b) <= 40) count++;
      }
      return count;
    }, chartTitle);
  }

  /** Records every distinct text a status bar item shows, polling in the background until `stop` is called. */
  recordStatus(id: string): StatusRecording {
    const texts: string[] = [];
    let running = true;
    const loop = (async () => {
      // Until stopped, or until the page closes (a failed scenario never calls stop).
      while (running && !this.page.isClosed()) {
        const text = await this.statusText(id).catch(() => '');
        if (text && texts.at(-1) !== text) texts.push(text);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    return {
      texts,
      stop: async () => {
        running = false;
        await loop;
        return texts;
      },
    };
  }

  /** Reloads the window as "Developer: Reload Window" does, and waits for the workbench again. */
  async reloadWindow(): Promise<void> {
    const loaded = this.page.waitForEvent('load', { timeout: 30_000 });
    await this.runCommand('Developer: Reload Window');
    await loaded;
    await this.waitForWorkbench();
  }
}

export interface StatusRecording {
  readonly texts: readonly string[];
  stop(): Promise<readonly string[]>;
}

/**
 * VS Code loads a webview's page into a hidden `pending-frame` and swaps it in as `active-frame` once it has loaded;
 * a page set again before that (as a restored panel's is) replaces the pending frame, so only the active one lasts.
 */
async function isShownWebviewFrame(frame: Frame): Promise<boolean> {
  const element = await frame.frameElement().catch(() => undefined);
  return (await element?.getAttribute('id').catch(() => null)) === 'active-frame';
}

/** Polls `check` every 250 ms until it holds, or fails after `timeoutMs` saying what was awaited and what was seen. */
export async function poll(what: string, timeoutMs: number, check: () => Promise<boolean>, seen?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${seen ? `; ${seen()}` : ''}`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 250));
  }
}

function exactly(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
}
