import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ToDashboard } from '../../src/shared/protocol/dashboardMessages';
import type { RunListEntry } from '../../src/shared/protocol/runListEntry';
import { browserMissing, recordedRun, WebviewBrowser, type WebviewPage } from './webviewHarness';

const skip = browserMissing();
const recorded = recordedRun();
const run: RunListEntry = {
  key: `/work/runs/${recorded.runId}`,
  runId: recorded.runId,
  configPath: '/work/tiny.embedtune.yaml',
  startedAt: recorded.events[0]!.time,
  lifecycle: 'running',
  live: true,
};

/** The step labels a chart's x axis drew (uPlot draws them on canvas; the chart keeps them on its plot element). */
async function stepLabels(page: WebviewPage, chart: string): Promise<string[]> {
  const labels = await page.page.locator(`figure.chart[data-chart="${chart}"] .plot`).getAttribute('data-step-labels');
  return (labels ?? '').split(' ').filter(Boolean);
}

/** The recorded run up to a step, as a dashboard opened on a live run early on shows it. */
async function showUpTo(page: WebviewPage, lastStep: number): Promise<void> {
  const cut = recorded.events.findIndex((event) => event.type === 'progress' && event.step === lastStep);
  await page.send({ command: 'runs', runs: [run] } satisfies ToDashboard);
  await page.send({
    command: 'show',
    run,
    events: recorded.events.slice(0, cut + 1),
    config: recorded.config,
    engineLog: [],
  } satisfies ToDashboard);
}

describe("the dashboard charts' step axis in headless Chromium", { skip }, () => {
  let browser: WebviewBrowser;
  before(async () => {
    browser = await WebviewBrowser.launch();
  });
  after(async () => browser?.close());

  for (const width of [1100, 400]) {
    it(`labels whole steps only on a run of 3 steps, ${width} px wide (no 1.25 or 1.5)`, async () => {
      const page = await browser.open('dashboard');
      await page.page.setViewportSize({ width, height: 900 });
      await showUpTo(page, 3);
      for (const chart of ['Training loss', 'Learning rate']) {
        const labels = await stepLabels(page, chart);
        assert.ok(labels.length >= 2, `${chart} labels its step axis: ${JSON.stringify(labels)}`);
        assert.ok(
          labels.every((label) => /^\d+$/.test(label)),
          `${chart}'s step axis labels only whole steps: ${JSON.stringify(labels)}`,
        );
        assert.deepEqual(labels, [...new Set(labels)], `no step is labelled twice: ${JSON.stringify(labels)}`);
      }
      assert.deepEqual(page.errors, []);
    });
  }

  it('labels whole steps when zoomed into a span of two steps', async () => {
    const page = await browser.open('dashboard');
    await showUpTo(page, 24);
    const plot = page.page.locator('figure.chart[data-chart="Training loss"] .plot .u-over');
    const box = (await plot.boundingBox())!;
    // Steps 1 to 24 span the plot's width: drag over about two steps in the middle.
    const x = (step: number) => box.x + ((step - 1) / 23) * box.width;
    await page.page.mouse.move(x(11), box.y + box.height / 2);
    await page.page.mouse.down();
    await page.page.mouse.move(x(13), box.y + box.height / 2, { steps: 5 });
    await page.page.mouse.up();
    await page.frame();
    const labels = await stepLabels(page, 'Training loss');
    assert.ok(labels.length >= 1, `the zoomed axis has labels: ${JSON.stringify(labels)}`);
    assert.ok(
      labels.every((label) => /^\d+$/.test(label) && Number(label) >= 10 && Number(label) <= 14),
      `the zoomed step axis labels only whole steps near 11-13: ${JSON.stringify(labels)}`,
    );
    assert.deepEqual(page.errors, []);
  });
});
