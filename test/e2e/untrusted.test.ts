import assert from 'node:assert/strict';
import { after, before, describe } from 'node:test';
import { UNTRUSTED_MESSAGE } from '../../src/extension/monitoring/trainingController';
import type { TempWorkspace } from '../helpers/tempWorkspace';
import { CodeServer } from './harness/codeServer';
import { killLeftoverEngines, runFolders } from './harness/runFolders';
import { printTimings, scenario } from './harness/scenario';
import { E2EBrowser, poll, Workbench } from './harness/workbench';
import { trainingWorkspace } from './harness/workspaces';

/**
 * Scenario 6 of the end-to-end suite: a folder the user has not trusted. Workspace Trust is on in the user
 * settings, as it is in a desktop VS Code, so the folder opens in Restricted Mode.
 */

describe('an untrusted workspace in VS Code (code-server in headless Chromium)', () => {
  let server: CodeServer;
  let browser: E2EBrowser;
  let workspace: TempWorkspace;
  let workbench: Workbench | undefined;
  const hooks = { page: () => workbench?.page, extensionHostLog: () => server?.extensionHostLog() ?? '(code-server did not start)' };

  before(async () => {
    workspace = trainingWorkspace();
    [server, browser] = await Promise.all([CodeServer.start({ workspaceTrust: true }), E2EBrowser.launch()]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    if (workspace) {
      killLeftoverEngines(workspace.path('runs'));
      workspace.dispose();
    }
    printTimings('untrusted');
  });

  scenario(
    '6-untrusted',
    'in an untrusted workspace Start Training is refused with an explanation',
    90_000,
    hooks,
    async ({ artifacts }) => {
      workbench = await Workbench.open(browser, server, workspace.root, artifacts);
      // The workbench says it is in Restricted Mode.
      await workbench.page.locator('.part.statusbar [id="status.workspaceTrust"]').waitFor({ timeout: 30_000 });
      await workbench.openFile('quick.embedtune.yaml');
      // Validation still works here (the extension supports untrusted workspaces in a limited way): the editor has
      // its language features before training is tried.
      await workbench.page.locator('.codelens-decoration', { hasText: 'Dry run' }).first().waitFor({ timeout: 30_000 });

      await workbench.runCommand('EmbedTune: Start Training');
      const shown = await workbench.waitForNotification(/untrusted workspace/, 20_000);
      assert.equal(shown, UNTRUSTED_MESSAGE);
      const toast = workbench.page.locator('.notification-toast', { hasText: 'untrusted workspace' });
      assert.equal(
        await toast.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).count(),
        1,
        'the message offers to manage trust',
      );
      await workbench.screenshot('refused');

      // Nothing trains: no run folder appears and the status bar has no run.
      await new Promise((r) => setTimeout(r, 3000));
      assert.deepEqual(runFolders(workspace.path('runs')), []);
      assert.equal(await workbench.statusText('embedtune.embedtune.embedtune.run'), '');

      // Its button leads to the Workspace Trust editor.
      await toast.locator('.monaco-button', { hasText: 'Manage Workspace Trust' }).click();
      await poll('the Workspace Trust editor to open', 15_000, async () =>
        workbench!.page.locator('.tabs-container .tab.active', { hasText: 'Workspace Trust' }).isVisible(),
      );
      await workbench.screenshot('manage-trust');
    },
  );
});
