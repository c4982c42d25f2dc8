/**
 * `npm run docs:screenshots`: runs the e2e suite (`npm run test:e2e`), which takes the README's and docs' pictures
 * while its scenarios pass, then copies them to docs/images/ with a stamp of the sources they show
 * (docs/images/screenshots.json). test/unit/docsLinks.test.ts fails when those sources change after the stamp, so the
 * pictures never go stale silently. A failing suite leaves docs/images/ as it was.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import {
  DOCS_IMAGES,
  DOCS_SCREENSHOTS,
  picturedSourceDigests,
  STAMP,
  TAKEN_DIR,
  THEME,
  WINDOW,
  type ScreenshotStamp,
} from '../test/e2e/harness/docsScreenshots';

const ROOT = resolve(__dirname, '..');

function main(): number {
  // Pictures of an earlier run must not pass for this run's.
  rmSync(TAKEN_DIR, { recursive: true, force: true });
  const suite = spawnSync('npm', ['run', 'test:e2e'], { cwd: ROOT, stdio: 'inherit' });
  if (suite.status !== 0) {
    console.error(`docs:screenshots: the e2e suite failed (exit ${suite.status}); docs/images/ is unchanged`);
    return suite.status ?? 1;
  }
  const names = Object.keys(DOCS_SCREENSHOTS);
  const missing = names.filter((name) => !existsSync(join(TAKEN_DIR, `${name}.png`)));
  if (missing.length > 0) {
    console.error(`docs:screenshots: the suite passed but took no ${missing.join(', ')}; docs/images/ is unchanged`);
    return 1;
  }
  mkdirSync(DOCS_IMAGES, { recursive: true });
  for (const name of names) copyFileSync(join(TAKEN_DIR, `${name}.png`), join(DOCS_IMAGES, `${name}.png`));
  const stamp: ScreenshotStamp = {
    taken: new Date().toISOString(),
    commit: git(['rev-parse', 'HEAD']),
    window: `${WINDOW.width}x${WINDOW.height}`,
    theme: THEME,
    sources: picturedSourceDigests(),
  };
  writeFileSync(STAMP, `${JSON.stringify(stamp, null, 2)}\n`);
  console.log(`docs:screenshots: ${names.length} pictures and ${relative(ROOT, STAMP)} written to ${relative(ROOT, DOCS_IMAGES)}/`);
  return 0;
}

function git(args: string[]): string {
  const result = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : 'unknown';
}

process.exitCode = main();
