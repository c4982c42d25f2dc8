import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Page } from 'playwright-core';

/**
 * The pictures in the README and docs/ are screenshots that the e2e suite takes while its scenarios pass, in the
 * browser window it always uses. Every e2e run writes them to .test-artifacts/e2e/docs/; `npm run docs:screenshots`
 * runs the suite and, when it passes, copies them to docs/images/ with a stamp of the sources that draw them, so a
 * unit test can say when a picture no longer shows what the code draws. This module imports nothing of the harness,
 * so that the unit test can read it without starting anything.
 */

const ROOT = resolve(__dirname, '../../..');

/** Each picture: its file name (without .png) and what it shows, which is also its alt text. */
export const DOCS_SCREENSHOTS = {
  'editor-and-dashboard': 'A config in the editor, the status bar and the dashboard of a finished run',
  'checkpoints-panel': 'The checkpoints panel of a finished run beside its config',
  'quick-fix': 'A misspelt key underlined, listed in Problems, with its did-you-mean quick fix',
  completion: "Completion inside training:, with the schema's documentation of the key",
  'embedding-lab': 'The Embedding Lab: a validation query searched under the base and the fine-tuned model, with rank changes',
  'image-evaluation': "An image run's dashboard: the confusion matrix and per-class scores of its evaluation",
} as const;
export type DocsScreenshot = keyof typeof DOCS_SCREENSHOTS;

/** The window every e2e scenario runs in, and so every picture's size. */
export const WINDOW = { width: 1400, height: 900 } as const;
/** The theme the e2e user settings select: VS Code's default dark theme. */
export const THEME = 'Default Dark Modern';

export const TAKEN_DIR = join(ROOT, '.test-artifacts', 'e2e', 'docs');
export const DOCS_IMAGES = join(ROOT, 'docs', 'images');
export const STAMP = join(DOCS_IMAGES, 'screenshots.json');

/** Folders and files whose code or content is what the pictures show; a change to one makes them stale. */
const PICTURED_SOURCES = [
  'media/dashboard',
  'media/checkpoints',
  'media/common',
  'media/lab',
  'src/extension/statusBar/statusBarText.ts',
  'test/e2e/harness/workspaces.ts',
  'test/e2e/harness/imageWorkspaces.ts',
];

/** Takes a picture for the docs (only while its scenario passes: a failing one stops before it). */
export async function takeDocsScreenshot(page: Page, name: DocsScreenshot): Promise<string> {
  mkdirSync(TAKEN_DIR, { recursive: true });
  const path = join(TAKEN_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** sha256 of each pictured source file, by path from the repository root. */
export function picturedSourceDigests(): Record<string, string> {
  const files = PICTURED_SOURCES.flatMap((path) => filesUnder(join(ROOT, path))).sort();
  return Object.fromEntries(
    files.map((file) => [relative(ROOT, file).split('\\').join('/'), createHash('sha256').update(readFileSync(file)).digest('hex')]),
  );
}

function filesUnder(path: string): string[] {
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    return [path];
  }
  return entries.flatMap((entry) => filesUnder(join(path, entry.name)));
}

export interface ScreenshotStamp {
  readonly taken: string;
  readonly commit: string;
  readonly window: string;
  readonly theme: string;
  readonly sources: Record<string, string>;
}

/** The pictured files that changed (or appeared, or went) since the stamp was written. */
export function staleSources(stamp: ScreenshotStamp, now = picturedSourceDigests()): string[] {
  const paths = new Set([...Object.keys(stamp.sources), ...Object.keys(now)]);
  return [...paths].filter((path) => stamp.sources[path] !== now[path]).sort();
}
