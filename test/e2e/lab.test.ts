/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { TempWorkspace } from '../helpers/tempWorkspace';
import { CodeServer } from './harness/codeServer';
import { bestPointer, killLeftoverEngines, newRunFolder, runFolders } from './harness/runFolders';
import { printTimings, scenario } from './harness/scenario';
import { E2EBrowser, poll, Workbench } from './harness/workbench';
import { trainingWorkspace } from './harness/workspaces';

/**
 * The Embedding Lab in a real VS Code, with the extension installed from the .vsix: finish a run, open the Lab from
 * a checkpoints-panel row, search with one of the run's validation queries and see the rank changes and its known
 * positive, list the wins and losses and open one in Search, then open the map; reload the window and see the Lab
 * come back on the same checkpoint with its query, k and wins, and search again.
 */

const STATUS = 'embedtune.embedtune.embedtune.run';

describe('the Embedding Lab in VS Code (code-server in headless Chromium)', () => {
  let server: CodeServer;
  let browser: E2EBrowser;
  let workspace: TempWorkspace;
  let workbench: Workbench | undefined;
  const hooks = { page: () => workbench?.page, extensionHostLog: () => server?.extensionHostLog() ?? '(code-server did not start)' };

  before(async () => {
    workspace = trainingWorkspace();
    [server, browser] = await Promise.all([CodeServer.start(), E2EBrowser.launch()]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    if (workspace) {
      killLeftoverEngines(workspace.path('runs'));
      workspace.dispose();
    }
    printTimings('lab');
  });

  scenario(
    '8-lab',
    'a finished run opens in the Embedding Lab from the checkpoints panel: rank changes, known positives, wins and losses, the map',
    300_000,
    hooks,
    async ({ artifacts }) => {
      const runs = workspace.path('runs');
      const window = (workbench = await Workbench.open(browser, server, workspace.root, artifacts));
      await window.openFile('quick.embedtune.yaml');
      const runsBefore = runFolders(runs);
      await window.runCommand('EmbedTune: Start Training');
      await window.waitForStatus(STATUS, /^done/, 150_000);
      const runDir = newRunFolder(runs, runsBefore);
      const best = runDir && bestPointer(runDir);
      assert.ok(best, 'the run finished with a best checkpoint');

      await window.runCommand('EmbedTune: Show Checkpoints');
      const checkpoints = await window.webview('EmbedTune Checkpoints', 30_000);
      const row = checkpoints.locator(`#checkpoints tbody tr[data-checkpoint="${best}"]`);
      await row.waitFor({ timeout: 20_000 });
      await row.locator('button[data-action="lab"]').click();

      const lab = await window.webview('EmbedTune Embedding Lab', 30_000);
      await poll('the Lab to settle its models and corpus', 30_000, async () =>
        /^Corpus: .*validation\.jsonl$/.test((await lab.locator('#status').textContent()) ?? ''),
      );
      assert.match((await lab.locator('#column-second h2').textContent()) ?? '', new RegExp(`checkpoints/${best}$`));

      // One of the run's validation queries: its positive is highlighted wherever it ranks in the top 10.
      const [first] = readFileSync(join(workspace.root, 'data/validation.jsonl'), 'utf8').split('\n');
      const { query, passage } = JSON.parse(first!) as { query: string; passage: string };
      await lab.locator('#query').fill(query);
      await lab.locator('#query').press('Enter');
      const marks = lab.locator('#column-second .hit .change');
      await poll('the search results under both models', 120_000, async () => (await marks.count()) > 0);
      const shown = await marks.allTextContents();
      assert.ok(
        shown.some((mark) => mark !== '='),
        `fine-tuning moved some result: ${JSON.stringify(shown)}`,
      );
      const known = lab.locator('#column-second .hit.known-positive .text');
      if ((await known.count()) > 0) assert.equal(await known.first().textContent(), passage);
      await window.screenshot('lab-search');
      // The README's picture shows both models' columns, which need the whole window.
      await window.runCommand('View: Toggle Maximize Editor Group');
      await window.runCommand('Notifications: Clear All Notifications');
      await poll('the Lab to take the window', 15_000, async () => (await lab.locator('body').evaluate((body) => body.clientWidth)) > 1000);
      await window.docsScreenshot('embedding-lab');
      await window.runCommand('View: Toggle Maximize Editor Group');

      await lab.locator('#wins-run').click();
      await poll('the wins and losses', 120_000, async () => (await lab.locator('#wins-summary').count()) > 0);
      assert.match((await lab.locator('#wins-summary').textContent()) ?? '', /^16 validation queries over 16 documents/);
      const moves = lab.locator('#wins .move');
      if ((await moves.count()) > 0) {
        const opened = (await moves.first().locator('.query').textContent()) ?? '';
        await moves.first().click();
        await poll('the win to open in Search', 60_000, async () => (await lab.locator('#query').inputValue()) === opened);
      }
      await window.screenshot('lab-wins');

      const drawMap = lab.locator('#map-draw');
      if ((await drawMap.count()) > 0) {
        await drawMap.click();
        await poll('the map to be drawn', 120_000, async () =>
          /^\d+ entries, /.test((await lab.locator('#map-status').textContent()) ?? ''),
        );
        await window.screenshot('lab-map');
      }

      // A window reload brings the Lab back as it was: the same run, models and corpus, the page's query, k and wins.
      await poll('the last search to end', 60_000, async () => lab.locator('#search').isEnabled());
      await lab.locator('#top-k').fill('7');
      await lab.locator('#query').press('Enter');
      await poll('the search with k 7', 60_000, async () => (await lab.locator('#column-first .hit').count()) === 7);
      const kept = {
        query: await lab.locator('#query').inputValue(),
        second: await lab.locator('#column-second h2').textContent(),
        wins: await lab.locator('#wins-summary').textContent(),
      };
      // Only the Lab is restored: when several webviews come back at once, VS Code's web host (code-server 4.100)
      // sometimes leaves one blank, waiting on a service-worker controllerchange that never fires ("Found unexpected
      // service worker controller" in the console). Seen on a loaded machine with the checkpoints panel beside it.
      await window.runCommand('View: Close Editors in Other Groups');
      await window.reloadWindow();
      await poll(
        'the Lab’s tab, titled with its run',
        60_000,
        async () => (await window.page.getByRole('tab', { name: /^Embedding Lab: / }).count()) > 0,
      );
      let restored = await window.webview('EmbedTune Embedding Lab', 60_000);
      await poll('the restored Lab to settle its models and corpus', 60_000, async () => {
        // Looked up again each time: a page still loading can be replaced by its next load.
        restored = await window.webview('EmbedTune Embedding Lab', 60_000);
        const status = await restored
          .locator('#status')
          .textContent({ timeout: 1_000 })
          .catch(() => '');
        return /^Corpus: .*validation\.jsonl$/.test(status ?? '');
      });
      assert.equal(await restored.locator('#column-second h2').textContent(), kept.second, 'the same checkpoint as before the reload');
      assert.equal(await restored.locator('#query').inputValue(), kept.query);
      assert.equal(await restored.locator('#top-k').inputValue(), '7');
      assert.equal(await restored.locator('#wins-summary').textContent(), kept.wins, 'the wins and losses shown again');
      await restored.locator('#query').press('Enter');
      await poll('a search in the restored Lab', 60_000, async () => (await restored.locator('#column-second .hit .change').count()) > 0);
      assert.equal(await restored.locator('#column-first .hit').count(), 7);
      await window.screenshot('lab-after-reload');
    },
  );
});
