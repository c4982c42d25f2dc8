/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import type { TempWorkspace } from '../helpers/tempWorkspace';
import { CodeServer } from './harness/codeServer';
import { EMPTY_CLASS, fillEmptyClass, IMAGE_CONFIG, imageWorkspace } from './harness/imageWorkspaces';
import { bestPointer, checkpointNames, killLeftoverEngines, newRunFolder, runFolders } from './harness/runFolders';
import { printTimings, scenario } from './harness/scenario';
import { E2EBrowser, poll, Workbench } from './harness/workbench';

/**
 * The image scenario of issue 17 in a real VS Code, with the extension installed from the .vsix: an image config gets
 * a data diagnostic (a class folder with no images), Start Training refuses it; the user copies the images in, the
 * diagnostic clears, Start Training runs a tiny ResNet on the default backend, and the dashboard charts mAP and shows
 * the confusion matrix.
 */

const STATUS = 'embedtune.embedtune.embedtune.run';
const EMPTY_MESSAGE = new RegExp(`class "${EMPTY_CLASS}" has no \\.png, \\.jpg or \\.jpeg images`);

describe('image classification from the editor in VS Code (code-server in headless Chromium)', () => {
  let server: CodeServer;
  let browser: E2EBrowser;
  let workspace: TempWorkspace;
  let workbench: Workbench | undefined;
  const hooks = { page: () => workbench?.page, extensionHostLog: () => server?.extensionHostLog() ?? '(code-server did not start)' };

  before(async () => {
    workspace = imageWorkspace();
    [server, browser] = await Promise.all([CodeServer.start(), E2EBrowser.launch()]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    if (workspace) {
      const killed = killLeftoverEngines(workspace.path('runs'));
      if (killed.length > 0) process.stderr.write(`killed training engines left running: ${killed.join(', ')}\n`);
      workspace.dispose();
    }
    printTimings('images');
  });

  scenario(
    '9-images',
    'an empty class folder is a problem that blocks training; once its images are in, Start Training runs and the dashboard charts mAP',
    300_000,
    hooks,
    async ({ artifacts }) => {
      const runs = workspace.path('runs');
      const window = (workbench = await Workbench.open(browser, server, workspace.root, artifacts));
      await window.openFile(IMAGE_CONFIG);
      await window.showProblems();
      let problems: string[] = [];
      await poll(
        'the empty class in the Problems panel',
        30_000,
        async () => (problems = await window.problems()).some((row) => EMPTY_MESSAGE.test(row)),
        () => `the panel shows ${JSON.stringify(problems)}`,
      );
      const row = problems.find((text) => EMPTY_MESSAGE.test(text))!;
      assert.match(row, /\[Ln 6, Col 10]/, `the problem is on data.train's line: ${row}`);
      await window.screenshot('empty-class-problem');

      // With the error there, Start Training refuses and says why.
      const before = runFolders(runs);
      await window.runCommand('EmbedTune: Start Training');
      await window.waitForNotification(/defects\.embedtune\.yaml has 1 error\(s\); training did not start/, 20_000);
      assert.deepEqual(runFolders(runs), before, 'no run started');

      // The user copies the class's images in: the watcher re-checks the config and the problem goes.
      fillEmptyClass(workspace);
      await poll(
        'the empty-class problem to clear',
        30_000,
        async () => !(problems = await window.problems()).some((text) => EMPTY_MESSAGE.test(text)),
        () => `the panel shows ${JSON.stringify(problems)}`,
      );
      await window.runCommand('Notifications: Clear All Notifications');

      await window.runCommand('EmbedTune: Start Training');
      const dashboard = await window.webview('EmbedTune Dashboard', 60_000);
      const done = await window.waitForStatus(STATUS, /^done/, 200_000);
      assert.match(done, /^done · map (0\.\d+|1)\b/, `the status bar says the run is done, with its mAP: ${done}`);
      const runDir = newRunFolder(runs, before);
      assert.ok(runDir, 'the run made a folder under runs/');
      const best = bestPointer(runDir);
      assert.ok(best && checkpointNames(runDir).includes(best), `the run saved checkpoints and a best pointer (${best})`);

      let pixels = 0;
      await poll(
        'the dashboard to chart validation mAP',
        30_000,
        async () => (pixels = await Workbench.chartPixels(dashboard, 'Validation map')) > 30,
        () => `${pixels} pixels of the line colour in the "Validation map" chart`,
      );
      assert.match((await dashboard.locator('#progress-text').textContent()) ?? '', /^step 24\/24 · .*· done$/);
      const labels = await dashboard
        .locator('#confusion-matrix thead th')
        .evaluateAll((cells) => cells.map((cell) => cell.textContent?.trim() ?? ''));
      for (const name of ['crack', 'ok', EMPTY_CLASS])
        assert.ok(labels.includes(name), `the confusion matrix has ${name}: ${labels.join(', ')}`);
      await dashboard.locator('figure.chart[data-chart="Validation map"]').scrollIntoViewIfNeeded();
      await window.screenshot('dashboard-map');
      await dashboard.locator('#confusion-matrix').scrollIntoViewIfNeeded();
      await window.docsScreenshot('image-evaluation');
    },
  );
});
