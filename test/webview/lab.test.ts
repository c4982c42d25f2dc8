import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LabSearchResult } from '../../src/shared/lab/labSearchResult';
import { compareRankings } from '../../src/shared/lab/rankChanges';
import type { ToLab } from '../../src/shared/protocol/labMessages';
import { browserMissing, WebviewBrowser } from './webviewHarness';

const skip = browserMissing();

const XSS = '<img src=x onerror="window.__pwned=1">';
const TEXTS = ['the river meets the sea', XSS, 'a bird sings', '<script>window.__pwned=2</script>', 'the ocean is deep'];

/** A result as lab-search prints it: the second model lifts entry 3 to the top (↑3), moves 0 and 1 down one, finds 4 (new) and drops 2. */
function searchResult(): LabSearchResult {
  const first = [
    { index: 0, score: 0.91 },
    { index: 1, score: 0.8 },
    { index: 2, score: 0.7 },
    { index: 3, score: 0.6 },
  ];
  const second = [
    { index: 3, score: 0.95 },
    { index: 0, score: 0.9 },
    { index: 1, score: 0.5 },
    { index: 4, score: 0.4 },
  ];
  return {
    query: 'where is the sea',
    k: 4,
    corpus: { file: '/work/corpus.txt', entries: TEXTS.length, sha256: 'ab' },
    models: [
      { model: '/work/base', description: 'base', cache: 'hit', cacheFile: '/c/1.f32' },
      { model: '/work/runs/r1/model', description: 'tuned', cache: 'hit', cacheFile: '/c/2.f32' },
    ],
    first: first.map((hit) => ({ ...hit, text: TEXTS[hit.index]! })),
    second: compareRankings(first, second).map((hit) => ({ ...hit, text: TEXTS[hit.index]! })),
  };
}

describe('the Embedding Lab webview in headless Chromium', { skip }, () => {
  let browser: WebviewBrowser;
  before(async () => {
    browser = await WebviewBrowser.launch();
  });
  after(async () => browser?.close());

  it('shows both models’ results side by side with the rank changes, and corpus markup as text', async () => {
    const page = await browser.open('lab');
    await page.send({
      command: 'setup',
      first: '/work/base',
      second: '/work/runs/r1/model',
      corpus: '/work/corpus.txt',
      runId: 'r1',
    } satisfies ToLab);
    await page.send({ command: 'results', result: searchResult() } satisfies ToLab);
    assert.deepEqual(await page.page.locator('#column-first .hit .text').allTextContents(), [TEXTS[0], XSS, TEXTS[2], TEXTS[3]]);
    assert.deepEqual(await page.page.locator('#column-second .hit .change').allTextContents(), ['↑3', '↓1', '↓1', 'new', 'dropped']);
    assert.deepEqual(await page.page.locator('#column-second .hit .rank').allTextContents(), ['1', '2', '3', '4', '–']);
    assert.equal(await page.text('#column-second .hit.dropped .text'), 'a bird sings');
    assert.equal(await page.text('#column-second .hit:nth-child(3) .score'), '0.5000');
    // The markup in the corpus is shown as typed and never becomes an element or runs.
    assert.equal(await page.page.locator('#app img, #app script').count(), 0);
    assert.equal(await page.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.deepEqual(await page.cspViolations(), []);
    await page.screenshot('lab-results');
    assert.deepEqual(page.errors, []);
  });

  it('posts a search with the typed query and k, and keeps the query across a reload', async () => {
    const page = await browser.open('lab');
    await page.send({ command: 'setup', first: 'a', second: 'b', corpus: 'c.txt', runId: null } satisfies ToLab);
    await page.page.fill('#query', 'a song in the morning');
    await page.page.fill('#top-k', '7');
    await page.page.click('#search');
    await page.waitForPosted('search');
    const posted = (await page.posted()).filter((message) => message.command === 'search');
    assert.deepEqual(posted, [{ command: 'search', query: 'a song in the morning', k: 7 }]);
    await page.page.reload();
    await page.waitForPosted('ready');
    assert.equal(await page.page.inputValue('#query'), 'a song in the morning');
    assert.deepEqual(page.errors, []);
  });

  it('ignores a result whose scores are not numbers, and shows an error as text', async () => {
    const page = await browser.open('lab');
    const bad = searchResult() as unknown as { first: { score: unknown }[] };
    bad.first[0]!.score = '<b>1</b>';
    page.page.on('console', () => undefined);
    await page.send({ command: 'results', result: bad });
    assert.equal(await page.page.locator('.hit').count(), 0, 'the malformed result was not rendered');
    await page.send({ command: 'error', message: `${XSS} failed` } satisfies ToLab);
    assert.equal(await page.text('#status'), `${XSS} failed`);
    assert.equal(await page.page.locator('#app img').count(), 0);
  });
});
