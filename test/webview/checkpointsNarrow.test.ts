/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator } from 'playwright-core';
import { RunProgress } from '../../src/shared/monitor/runProgress';
import type { CheckpointRow, ToCheckpoints } from '../../src/shared/protocol/checkpointsMessages';
import type { RunListEntry } from '../../src/shared/protocol/runListEntry';
import { browserMissing, recordedRun, WebviewBrowser, type WebviewPage } from './webviewHarness';

/**
 * The checkpoints panel in a narrow editor group (half of a laptop window, or less): every column and every action
 * stays reachable. A table wider than the panel scrolls sideways in its own box, right under the table, instead of
 * widening the page, whose scrollbar sits at the bottom of a tall panel (or under a notification).
 */

const skip = browserMissing();
const recorded = recordedRun();
const run: RunListEntry = {
  key: `/work/runs/${recorded.runId}`,
  runId: recorded.runId,
  configPath: '/work/tiny.embedtune.yaml',
  startedAt: recorded.events[0]!.time,
  lifecycle: 'completed',
  live: false,
};

function rows(): CheckpointRow[] {
  const progress = new RunProgress().add(recorded.events);
  return progress.checkpoints.map((checkpoint) => ({
    name: checkpoint.path.split('/').pop()!,
    step: checkpoint.step,
    epoch: checkpoint.epoch,
    time: checkpoint.time,
    sizeBytes: checkpoint.sizeBytes,
    metrics: checkpoint.metrics ?? {},
    isBest: checkpoint.path === progress.bestCheckpoint,
    reason: checkpoint.reason,
    evaluation:
      checkpoint.step === 16 ? { data: '/work/data/test.jsonl', examples: 24, metrics: { 'ndcg@10': 0.61, 'mrr@10': 0.5 } } : null,
  }));
}

/**
 * Brings an element into view the way a user can (only boxes that show a scrollbar may be scrolled), then says
 * where it is. Fails when a box that hides overflow clips it, or when it is still outside the panel.
 */
async function reachable(page: WebviewPage, element: Locator, what: string): Promise<{ x: number; y: number }> {
  const problem = await element.evaluate((node) => {
    for (let box = node.parentElement; box && box !== document.documentElement; box = box.parentElement) {
      const clips = box.scrollWidth > box.clientWidth + 1;
      const overflow = getComputedStyle(box).overflowX;
      if (clips && overflow !== 'auto' && overflow !== 'scroll')
        return `it overflows <${box.tagName.toLowerCase()}> (overflow-x ${overflow})`;
      if (clips) {
        const bottom = box.getBoundingClientRect().bottom;
        if (bottom > window.innerHeight)
          return `the scrollbar of the box that holds it is below the panel (${bottom} > ${window.innerHeight})`;
      }
    }
    node.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    return null;
  });
  assert.equal(problem, null, `${what}: ${problem}`);
  const box = (await element.boundingBox())!;
  const viewport = page.page.viewportSize()!;
  assert.ok(
    box.x >= 0 && box.x + box.width <= viewport.width + 0.5,
    `${what} lies within the ${viewport.width} px panel once scrolled to: x ${Math.round(box.x)}-${Math.round(box.x + box.width)}`,
  );
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

describe('the checkpoints panel in a narrow editor group (headless Chromium)', { skip }, () => {
  let browser: WebviewBrowser;
  before(async () => {
    browser = await WebviewBrowser.launch();
  });
  after(async () => browser?.close());

  for (const width of [400, 560, 800]) {
    it(`at ${width} px every column can be sorted and every action clicked, and the page itself never scrolls sideways`, async () => {
      const page = await browser.open('checkpoints');
      await page.page.setViewportSize({ width, height: 900 });
      await page.send({ command: 'runs', runs: [run] } satisfies ToCheckpoints);
      await page.send({ command: 'checkpoints', run, rows: rows(), primary: 'ndcg@10' } satisfies ToCheckpoints);
      const overflow = await page.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 1, `the page is ${overflow} px wider than the ${width} px panel`);

      const headers = await page.page.locator('#checkpoints thead th').allTextContents();
      assert.equal(headers.length, 11, `all columns are there: ${JSON.stringify(headers)}`);
      for (const header of ['Evaluated on', 'Actions']) {
        const cell = page.page.locator('#checkpoints thead th', { hasText: header });
        await reachable(page, cell, `the "${header}" column`);
      }
      const evaluated = page.page.locator('tr[data-checkpoint="step-16"] td', { hasText: 'test.jsonl' });
      await reachable(page, evaluated, 'the "Evaluated on" cell');

      const sortButtons = page.page.locator('#checkpoints thead button.sort');
      for (let i = 0; i < (await sortButtons.count()); i++) {
        const button = sortButtons.nth(i);
        const column = (await button.getAttribute('data-column'))!;
        const at = await reachable(page, button, `the sort button of ${column}`);
        await page.page.mouse.click(at.x, at.y);
        await page.frame();
        const sorted = page.page.locator(`#checkpoints thead th:has(button.sort[data-column="${column}"])`);
        assert.notEqual(await sorted.getAttribute('aria-sort'), 'none', `a click on ${column} at its place on screen sorts by it`);
      }

      for (const checkpoint of ['step-16', 'step-20', 'step-24']) {
        for (const action of ['evaluate', 'resume', 'export', 'lab', 'reveal', 'delete']) {
          const button = page.page.locator(`tr[data-checkpoint="${checkpoint}"] button[data-action="${action}"]`);
          const at = await reachable(page, button, `${action} of ${checkpoint}`);
          await page.page.mouse.click(at.x, at.y);
          assert.deepEqual((await page.posted()).at(-1), { command: action, key: run.key, checkpoint });
        }
      }
      await page.screenshot(`checkpoints-${width}px`);
      assert.deepEqual(page.errors, []);
    });
  }
});
