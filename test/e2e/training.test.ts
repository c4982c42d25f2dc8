/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { after, before, describe } from 'node:test';
import type { Frame } from 'playwright-core';
import type { TempWorkspace } from '../helpers/tempWorkspace';
import { CodeServer } from './harness/codeServer';
import { bestPointer, checkpointNames, checkpointStep, killLeftoverEngines, newRunFolder, runFolders } from './harness/runFolders';
import { printTimings, scenario, type Artifacts } from './harness/scenario';
import { E2EBrowser, poll, Workbench } from './harness/workbench';
import { trainingWorkspace } from './harness/workspaces';

/**
 * Scenarios 3 to 5 of the end-to-end suite: training a tiny model from the editor in a real VS Code, with the
 * extension installed from the .vsix, the engine running as the detached child process it is for users.
 */

/** Our status bar item's element: VS Code names it `<extension id>.<item id>`, here embedtune.embedtune and embedtune.run. */
const STATUS = 'embedtune.embedtune.embedtune.run';
const percentOf = (text: string) => Number(/(\d+)%/.exec(text)?.[1] ?? NaN);
const stepOf = (text: string) => Number(/step (\d+)/.exec(text)?.[1] ?? NaN);

describe('training from the editor in VS Code (code-server in headless Chromium)', () => {
  let server: CodeServer;
  let browser: E2EBrowser;
  let workspace: TempWorkspace;
  let runs: string;
  let workbench: Workbench | undefined;
  const hooks = { page: () => workbench?.page, extensionHostLog: () => server?.extensionHostLog() ?? '(code-server did not start)' };
  /** A window of its own for each scenario, with no run left training by an earlier one that failed. */
  const openWindow = async (artifacts: Artifacts): Promise<Workbench> => {
    await workbench?.page.close().catch(() => undefined);
    killLeftoverEngines(runs);
    workbench = await Workbench.open(browser, server, workspace.root, artifacts);
    return workbench;
  };

  before(async () => {
    workspace = trainingWorkspace();
    runs = workspace.path('runs');
    [server, browser] = await Promise.all([CodeServer.start(), E2EBrowser.launch()]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    if (workspace) {
      const killed = killLeftoverEngines(runs);
      if (killed.length > 0) process.stderr.write(`killed training engines left running: ${killed.join(', ')}\n`);
      workspace.dispose();
    }
    printTimings('training');
  });

  scenario(
    '3-train',
    'Start Training: the status bar advances, the dashboard charts it, and the checkpoints panel marks the best',
    180_000,
    hooks,
    async ({ artifacts }) => {
      const window = await openWindow(artifacts);
      await window.openFile('quick.embedtune.yaml');
      const before = runFolders(runs);
      const status = window.recordStatus(STATUS);
      await window.runCommand('EmbedTune: Start Training');

      await window.waitForStatus(STATUS, /\d+%/, 60_000);
      await window.screenshot('status-running');
      const dashboard = await window.webview('EmbedTune Dashboard', 30_000);
      let pixels = 0;
      await poll(
        'the loss chart to draw points',
        60_000,
        async () => (pixels = await Workbench.chartPixels(dashboard, 'Training loss')) > 30,
        () => `${pixels} pixels of the line colour`,
      );
      await window.screenshot('dashboard-chart');

      const done = await window.waitForStatus(STATUS, /^done/, 120_000);
      const texts = await status.stop();
      assert.match(done, /^done · ndcg@10 \d\.\d+/, 'the status bar says the run is done, with its best metric');
      const percents = [...new Set(texts.map(percentOf).filter((p) => !Number.isNaN(p)))];
      // A 16-step run can finish between two samples of the status bar, so one progress text before "done" is the
      // bar updating live (CI once saw only 56% on a fast run); when it shows several, they only go forward.
      assert.ok(percents.length >= 1, `the status bar showed progress while training: ${JSON.stringify(texts)}`);
      assert.deepEqual(
        percents,
        [...percents].sort((a, b) => a - b),
        `its progress only went forward: ${JSON.stringify(texts)}`,
      );
      assert.match((await dashboard.locator('#progress-text').textContent()) ?? '', /^step 16\/16 · .*· done$/);

      const runDir = newRunFolder(runs, before);
      assert.ok(runDir, 'the run made a folder under runs/');
      const onDisk = checkpointNames(runDir);
      const best = bestPointer(runDir);
      assert.ok(
        onDisk.length > 0 && best && onDisk.includes(best),
        `the run saved checkpoints (${onDisk.join(', ')}) and a best pointer (${best})`,
      );

      // The "finished" notification offers the checkpoints panel.
      await window.waitForNotification(/finished; best ndcg@10/, 30_000);
      const toast = window.page.locator('.notification-toast', { hasText: 'finished; best' });
      await window.screenshot('finished-notification');
      await toast.locator('.monaco-button', { hasText: 'Show Checkpoints' }).click();
      const checkpoints = await window.webview('EmbedTune Checkpoints', 30_000);
      const listed = async (frame: Frame) =>
        frame.locator('#checkpoints tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-checkpoint')));
      await poll(
        'the checkpoints panel to list what is on disk',
        20_000,
        async () => JSON.stringify(await listed(checkpoints)) === JSON.stringify(onDisk),
      );
      const marked = checkpoints.locator('#checkpoints tbody tr.best');
      assert.equal(await marked.count(), 1, 'one checkpoint is marked best');
      assert.equal(await marked.getAttribute('data-checkpoint'), best);
      assert.match((await marked.textContent()) ?? '', /★ best/);
      await window.screenshot('checkpoints-panel');

      // The README's pictures, with no notification over the panels.
      await window.runCommand('Notifications: Clear All Notifications');
      await window.page.locator('.notification-toast').first().waitFor({ state: 'detached', timeout: 10_000 });
      await window.docsScreenshot('checkpoints-panel');
      // The dashboard's tab, behind the checkpoints panel in the right-hand group (Show Dashboard would open it over the
      // config), then the pointer away from any tab or word, so that no tooltip or hover covers the picture.
      await window.page.locator('.tabs-container .tab', { hasText: 'EmbedTune: quick' }).first().click();
      await window.page.mouse.move(600, 700);
      const finished = await window.webview('EmbedTune Dashboard', 30_000);
      await poll('the dashboard to show the finished run', 30_000, async () =>
        /· done$/.test((await finished.locator('#progress-text').textContent()) ?? ''),
      );
      await poll('its loss chart to be drawn', 30_000, async () => (await Workbench.chartPixels(finished, 'Training loss')) > 30);
      await window.docsScreenshot('editor-and-dashboard');
    },
  );

  scenario(
    '4-stop',
    'Stop Training from the command palette: the status shows stopped and a final checkpoint is on disk',
    150_000,
    hooks,
    async ({ artifacts }) => {
      const window = await openWindow(artifacts);
      await window.openFile('long.embedtune.yaml');
      assert.ok(
        !(await window.commandPaletteEntries('EmbedTune: Stop')).includes('EmbedTune: Stop Training'),
        'Stop Training is not offered while nothing trains',
      );
      // The dashboard is open on a finished run (scenario 3's) when this run starts.
      await window.runCommand('EmbedTune: Show Dashboard');
      const shown = (await window.webview('EmbedTune Dashboard', 30_000)).locator('#progress-text');
      await poll('the dashboard to show a finished run', 30_000, async () => /· done$/.test((await shown.textContent()) ?? ''));
      const before = runFolders(runs);
      await window.runCommand('EmbedTune: Start Training');
      // Past the first periodic checkpoint (step 4), so that the stop's own checkpoint is a later one.
      const dashboard = await window.webview('EmbedTune Dashboard', 60_000);
      const progress = dashboard.locator('#progress-text');
      let seen = '';
      // It shows the finished run until it switches to this one: wait for this run's 400 steps.
      const liveStep = (text: string) => (/^step \d+\/400 .*running$/.test(text) ? stepOf(text) : 0);
      await poll(
        'the dashboard to pass step 6 of this run',
        90_000,
        async () => liveStep((seen = (await progress.textContent()) ?? '')) > 6,
        () => `it shows "${seen}"`,
      );
      // Its run picker names the run it shows, not the one it showed before this run started.
      const runId = basename(newRunFolder(runs, before) ?? '');
      const picked = await dashboard
        .locator('#run-select')
        .evaluate((select) => (select as HTMLSelectElement).selectedOptions[0]?.textContent ?? '');
      assert.equal(picked, `${runId} · running`, "the dashboard's run picker shows the live run");
      // While it trains the editor title offers Stop too (the same "embedtune.trainingLive" context as the palette's).
      await window.page.locator('.editor-actions .action-label[aria-label*="Stop Training"]').first().waitFor({ timeout: 15_000 });
      await window.screenshot('training');

      await window.runCommand('EmbedTune: Stop Training');
      await window.waitForNotification(/stopping .*finishes its step and writes a checkpoint/, 15_000);
      const stopped = await window.waitForStatus(STATUS, /^stopped at step \d+/, 60_000);
      await window.screenshot('stopped');
      const step = stepOf(stopped);
      const runDir = newRunFolder(runs, before);
      assert.ok(runDir, 'the run made a folder under runs/');
      const names = checkpointNames(runDir);
      assert.ok(names.includes(`step-${step}`), `a checkpoint of the stopped step ${step} is on disk; there are ${names.join(', ')}`);
      assert.equal(checkpointStep(runDir, `step-${step}`), step);
      assert.ok(
        !(await window.commandPaletteEntries('EmbedTune: Stop')).includes('EmbedTune: Stop Training'),
        'Stop Training leaves the palette once the run has stopped',
      );
    },
  );

  scenario(
    '5-reload',
    'reloading the window during a run: the status bar and the dashboard reattach and keep updating',
    180_000,
    hooks,
    async ({ artifacts }) => {
      const window = await openWindow(artifacts);
      await window.openFile('long.embedtune.yaml');
      const before = runFolders(runs);
      await window.runCommand('EmbedTune: Start Training');
      await window.waitForStatus(STATUS, /\d+%/, 60_000);
      await window.webview('EmbedTune Dashboard', 30_000);
      await window.screenshot('before-reload');

      await window.reloadWindow();
      // The same run, still training: the status bar comes back and moves on.
      const first = await window.waitForStatus(STATUS, /\d+%/, 60_000);
      await poll('the status bar to advance after the reload', 60_000, async () => {
        const now = await window.statusText(STATUS);
        return /\d+%/.test(now) && now !== first && percentOf(now) >= percentOf(first);
      });
      const dashboard = await window.webview('EmbedTune Dashboard', 30_000);
      const progress = dashboard.locator('#progress-text');
      let seen = '';
      await poll(
        'the restored dashboard to show the live run',
        30_000,
        async () => /^step \d+\/400 .*running$/.test((seen = (await progress.textContent()) ?? '')),
        () => `it shows "${seen}"`,
      );
      const stepBefore = stepOf(seen);
      await poll(
        'the restored dashboard to keep updating',
        60_000,
        async () => stepOf((seen = (await progress.textContent()) ?? '')) > stepBefore,
        () => `it shows "${seen}"`,
      );
      assert.ok((await Workbench.chartPixels(dashboard, 'Training loss')) > 30, 'the restored dashboard charts the loss');
      await window.screenshot('after-reload');
      assert.equal(runFolders(runs).length, before.length + 1, 'the reload started no second run');

      // The reattached run can be stopped from this window.
      await window.runCommand('EmbedTune: Stop Training');
      await window.waitForStatus(STATUS, /^stopped at step \d+/, 60_000);
      const runDir = newRunFolder(runs, before)!;
      assert.equal(killLeftoverEngines(runs).length, 0, 'no engine is left running');
      assert.ok(checkpointNames(runDir).length > 0);
      await window.screenshot('stopped');
    },
  );
});
