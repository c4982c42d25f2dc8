import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LabMapResult, LabNeighboursResult } from '../../src/shared/lab/labMapResult';
import { compareRankings } from '../../src/shared/lab/rankChanges';
import type { ToLab } from '../../src/shared/protocol/labMessages';
import { projectingProgress } from '../../src/extension/lab/labMapSession';
import { progressFraction } from '../../src/extension/lab/labProgressRelay';
import { createRandom } from '../../src/trainer/data/seededRandom';
import { browserMissing, WebviewBrowser, type WebviewPage } from './webviewHarness';

const skip = browserMissing();

const XSS = '<img src=x onerror="window.__pwned=1">';
const SCRIPT = '<script>window.__pwned=2</script>';
const SETUP: ToLab = { command: 'setup', first: '/work/base', second: '/work/runs/r1/model', corpus: '/work/corpus.jsonl', runId: 'r1' };

/** 10,000 points in 17 clusters per model, with a 17-valued label column (12 colours and "other") and clusters. */
function bigMap(n = 10_000): LabMapResult {
  const random = createRandom(5);
  const layout = (spread: number) => {
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < n; i++) {
      const angle = ((i % 17) / 17) * 2 * Math.PI;
      x.push(Number((Math.cos(angle) * spread + random()).toPrecision(6)));
      y.push(Number((Math.sin(angle) * spread + random()).toPrecision(6)));
    }
    return { x, y };
  };
  const topics = Array.from({ length: 13 }, (_, c) => `topic ${c}`);
  return {
    corpus: { file: '/work/corpus.jsonl', entries: n, sha256: 'ab' },
    method: 'pca',
    seed: 42,
    texts: Array.from({ length: n }, (_, i) => (i === 0 ? XSS : `entry ${i} about topic ${i % 17}`)),
    models: [
      { model: '/work/base', cache: 'hit', ...layout(3) },
      { model: '/work/runs/r1/model', cache: 'hit', ...layout(6) },
    ],
    colourings: [
      { name: 'label', categories: [...topics.slice(0, 12), 'other'], codes: Array.from({ length: n }, (_, i) => Math.min(i % 17, 12)) },
      { name: 'clusters of the first model', categories: ['cluster 1', 'cluster 2'], codes: Array.from({ length: n }, (_, i) => i % 2) },
    ],
  };
}

/** Three points: the XSS text at the bottom left, a plain one in the middle, the script text at the top right. */
function smallMap(): LabMapResult {
  return {
    corpus: { file: '/work/corpus.txt', entries: 3, sha256: 'cd' },
    method: 'umap',
    seed: 7,
    texts: [XSS, 'the river meets the sea', SCRIPT],
    models: [
      { model: '/work/base', cache: 'hit', x: [0, 5, 10], y: [0, 5, 10] },
      { model: '/work/runs/r1/model', cache: 'miss', x: [0, 5, 10], y: [0, 5, 10] },
    ],
    colourings: [{ name: `source ${XSS}`, categories: [SCRIPT, 'news'], codes: [0, 1, 0] }],
  };
}

/** Where smallMap's point sits in a pane, in page coordinates: the map fits the 10 × 10 square with a 10 px margin. */
async function smallMapPoint(page: WebviewPage, pane: 'first' | 'second', point: 0 | 1 | 2): Promise<{ x: number; y: number }> {
  const box = (await page.page.locator(`#map-${pane}`).boundingBox())!;
  const inner = { width: box.width - 2, height: box.height - 2 }; // less the 1 px border
  const scale = Math.min(inner.width - 20, inner.height - 20) / 10;
  const centre = { x: box.x + 1 + inner.width / 2, y: box.y + 1 + inner.height / 2 };
  return { x: centre.x + (point - 1) * 5 * scale, y: centre.y - (point - 1) * 5 * scale };
}

/** How many pixels of a canvas are drawn (not transparent). */
async function drawnPixels(page: WebviewPage, selector: string): Promise<number> {
  return page.page.evaluate((sel) => {
    const canvas = document.querySelector(sel) as HTMLCanvasElement;
    const { data } = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) count++;
    return count;
  }, selector);
}

describe('the Embedding Lab map in headless Chromium', { skip }, () => {
  let browser: WebviewBrowser;
  before(async () => {
    browser = await WebviewBrowser.launch();
  });
  after(async () => browser?.close());

  it('draws 10,000 points per model within 2 seconds of the message, on canvases, and hovers them', async () => {
    const page = await browser.open('lab');
    await page.send(SETUP);
    // The message is handed to the page first, so that the time measured is the webview's: the postMessage clone,
    // the guard, the layout and the drawing, up to the frame that shows it.
    await page.page.evaluate((m) => ((window as unknown as { __map: unknown }).__map = m), { command: 'map', result: bigMap() } as object);
    const elapsed = await page.page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const started = performance.now();
          window.postMessage((window as unknown as { __map: unknown }).__map, '*');
          // The message is handled in its own task; the second frame after it is the one painted with the map.
          setTimeout(() => requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - started))), 0);
        }),
    );
    console.log(`10,000-point map (two panes) drawn ${elapsed.toFixed(0)} ms after its message`);
    // The requirement is 2 s; measured well under it here (see docs/embedding-lab.md), so this bound has margin.
    assert.ok(elapsed < 2000, `the map took ${elapsed} ms`);
    assert.equal(await page.text('#map-status'), '10000 entries, PCA');
    for (const pane of ['first', 'second']) assert.ok((await drawnPixels(page, `#map-${pane} .map-base`)) > 5000, `${pane} pane drawn`);
    assert.ok((await page.page.locator('#map *').count()) < 200, 'points are not DOM elements');
    assert.deepEqual(await page.page.locator('#map-colour option').allTextContents(), ['label', 'clusters of the first model']);
    assert.equal(await page.page.locator('#map-legend .map-legend-item').count(), 13);
    // Colouring by the clusters redraws with two colours.
    await page.page.selectOption('#map-colour', 'clusters of the first model');
    assert.equal(await page.page.locator('#map-legend .map-legend-item').count(), 2);
    // Hovering anywhere on a cluster finds a point among the 10,000 and shows its text.
    const box = (await page.page.locator('#map-second').boundingBox())!;
    let shown = '';
    for (let dx = 0; dx < 240 && !shown; dx += 3) {
      await page.page.mouse.move(box.x + box.width / 2 + dx, box.y + box.height / 2 - 5);
      if (await page.page.locator('#map-tooltip').isVisible()) shown = await page.text('#map-tooltip .map-tooltip-text');
    }
    assert.match(shown, /^entry \d+ about topic \d+$/);
    // Interactive at 10,000: a wheel zoom redraws the pane (points, rings, hit-test grid) within a frame or two.
    const zoomMs = await page.page.evaluate(() => {
      const pane = document.querySelector('#map-first')!;
      const box = pane.getBoundingClientRect();
      const started = performance.now();
      pane.dispatchEvent(new WheelEvent('wheel', { deltaY: -200, clientX: box.x + 100, clientY: box.y + 100, cancelable: true }));
      return performance.now() - started;
    });
    console.log(`zooming the 10,000-point pane redrew it in ${zoomMs.toFixed(0)} ms`);
    assert.ok(zoomMs < 500, `a zoom took ${zoomMs} ms`);
    await page.screenshot('lab-map-10k');
    assert.deepEqual(await page.cspViolations(), []);
    assert.deepEqual(page.errors, []);
  });

  it('shows a hovered text as text in a tooltip and rings the point in both maps', async () => {
    const page = await browser.open('lab');
    await page.send(SETUP);
    await page.send({ command: 'map', result: smallMap() } satisfies ToLab);
    assert.equal(await page.text('#map-status'), '3 entries, UMAP (seed 7)');
    assert.equal(await drawnPixels(page, '#map-second .map-overlay'), 0);
    const middle = await smallMapPoint(page, 'first', 1);
    await page.page.mouse.move(middle.x, middle.y);
    await page.frame();
    assert.equal(await page.text('#map-tooltip .map-tooltip-text'), 'the river meets the sea');
    assert.ok((await drawnPixels(page, '#map-second .map-overlay')) > 0, 'the same point is ringed in the other map');
    const corner = await smallMapPoint(page, 'first', 0);
    await page.page.mouse.move(corner.x, corner.y);
    await page.frame();
    assert.equal(await page.text('#map-tooltip .map-tooltip-text'), XSS);
    assert.equal(await page.text('#map-tooltip .map-tooltip-category'), `source ${XSS}: ${SCRIPT}`);
    await page.page.mouse.move(middle.x + 60, middle.y + 20);
    await page.frame();
    assert.equal(await page.page.locator('#map-tooltip').isVisible(), false, 'away from every point, no tooltip');
    assert.equal(await page.page.locator('#app img, #app script').count(), 0);
    assert.equal(await page.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.deepEqual(await page.cspViolations(), []);
    assert.deepEqual(page.errors, []);
  });

  it('zooms around the pointer with the wheel, pans by dragging, and shows the whole map again on a double click', async () => {
    const page = await browser.open('lab');
    await page.send(SETUP);
    await page.send({ command: 'map', result: smallMap() } satisfies ToLab);
    const middle = await smallMapPoint(page, 'first', 1);
    const corner = await smallMapPoint(page, 'first', 0);
    const hoverText = async (x: number, y: number) => {
      await page.page.mouse.move(x, y);
      await page.frame();
      return (await page.page.locator('#map-tooltip').isVisible()) ? page.text('#map-tooltip .map-tooltip-text') : null;
    };
    await page.page.mouse.move(middle.x, middle.y);
    await page.page.mouse.wheel(0, -400);
    await page.frame();
    // The point under the pointer stays; the corner point has moved out of the pane.
    assert.equal(await hoverText(middle.x, middle.y), 'the river meets the sea');
    assert.equal(await hoverText(corner.x, corner.y), null);
    await page.page.mouse.move(middle.x, middle.y);
    await page.page.mouse.down();
    await page.page.mouse.move(middle.x + 30, middle.y, { steps: 5 });
    await page.page.mouse.up();
    assert.equal(await hoverText(middle.x + 30, middle.y), 'the river meets the sea');
    assert.equal((await page.posted()).filter((message) => message.command === 'neighbours').length, 0, 'a drag is not a click');
    await page.page.mouse.dblclick(middle.x + 100, middle.y + 100);
    assert.equal(await hoverText(corner.x, corner.y), XSS);
    assert.deepEqual(page.errors, []);
  });

  it('asks for a clicked point’s neighbours and lists them under both models, as text', async () => {
    const page = await browser.open('lab');
    await page.send(SETUP);
    await page.send({ command: 'map', result: smallMap() } satisfies ToLab);
    const corner = await smallMapPoint(page, 'second', 0);
    await page.page.mouse.click(corner.x, corner.y);
    await page.waitForPosted('neighbours');
    assert.deepEqual(
      (await page.posted()).filter((message) => message.command === 'neighbours'),
      [{ command: 'neighbours', index: 0, k: 10 }],
    );
    const first = [
      { index: 1, score: 0.8 },
      { index: 2, score: 0.3 },
    ];
    const second = [{ index: 2, score: 0.9 }];
    const texts = smallMap().texts;
    const neighbours: LabNeighboursResult = {
      index: 0,
      text: XSS,
      k: 2,
      first: first.map((hit) => ({ ...hit, text: texts[hit.index]! })),
      second: compareRankings(first, second).map((hit) => ({ ...hit, text: texts[hit.index]! })),
    };
    await page.send({ command: 'neighbours', result: neighbours } satisfies ToLab);
    assert.equal(await page.text('#map-neighbours .map-selected-text'), XSS);
    assert.deepEqual(await page.page.locator('#neighbours-first .text').allTextContents(), ['the river meets the sea', SCRIPT]);
    assert.deepEqual(await page.page.locator('#neighbours-second .text').allTextContents(), [SCRIPT, 'the river meets the sea']);
    assert.deepEqual(await page.page.locator('#neighbours-second .change').allTextContents(), ['↑1', 'dropped']);
    assert.ok((await drawnPixels(page, '#map-first .map-overlay')) > 0, 'the selected point and its neighbours are ringed');
    assert.equal(await page.page.locator('#app img, #app script').count(), 0);
    assert.equal(await page.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    assert.deepEqual(await page.cspViolations(), []);
    assert.deepEqual(page.errors, []);
  });

  it('posts the projection asked for, and ignores a map whose points are not numbers or whose colours do not fit', async () => {
    const page = await browser.open('lab');
    await page.send(SETUP);
    await page.page.click('#map-draw');
    await page.waitForPosted('map');
    await page.send({ command: 'map', result: smallMap() } satisfies ToLab);
    await page.page.selectOption('#map-method', 'pca');
    await page.waitForPosted('map', 2);
    assert.deepEqual(
      (await page.posted()).filter((message) => message.command === 'map'),
      [
        { command: 'map', method: 'pca' },
        { command: 'map', method: 'pca' },
      ],
    );
    const page2 = await browser.open('lab');
    const bad = smallMap() as unknown as { models: { x: unknown[] }[]; colourings: { codes: number[] }[] };
    bad.models[0]!.x[1] = '<b>5</b>';
    await page2.send({ command: 'map', result: bad });
    const outOfRange = smallMap() as unknown as { colourings: { codes: number[] }[] };
    outOfRange.colourings[0]!.codes[2] = 5;
    await page2.send({ command: 'map', result: outOfRange });
    assert.equal(await page2.text('#map-status'), '', 'neither malformed map was shown');
    assert.equal(await drawnPixels(page2, '#map-first .map-base'), 0);
  });

  it('shows the map’s UMAP in the page’s progress bar, in view beside the map, and its Cancel asks to stop it', async () => {
    const page = await browser.open('lab');
    // A short window, so that the map at the foot of the page is reached only by scrolling.
    await page.page.setViewportSize({ width: 1100, height: 420 });
    await page.send(SETUP);
    await page.send({ command: 'map', result: smallMap() } satisfies ToLab);
    await page.page.selectOption('#map-method', 'pca');
    await page.waitForPosted('map');
    await page.send({ command: 'mapBusy', busy: 'pca' } satisfies ToLab);
    // The progress as the extension relays it: the CLI's line worded by the map session, its fraction by the relay.
    const title = 'EmbedTune: drawing the Embedding Lab map';
    const line = projectingProgress(`projecting 101/500 with ${XSS}`)!;
    await page.send({ command: 'progress', title, message: line, fraction: progressFraction(line) } satisfies ToLab);
    assert.equal(await page.text('#map-status'), 'Computing the PCA map…');
    assert.equal(await page.page.isDisabled('#map-draw'), true);
    assert.equal(await page.text('#lab-progress .progress-title'), 'drawing the Embedding Lab map');
    assert.equal(await page.text('#lab-progress .progress-message'), `laying out the map for ${XSS}: epoch 101 of 500`);
    assert.equal(await page.page.locator('#lab-progress progress').evaluate((bar) => (bar as HTMLProgressElement).position), 0.202);
    // Scrolled down to the map, the bar and its Cancel are still on screen, on top of what is under them.
    await page.page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.frame();
    const inView = await page.page.evaluate(() => {
      const cancel = document.getElementById('lab-cancel')!.getBoundingClientRect();
      const map = document.getElementById('map')!.getBoundingClientRect();
      const top = document.elementFromPoint(cancel.x + cancel.width / 2, cancel.y + cancel.height / 2);
      return {
        scrolled: window.scrollY > 0,
        cancelShown: cancel.top >= 0 && cancel.bottom <= window.innerHeight,
        mapShown: map.top < window.innerHeight,
        cancelOnTop: top?.id === 'lab-cancel',
      };
    });
    assert.deepEqual(inView, { scrolled: true, cancelShown: true, mapShown: true, cancelOnTop: true });
    await page.screenshot('lab-map-progress');
    await page.page.click('#lab-cancel');
    await page.waitForPosted('cancel');
    // What the session sends when lab-map was killed: the bar taken down, the map idle, the error.
    await page.send({ command: 'progress', title, message: null, fraction: null } satisfies ToLab);
    await page.send({ command: 'mapBusy', busy: null } satisfies ToLab);
    await page.send({ command: 'error', message: 'The map was cancelled; nothing half-computed was stored.' } satisfies ToLab);
    assert.equal(await page.page.isVisible('#lab-progress'), false);
    assert.equal(await page.page.isDisabled('#map-draw'), false);
    assert.equal(await page.text('#map-status'), '3 entries, UMAP (seed 7)', 'the map shown before stays, and says so');
    assert.equal(await page.page.inputValue('#map-method'), 'umap');
    assert.match(await page.text('#status'), /The map was cancelled/);
    assert.equal(await page.page.locator('#app img, #app script').count(), 0);
    assert.deepEqual(await page.cspViolations(), []);
    assert.deepEqual(page.errors, []);
  });

  it('keeps the projection and the colouring picked across a reload, and refuses a tampered choice', async () => {
    const page = await browser.open('lab');
    await page.send(SETUP);
    await page.send({ command: 'map', result: bigMap(50) } satisfies ToLab);
    await page.page.selectOption('#map-colour', 'clusters of the first model');
    await page.page.selectOption('#map-method', 'umap');
    await page.waitForPosted('map');
    await page.page.reload();
    await page.waitForPosted('ready');
    assert.equal(await page.page.inputValue('#map-method'), 'umap', 'the projection asked for last');
    assert.deepEqual(
      (await page.posted()).map((message) => message.command),
      ['ready'],
      'nothing is recomputed on a reload',
    );
    await page.send(SETUP);
    await page.send({ command: 'map', result: { ...bigMap(50), method: 'umap' } } satisfies ToLab);
    assert.equal(await page.page.inputValue('#map-colour'), 'clusters of the first model', 'the colouring picked last');
    assert.equal(await page.page.locator('#map-legend .map-legend-item').count(), 2);
    // A state that is not a choice the page could have kept is ignored.
    await page.page.evaluate(() =>
      sessionStorage.setItem('vscodeState', JSON.stringify({ query: '', k: 10, map: { method: '<b>tsne</b>', colour: 'label' } })),
    );
    await page.page.reload();
    await page.waitForPosted('ready');
    assert.equal(await page.page.inputValue('#map-method'), 'pca');
    assert.deepEqual(page.errors, []);
  });
});
