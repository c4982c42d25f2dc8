import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { DOCS_SCREENSHOTS, STAMP, staleSources, type ScreenshotStamp } from '../e2e/harness/docsScreenshots';
import { brokenLinks, headingAnchors, markdownLinks } from './support/markdownLinks';

const ROOT = resolve(__dirname, '../..');

/** README.md and every Markdown file under docs/. */
function documentation(): string[] {
  const docs = join(ROOT, 'docs');
  const under = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? under(join(dir, entry.name)) : entry.name.endsWith('.md') ? [join(dir, entry.name)] : [],
    );
  return [join(ROOT, 'README.md'), ...under(docs)];
}

test('every image and relative link in the README and docs/ resolves, headings included', () => {
  const files = documentation();
  const links = files.flatMap((file) => markdownLinks(file, readFileSync(file, 'utf8')));
  assert.ok(links.length > 20, `the checker found the links (${links.length})`);
  assert.deepEqual(brokenLinks(files, ROOT), []);
});

test('the link check fails on a missing file, a missing image and a missing heading, and passes good ones', () => {
  const dir = mkdtempSync(join(tmpdir(), 'embedtune-links-'));
  try {
    mkdirSync(join(dir, 'docs', 'images'), { recursive: true });
    writeFileSync(join(dir, 'docs', 'images', 'shot.png'), '');
    writeFileSync(join(dir, 'docs', 'guide.md'), '# Guide\n\n## Scaling out with `engine.type: accelerate`\n\n## Setup\n\n## Setup\n');
    const readme = join(dir, 'README.md');
    writeFileSync(
      readme,
      [
        '![ok](docs/images/shot.png) [ok](docs/guide.md#scaling-out-with-enginetype-accelerate) [ok](docs/guide.md#setup-1)',
        '[ok](#top) [external](https://example.com/missing) `[in code](nowhere.md)`',
        '```',
        '[in a fence](nowhere.md)',
        '```',
        '# Top',
        '![missing image](docs/images/gone.png)',
        '[missing doc](docs/gone.md) [missing heading](docs/guide.md#nowhere) [own heading](#nowhere)',
      ].join('\n'),
    );
    assert.deepEqual(brokenLinks([readme], dir), [
      'README.md:7: docs/images/gone.png (docs/images/gone.png does not exist)',
      'README.md:8: docs/gone.md (docs/gone.md does not exist)',
      'README.md:8: docs/guide.md#nowhere (docs/guide.md has no heading #nowhere)',
      'README.md:8: #nowhere (this file has no heading #nowhere)',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("heading anchors follow GitHub's slugs", () => {
  assert.deepEqual(
    [...headingAnchors('# EmbedTune\n## Scaling out with `engine: accelerate`\n## What runs where\n## Known limits\n## Known limits\n')],
    ['embedtune', 'scaling-out-with-engine-accelerate', 'what-runs-where', 'known-limits', 'known-limits-1'],
  );
});

test('the README and docs show every e2e screenshot, and each is in docs/images/', () => {
  const text = documentation()
    .map((file) => readFileSync(file, 'utf8'))
    .join('\n');
  for (const name of Object.keys(DOCS_SCREENSHOTS)) {
    assert.ok(existsSync(join(ROOT, 'docs', 'images', `${name}.png`)), `docs/images/${name}.png exists: run npm run docs:screenshots`);
    assert.ok(text.includes(`images/${name}.png`), `the README or a doc shows images/${name}.png`);
  }
  assert.ok(
    readFileSync(join(ROOT, 'README.md'), 'utf8').slice(0, 1500).includes('src="docs/images/editor-and-dashboard.png"'),
    'the README opens with the picture of a finished run',
  );
});

test('the screenshots in docs/images/ show the current webviews, status bar and e2e workspace', () => {
  assert.ok(existsSync(STAMP), 'docs/images/screenshots.json exists: run npm run docs:screenshots');
  const stamp = JSON.parse(readFileSync(STAMP, 'utf8')) as ScreenshotStamp;
  assert.equal(stamp.window, '1400x900');
  const stale = staleSources(stamp);
  assert.deepEqual(
    stale,
    [],
    `these files changed after the screenshots in docs/images/ were taken (${stamp.taken}): ${stale.join(', ')}. ` +
      'Run npm run docs:screenshots and commit docs/images/.',
  );
});

test('a changed pictured source makes the screenshots stale', () => {
  const stamp: ScreenshotStamp = { taken: '', commit: '', window: '', theme: '', sources: { 'media/a.ts': '1', 'media/b.ts': '2' } };
  assert.deepEqual(staleSources(stamp, { 'media/a.ts': '1', 'media/b.ts': '2' }), []);
  assert.deepEqual(staleSources(stamp, { 'media/a.ts': '1', 'media/b.ts': '3', 'media/c.ts': '4' }), ['media/b.ts', 'media/c.ts']);
});
