import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import type { Page } from 'playwright-core';
import { ROOT } from './codeServer';

/** Screenshots of every scenario, kept after the run (the folder is gitignored). */
export const ARTIFACTS = join(ROOT, '.test-artifacts', 'e2e');

/** Where a scenario's screenshots go, and which one was taken last, for the failure report. */
export class Artifacts {
  last: string | null = null;
  private count = 0;

  constructor(readonly scenario: string) {
    // Screenshots of an earlier run of this scenario would pass for this run's.
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const name of readdirSync(ARTIFACTS)) if (name.startsWith(`${scenario}-`)) rmSync(join(ARTIFACTS, name), { force: true });
  }

  async screenshot(page: Page, name: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, `${this.scenario}-${String(++this.count).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path });
    this.last = path;
    return path;
  }
}

export interface ScenarioContext {
  readonly artifacts: Artifacts;
}

export interface ScenarioHooks {
  /** The page to photograph when the scenario fails, if one is open. */
  readonly page: () => Page | undefined;
  /** The extension host's log, printed when the scenario fails. */
  readonly extensionHostLog: () => string;
}

/** Seconds each scenario took, printed at the end of the suite. */
export const timings: { name: string; seconds: number; ok: boolean }[] = [];

/**
 * A scenario with a time bound that the harness enforces: past `boundMs` it fails, whatever it was waiting for.
 * On any failure it takes a last screenshot, then prints that screenshot's path and the extension host's log.
 */
export function scenario(
  id: string,
  title: string,
  boundMs: number,
  hooks: ScenarioHooks,
  body: (context: ScenarioContext) => Promise<void>,
): void {
  // node:test's own timeout is only the backstop: the bound below fires first and reports.
  it(title, { timeout: boundMs + 30_000 }, async () => {
    const artifacts = new Artifacts(id);
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`scenario "${title}" exceeded its bound of ${boundMs / 1000}s`)), boundMs);
    });
    try {
      await Promise.race([body({ artifacts }), bound]);
      timings.push({ name: `${id} ${title}`, seconds: (Date.now() - started) / 1000, ok: true });
    } catch (error) {
      timings.push({ name: `${id} ${title}`, seconds: (Date.now() - started) / 1000, ok: false });
      const page = hooks.page();
      if (page) await artifacts.screenshot(page, 'failure').catch(() => undefined);
      const report = [
        `\n=== e2e scenario failed: ${title}`,
        `=== last screenshot: ${artifacts.last ?? '(none was taken)'}`,
        '=== extension host log:',
        hooks.extensionHostLog(),
        '=== end of report\n',
      ].join('\n');
      process.stderr.write(report);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  });
}

export function printTimings(file: string): void {
  if (timings.length === 0) return;
  const lines = timings.map((t) => `  ${t.ok ? 'ok  ' : 'FAIL'} ${t.seconds.toFixed(1).padStart(6)}s  ${t.name}`);
  process.stdout.write(`\ne2e timings (${file}):\n${lines.join('\n')}\n`);
}
