import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EvalEvent, MisclassifiedImage, RunEvent } from '../../src/shared/events/runEvents';
import type { ToDashboard } from '../../src/shared/protocol/dashboardMessages';
import type { RunListEntry } from '../../src/shared/protocol/runListEntry';
import { browserMissing, recordedRun, WebviewBrowser, type WebviewPage } from './webviewHarness';

const skip = browserMissing();
const recorded = recordedRun();
const LABELS = ['crack', 'dent', 'ok', 'scratch'];
const run: RunListEntry = {
  key: '/work/runs/defects',
  runId: 'defects',
  configPath: '/work/defects.embedtune.yaml',
  startedAt: recorded.events[0]!.time,
  lifecycle: 'completed',
  live: false,
};

/** Deterministic pseudo-random bytes, so that each thumbnail's pixels are known and distinct. */
function bytes(count: number, seed: number): Buffer {
  const out = Buffer.alloc(count);
  let state = seed;
  for (let i = 0; i < count; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    out[i] = state >>> 24;
  }
  return out;
}

function mistake(file: string, seed: number, overrides: Partial<MisclassifiedImage> = {}): MisclassifiedImage {
  return {
    file,
    label: 'crack',
    predicted: 'ok',
    confidence: 0.873,
    thumbnail: { width: 48, height: 48, rgb: bytes(48 * 48 * 3, seed).toString('base64') },
    ...overrides,
  };
}

/** The matrix of an evaluation at `step`: rows gold, columns predicted; the diagonal grows with the step. */
function matrixAt(step: number): number[][] {
  return [
    [10 + step, 2, 3, 0],
    [1, 4, 0, 0],
    [5, 0, 40, 1],
    [0, 0, 2, 1],
  ];
}

/** The recorded run with its evals turned into an image run's: map, accuracy, f1 and the details. */
function imageRun(misclassified: (step: number) => MisclassifiedImage[] = (step) => [mistake(`validation/crack/${step}.png`, step)]) {
  return recorded.events.map((event): RunEvent => {
    if (event.type !== 'eval') return event;
    const map = 0.5 + event.step / 100;
    return {
      ...event,
      metrics: { map, accuracy: 0.8, f1: 0.7 },
      primary: { name: 'map', value: map },
      is_best: event.step === 12,
      confusion_matrix: { labels: LABELS, matrix: matrixAt(event.step) },
      per_class: Object.fromEntries(
        LABELS.map((label, i) => [
          label,
          { precision: 0.5 + i / 10, recall: 0.25, f1: 0.125, support: 5 + i, average_precision: 0.9 - i / 10 },
        ]),
      ),
      misclassified: misclassified(event.step),
    } satisfies EvalEvent;
  });
}

async function show(page: WebviewPage, events: RunEvent[], entry = run): Promise<void> {
  await page.send({ command: 'runs', runs: [entry] } satisfies ToDashboard);
  await page.send({ command: 'show', run: entry, events, config: null, engineLog: [] } satisfies ToDashboard);
}

/** The RGBA bytes of the n-th thumbnail canvas, read back from the page. */
async function canvasPixels(page: WebviewPage, index: number): Promise<{ width: number; height: number; rgba: number[] }> {
  return page.page.evaluate((i) => {
    const canvas = document.querySelectorAll<HTMLCanvasElement>('#misclassified canvas.thumb')[i]!;
    const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
    return { width: canvas.width, height: canvas.height, rgba: [...data] };
  }, index);
}

function rgba(rgb: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < rgb.length; i += 3) out.push(rgb[i]!, rgb[i + 1]!, rgb[i + 2]!, 255);
  return out;
}

describe('the dashboard’s evaluation details in headless Chromium', { skip }, () => {
  let browser: WebviewBrowser;
  before(async () => {
    browser = await WebviewBrowser.launch();
  });
  after(async () => browser?.close());

  it('shows the latest confusion matrix (rows gold, columns predicted, shaded), per-class scores with AP, and charts mAP', async () => {
    const page = await browser.open('dashboard');
    const events = imageRun();
    await show(page, events);
    const last = events.filter((e): e is EvalEvent => e.type === 'eval').at(-1)!;
    assert.match(await page.text('#evaluation-heading'), new RegExp(`^Step ${last.step} · map 0\\.74 · accuracy 0\\.8 · f1 0\\.7$`));
    const header = await page.page.locator('#confusion-matrix thead th').allTextContents();
    assert.deepEqual(header, ['gold \\ predicted', ...LABELS]);
    const rows = await page.page
      .locator('#confusion-matrix tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
    assert.deepEqual(
      rows,
      matrixAt(last.step).map((counts, i) => [LABELS[i], ...counts.map(String)]),
    );
    // Shading: the largest count is the most opaque, an empty cell is not shaded at all.
    const alphas = await page.page
      .locator('#confusion-matrix td')
      .evaluateAll((cells) => cells.map((cell) => getComputedStyle(cell).backgroundColor));
    const alpha = (color: string) => Number(/rgba\([^)]*,\s*([\d.]+)\)/.exec(color)?.[1] ?? (color.startsWith('rgb(') ? 1 : 0));
    const largest = alphas.map(alpha);
    assert.equal(largest[10], Math.max(...largest), `the 40 of ok→ok is the darkest: ${alphas.join(' ')}`);
    assert.equal(largest[3], 0, 'crack→scratch (0) is not shaded');
    assert.ok(largest[0]! > largest[1]!, 'a larger count is darker');
    const perClass = await page.page
      .locator('#per-class tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.children].map((cell) => cell.textContent)));
    assert.deepEqual(perClass, [
      ['Class', 'Precision', 'Recall', 'F1', 'AP', 'Support'],
      ['crack', '0.5', '0.25', '0.125', '0.9', '5'],
      ['dent', '0.6', '0.25', '0.125', '0.8', '6'],
      ['ok', '0.7', '0.25', '0.125', '0.7', '7'],
      ['scratch', '0.8', '0.25', '0.125', '0.6', '8'],
    ]);
    const charts = await page.page.locator('figure.chart').evaluateAll((f) => f.map((x) => x.getAttribute('data-chart')));
    assert.ok(charts.includes('Validation map'), `mAP is charted: ${charts.join(', ')}`);
    await page.screenshot('dashboard-evaluation');
    assert.deepEqual(page.errors, []);
  });

  it('switches to the best evaluation, keeps the choice across a reload, and follows a new eval appended live', async () => {
    const page = await browser.open('dashboard');
    const events = imageRun();
    await show(page, events);
    await page.page.locator('#evaluation-choice').selectOption('best');
    await page.frame();
    assert.match(await page.text('#evaluation-heading'), /^Step 12 \(best\) · map 0\.62 · /);
    assert.equal(await page.text('#confusion-matrix tbody tr td'), String(matrixAt(12)[0]![0]));
    await page.page.reload();
    await page.waitForPosted('ready');
    await show(page, events);
    assert.equal(await page.page.locator('#evaluation-choice').inputValue(), 'best');
    await page.page.locator('#evaluation-choice').selectOption('latest');
    await page.frame();
    const next = { ...(events.filter((e) => e.type === 'eval').at(-1) as EvalEvent), seq: 999, step: 30, is_best: false };
    next.confusion_matrix = { labels: LABELS, matrix: matrixAt(30) };
    await page.send({ command: 'append', key: run.key, events: [next] } satisfies ToDashboard);
    assert.match(await page.text('#evaluation-heading'), /^Step 30 · /);
    assert.equal(await page.text('#confusion-matrix tbody tr td'), '40');
    assert.deepEqual(page.errors, []);
  });

  it('draws each misclassified thumbnail on a canvas holding exactly the bytes sent, with its file, labels and confidence', async () => {
    const page = await browser.open('dashboard');
    const sent = [
      mistake('validation/crack/a.png', 1),
      mistake('validation/dent/b.png', 2, { label: 'dent', predicted: 'scratch', confidence: 0.5 }),
    ];
    const odd = bytes(3 * 2 * 3, 7);
    sent.push(
      mistake('validation/ok/c.png', 3, {
        label: 'ok',
        predicted: 'crack',
        thumbnail: { width: 3, height: 2, rgb: odd.toString('base64') },
      }),
    );
    await show(
      page,
      imageRun(() => sent),
    );
    assert.equal(await page.page.locator('#misclassified canvas.thumb').count(), 3);
    for (const [i, item] of sent.entries()) {
      const pixels = await canvasPixels(page, i);
      assert.deepEqual([pixels.width, pixels.height], [item.thumbnail.width, item.thumbnail.height]);
      assert.deepEqual(pixels.rgba, rgba(Buffer.from(item.thumbnail.rgb, 'base64')), `thumbnail ${i} holds the bytes sent`);
    }
    const captions = await page.page.locator('#misclassified figcaption').allInnerTexts();
    assert.deepEqual(captions[1]!.split('\n'), ['validation/dent/b.png', 'gold: dent', 'predicted: scratch · 50.0%']);
    assert.match(await page.text('#misclassified h3'), /Misclassified validation images \(3\)/);
    assert.equal(await page.page.locator('img').count(), 0, 'no <img>, no data: URL');
    assert.deepEqual(await page.cspViolations(), []);
    assert.deepEqual(page.errors, []);
  });

  it('skips a bad thumbnail (wrong byte count, absurd size, broken base64, missing fields) and draws the rest', async () => {
    const page = await browser.open('dashboard');
    const good = mistake('validation/crack/good.png', 5);
    const sent = [
      mistake('short.png', 6, { thumbnail: { width: 48, height: 48, rgb: bytes(48 * 48 * 3 - 3, 6).toString('base64') } }),
      good,
      mistake('huge.png', 7, { thumbnail: { width: 100_000, height: 100_000, rgb: '' } }),
      mistake('fraction.png', 8, { thumbnail: { width: 1.5, height: 2, rgb: 'AAAA' } }),
      mistake('broken.png', 9, { thumbnail: { width: 1, height: 1, rgb: '!!!!' } }),
      { file: 'nolabel.png', confidence: 0.4, thumbnail: good.thumbnail } as unknown as MisclassifiedImage,
    ];
    await show(
      page,
      imageRun(() => sent),
    );
    assert.equal(await page.page.locator('#misclassified canvas.thumb').count(), 1, 'only the good thumbnail is drawn');
    assert.deepEqual((await canvasPixels(page, 0)).rgba, rgba(Buffer.from(good.thumbnail.rgb, 'base64')));
    const note = await page.text('#misclassified-skipped');
    for (const name of ['short.png', 'huge.png', 'fraction.png', 'broken.png', 'nolabel.png'])
      assert.ok(note.includes(name), `${name} is named: ${note}`);
    assert.match(note, /short\.png: thumbnail rgb holds 6909 bytes, not 48×48×3 = 6912/);
    assert.ok(await page.page.locator('#confusion-matrix').isVisible(), 'the rest of the page still renders');
    assert.deepEqual(page.errors, []);
  });

  it('shows a text classification run’s matrix and scores without an AP column, and hides the section for retrieval runs', async () => {
    const page = await browser.open('dashboard');
    await show(page, recorded.events);
    assert.equal(await page.page.locator('#evaluation').isHidden(), true, 'a retrieval run has no evaluation details');
    const text = imageRun().map((event) => {
      if (event.type !== 'eval') return event;
      const { misclassified: _m, ...rest } = event;
      return {
        ...rest,
        per_class: Object.fromEntries(LABELS.map((label) => [label, { precision: 1, recall: 1, f1: 1, support: 3 }])),
      } satisfies EvalEvent;
    });
    await show(page, text);
    assert.equal(await page.page.locator('#evaluation').isHidden(), false);
    assert.deepEqual(await page.page.locator('#per-class thead th').allTextContents(), ['Class', 'Precision', 'Recall', 'F1', 'Support']);
    assert.equal(await page.page.locator('#misclassified').count(), 0);
    assert.deepEqual(page.errors, []);
  });

  it('says so for a malformed matrix or one of more than 100 classes, instead of drawing it, and still shows the scores', async () => {
    const page = await browser.open('dashboard');
    const withMatrix = (matrix: unknown) =>
      imageRun().map((event) => (event.type === 'eval' ? ({ ...event, confusion_matrix: matrix } as EvalEvent) : event));
    await show(page, withMatrix({ labels: LABELS, matrix: [[1, 2]] }));
    assert.equal(await page.text('#confusion-matrix'), 'This evaluation’s confusion matrix is malformed.');
    assert.equal(await page.page.locator('#per-class tbody tr').count(), 4);
    const many = Array.from({ length: 101 }, (_, i) => `class${i}`);
    await show(page, withMatrix({ labels: many, matrix: many.map(() => many.map(() => 0)) }));
    assert.match(await page.text('#confusion-matrix'), /^The confusion matrix has 101 classes, too many to draw \(at most 100\)/);
    assert.equal(await page.page.locator('#misclassified canvas.thumb').count(), 1);
    assert.deepEqual(page.errors, []);
  });
});

describe('the dashboard’s evaluation details against hostile data', { skip }, () => {
  let browser: WebviewBrowser;
  before(async () => {
    browser = await WebviewBrowser.launch();
  });
  after(async () => browser?.close());

  it('shows <script> and onerror= payloads in file names and labels as text, and runs none of them', async () => {
    const page = await browser.open('dashboard');
    const img = '<img src=x onerror="window.__xss=(window.__xss||0)+1">';
    const script = '<script>window.__xss=(window.__xss||0)+1</script>';
    const labels = [`crack${img}`, `dent${script}`, 'ok', 'scratch'];
    const events = imageRun(() => [mistake(`validation/${img}.png`, 1, { label: labels[0]!, predicted: labels[1]! })]).map((event) => {
      if (event.type !== 'eval') return event;
      return {
        ...event,
        confusion_matrix: { labels, matrix: matrixAt(event.step) },
        per_class: { [labels[0]!]: { precision: 1, recall: 1, f1: 1, support: 1, average_precision: 1 } },
      };
    });
    await show(page, events);
    await page.frame();
    assert.equal(await page.page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined, 'no payload ran');
    assert.equal(await page.page.locator('img').count(), 0, 'no <img> element was created from data');
    assert.equal(await page.page.locator('script').count(), 1, 'the only script is the bundle');
    assert.deepEqual((await page.page.locator('#confusion-matrix thead th').allTextContents()).slice(1), labels);
    assert.equal(await page.text('#per-class tbody th'), labels[0]);
    const caption = (await page.page.locator('#misclassified figcaption').innerText()).split('\n');
    assert.deepEqual(caption, [`validation/${img}.png`, `gold: ${labels[0]}`, `predicted: ${labels[1]} · 87.3%`]);
    assert.equal(
      await page.page.locator('#misclassified canvas').getAttribute('aria-label'),
      `validation/${img}.png: gold ${labels[0]}, predicted ${labels[1]} (87.3%)`,
    );
    await page.screenshot('dashboard-evaluation-xss');
    assert.deepEqual(page.errors, []);
  });
});
