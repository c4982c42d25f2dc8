import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunEvent } from '../../src/shared/events/runEvents';
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
  lifecycle: 'completed',
  live: false,
};

async function show(page: WebviewPage, events: RunEvent[]): Promise<void> {
  await page.send({ command: 'runs', runs: [run] } satisfies ToDashboard);
  await page.send({ command: 'show', run, events, config: recorded.config, engineLog: [] } satisfies ToDashboard);
}

describe('the dashboard warns when training never beat the base model', { skip }, () => {
  let browser: WebviewBrowser;
  before(async () => {
    browser = await WebviewBrowser.launch();
  });
  after(async () => browser?.close());

  it('shows the baseline_not_beaten warning with both scores, and nothing for a run that improved', async () => {
    const page = await browser.open('dashboard');
    await show(page, recorded.events);
    assert.equal(await page.page.locator('#baseline-warning').isHidden(), true, 'the recorded run improved on its baseline');
    const finished = recorded.events.at(-1)!;
    const warning: RunEvent = {
      time: finished.time,
      run_id: finished.run_id,
      seq: finished.seq,
      type: 'baseline_not_beaten',
      metric: 'spearman',
      baseline: 0.408,
      best: 0.384,
      mode: 'max',
    };
    await show(page, [...recorded.events.slice(0, -1), warning, { ...finished, seq: finished.seq + 1 }]);
    assert.equal(await page.page.locator('#baseline-warning').isVisible(), true);
    assert.match(
      await page.text('#baseline-warning'),
      /^No trained checkpoint beat the base model: the best spearman after training is 0\.3840, below 0\.4080 before training\./,
    );
    assert.match(await page.text('#run-log'), /warning\s+No trained checkpoint beat the base model/);
    await page.screenshot('dashboard-baseline-warning');
    assert.deepEqual(page.errors, []);
  });
});
