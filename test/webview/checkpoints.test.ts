import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RunProgress } from '../../src/shared/monitor/runProgress';
import { parseFromCheckpoints, type CheckpointRow, type ToCheckpoints } from '../../src/shared/protocol/checkpointsMessages';
import type { RunListEntry } from '../../src/shared/protocol/runListEntry';
import { browserMissing, recordedRun, WebviewBrowser } from './webviewHarness';

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

/** The table rows for the recorded run, as the extension lists them: its checkpoints still on disk, from its events. */
function recordedRows(): CheckpointRow[] {
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

describe('the checkpoints webview in headless Chromium', { skip }, () => {
  let browser: WebviewBrowser;
  before(async () => {
    browser = await WebviewBrowser.launch();
  });
  after(async () => browser?.close());

  it('lists the checkpoints with step, epoch, size and every metric, and marks the best one', async () => {
    const page = await browser.open('checkpoints');
    const rows = recordedRows();
    assert.deepEqual(
      rows.map((r) => r.name),
      ['step-16', 'step-20', 'step-24'],
      'keep: 3 left the last three',
    );
    await page.send({ command: 'runs', runs: [run] } satisfies ToCheckpoints);
    await page.send({ command: 'checkpoints', run, rows, primary: 'ndcg@10' } satisfies ToCheckpoints);
    assert.deepEqual(await page.page.locator('#checkpoints thead th').allTextContents(), [
      '',
      'Step ▲',
      'Epoch',
      'Saved',
      'Size',
      'ndcg@10',
      'mrr@10',
      'recall@5',
      'Saved because',
      'Evaluated on',
      'Actions',
    ]);
    const steps = await page.page.locator('#checkpoints tbody tr td:nth-child(2)').allTextContents();
    assert.deepEqual(steps, ['16', '20', '24']);
    const best = page.page.locator('#checkpoints tbody tr.best');
    assert.equal(await best.count(), 1);
    assert.equal(await best.getAttribute('data-checkpoint'), 'step-24');
    assert.match((await best.textContent())!, /^★ best244\.00.*493 KB0\.52940\.44980\.625interval/);
    assert.match(await page.text('#caption'), /^3 checkpoints of tiny-retrieval-\d+-\d+ · done · best: step-24 \(ndcg@10 0\.5294\)$/);
    assert.match(await page.text('tr[data-checkpoint="step-16"]'), /test\.jsonl \(24 examples\): ndcg@10 0\.61 · mrr@10 0\.5/);
    await page.screenshot('checkpoints-dark');
    assert.deepEqual(page.errors, []);
  });

  it('sorts by any column, best metric first on the first click, and keeps the order across a reload', async () => {
    const page = await browser.open('checkpoints');
    const rows = recordedRows().map((row) => (row.name === 'step-20' ? { ...row, metrics: { ...row.metrics, 'ndcg@10': 0.9 } } : row));
    await page.send({ command: 'checkpoints', run, rows, primary: 'ndcg@10' } satisfies ToCheckpoints);
    await page.page.locator('button.sort[data-column="metric:ndcg@10"]').click();
    const names = () =>
      page.page.locator('#checkpoints tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-checkpoint')));
    assert.deepEqual(await names(), ['step-20', 'step-24', 'step-16']);
    assert.equal(await page.page.locator('th[aria-sort="descending"]').textContent(), 'ndcg@10 ▼');
    await page.page.locator('button.sort[data-column="metric:ndcg@10"]').click();
    assert.deepEqual(await names(), ['step-16', 'step-24', 'step-20']);
    await page.page.locator('button.sort[data-column="size"]').click();
    await page.page.reload();
    await page.waitForPosted('ready');
    assert.deepEqual((await page.posted()).at(-1), { command: 'ready', key: run.key });
    await page.send({ command: 'checkpoints', run, rows, primary: 'ndcg@10' } satisfies ToCheckpoints);
    assert.equal(await page.page.locator('th[aria-sort="ascending"]').textContent(), 'Size ▲');
    assert.deepEqual(page.errors, []);
  });

  it('asks the extension for each action on a checkpoint, and disables actions while one runs', async () => {
    const page = await browser.open('checkpoints');
    await page.send({ command: 'checkpoints', run, rows: recordedRows(), primary: 'ndcg@10' } satisfies ToCheckpoints);
    for (const action of ['evaluate', 'resume', 'export', 'lab', 'reveal', 'delete']) {
      await page.page.locator(`tr[data-checkpoint="step-24"] button[data-action="${action}"]`).click();
      assert.deepEqual((await page.posted()).at(-1), { command: action, key: run.key, checkpoint: 'step-24' });
    }
    for (const message of await page.posted()) assert.ok(parseFromCheckpoints(message), `well-formed: ${JSON.stringify(message)}`);
    await page.send({ command: 'busy', checkpoint: 'step-20', action: 'evaluate' } satisfies ToCheckpoints);
    assert.equal(await page.page.locator('#checkpoints button[data-action]:not([disabled])').count(), 0);
    assert.match(await page.text('tr[data-checkpoint="step-20"] td.actions'), /^evaluate…/);
    await page.send({ command: 'busy', checkpoint: null, action: null } satisfies ToCheckpoints);
    assert.equal(await page.page.locator('#checkpoints button[data-action]:not([disabled])').count(), 18);
    // A live run cannot be resumed from while it trains.
    await page.send({
      command: 'checkpoints',
      run: { ...run, lifecycle: 'running', live: true },
      rows: recordedRows(),
      primary: 'ndcg@10',
    } satisfies ToCheckpoints);
    assert.equal(await page.page.locator('button[data-action="resume"]:not([disabled])').count(), 0);
    assert.deepEqual(page.errors, []);
  });

  it('updates live as new checkpoints arrive, and says so when there are none yet', async () => {
    const page = await browser.open('checkpoints');
    const live = { ...run, lifecycle: 'running' as const, live: true };
    await page.send({ command: 'checkpoints', run: live, rows: [], primary: null } satisfies ToCheckpoints);
    assert.match(await page.text('#table-host'), /No checkpoint yet/);
    await page.send({ command: 'checkpoints', run: live, rows: recordedRows().slice(0, 1), primary: 'ndcg@10' } satisfies ToCheckpoints);
    assert.equal(await page.page.locator('#checkpoints tbody tr').count(), 1);
    await page.send({ command: 'checkpoints', run: live, rows: recordedRows(), primary: 'ndcg@10' } satisfies ToCheckpoints);
    assert.equal(await page.page.locator('#checkpoints tbody tr').count(), 3);
    assert.deepEqual(page.errors, []);
  });

  it('shows payloads in run names, metric names and data paths as text, and runs none of them', async () => {
    const page = await browser.open('checkpoints');
    const img = '<img src=x onerror="window.__xss=1">';
    const script = '<script>window.__xss=2</script>';
    const hostileRun = { ...run, runId: `run${img}` };
    const rows = recordedRows().map((row) => ({
      ...row,
      metrics: { [`ndcg${script}`]: 0.5, [`m${img}`]: 0.1 },
      reason: `interval${img}`,
      evaluation: { data: `/work/${img}.jsonl`, examples: 3, metrics: { [`x${script}`]: 1 } },
    }));
    await page.send({ command: 'runs', runs: [hostileRun] } satisfies ToCheckpoints);
    await page.send({ command: 'checkpoints', run: hostileRun, rows, primary: `ndcg${script}` } satisfies ToCheckpoints);
    assert.equal(await page.page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined);
    assert.equal(await page.page.locator('img').count(), 0);
    assert.equal(await page.page.locator('script').count(), 1);
    assert.ok((await page.text('#checkpoints thead')).includes(`ndcg${script}`));
    assert.ok((await page.text('#caption')).includes(`run${img}`));
    assert.ok((await page.text('#checkpoints tbody')).includes(`${img}.jsonl`));
    await page.screenshot('checkpoints-xss');
    assert.deepEqual(page.errors, []);
  });
});
