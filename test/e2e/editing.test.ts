import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { TempWorkspace } from '../helpers/tempWorkspace';
import { CodeServer, ROOT } from './harness/codeServer';
import { printTimings, scenario, type Artifacts } from './harness/scenario';
import { E2EBrowser, poll, Workbench } from './harness/workbench';
import { exampleWorkspace } from './harness/workspaces';

/** Scenarios 1 and 2 of the end-to-end suite: editing a config in a real VS Code, with the extension installed from the .vsix. */

const CONFIG = 'retrieval.embedtune.yaml';
const SCHEMA = JSON.parse(readFileSync(join(ROOT, 'schemas', 'embedtune.schema.json'), 'utf8')) as {
  properties: { training: { properties: Record<string, { description: string }> } };
};
const trainingDoc = (key: string) => SCHEMA.properties.training.properties[key]!.description;

describe('editing a config in VS Code (code-server in headless Chromium)', () => {
  let server: CodeServer;
  let browser: E2EBrowser;
  let workspace: TempWorkspace;
  let workbench: Workbench | undefined;
  const hooks = { page: () => workbench?.page, extensionHostLog: () => server?.extensionHostLog() ?? '(code-server did not start)' };
  /** Each scenario gets a window of its own; the previous one is closed, so that one extension host runs at a time. */
  const openWindow = async (artifacts: Artifacts): Promise<Workbench> => {
    await workbench?.page.close().catch(() => undefined);
    workbench = await Workbench.open(browser, server, workspace.root, artifacts);
    return workbench;
  };

  before(async () => {
    workspace = exampleWorkspace();
    [server, browser] = await Promise.all([CodeServer.start(), E2EBrowser.launch()]);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    workspace?.dispose();
    printTimings('editing');
  });

  scenario(
    '1-typo',
    'a typo in a key shows in the Problems panel on its line, and the quick fix corrects it',
    90_000,
    hooks,
    async ({ artifacts }) => {
      workbench = await openWindow(artifacts);
      await workbench.openFile(CONFIG);
      const original = readFileSync(workspace.path(CONFIG), 'utf8');
      const line = original.split('\n').findIndex((text) => text === '  learning_rate: 1.0e-4') + 1;
      assert.ok(line > 0, 'the example config sets training.learning_rate');

      // Delete the "g" of "learning_rate": the user's typo.
      await workbench.goTo(line, 10);
      await workbench.press('Delete');
      assert.equal(await workbench.editorLine(line), '  learnin_rate: 1.0e-4');
      await workbench.showProblems();
      const expected = 'Unknown key "learnin_rate" in training. Did you mean "learning_rate"?';
      let problems: string[] = [];
      await poll(
        'our diagnostic in the Problems panel',
        30_000,
        async () => {
          problems = await workbench!.problems();
          return problems.some((row) => row.includes(expected));
        },
        () => `the panel shows ${JSON.stringify(problems)}`,
      );
      const row = problems.find((text) => text.includes(expected))!;
      assert.match(row, new RegExp(`\\[Ln ${line}, Col 3\\]`), `the problem is on line ${line}, at the key: ${row}`);
      assert.match(row, /embedtune/, `the problem names its source: ${row}`);
      await workbench.screenshot('problem-listed');

      // The quick fix, from the light bulb menu (Ctrl+.) at the typo.
      await workbench.goTo(line, 5);
      await workbench.press('Control+.');
      const fix = workbench.page.locator('.action-widget .monaco-list-row.action', { hasText: 'Change to "learning_rate"' });
      await fix.waitFor({ timeout: 15_000 });
      await workbench.screenshot('quick-fix-offered');
      await workbench.docsScreenshot('quick-fix');
      // The menu is keyboard-driven (a pointer guard covers it until the mouse moves): go to the fix and press Enter.
      for (let i = 0; i < 10 && !(await fix.evaluate((row) => row.classList.contains('focused'))); i++) await workbench.press('ArrowDown');
      await workbench.press('Enter');
      await poll('the quick fix to rename the key', 10_000, async () => (await workbench!.editorLine(line)) === '  learning_rate: 1.0e-4');
      await poll('the diagnostic to go', 30_000, async () => !(await workbench!.problems()).some((text) => text.includes('learnin_rate')));
      await workbench.press('Control+S');
      await poll('the fixed file to be saved', 10_000, async () => readFileSync(workspace.path(CONFIG), 'utf8') === original);
      await workbench.screenshot('fixed');
    },
  );

  scenario(
    '2-complete',
    'completion inside training: lists our keys with documentation, and hover describes a key',
    90_000,
    hooks,
    async ({ artifacts }) => {
      workbench = await openWindow(artifacts);
      workspace.write(
        'draft.embedtune.yaml',
        'name: draft\nmodel:\n  base: sentence-transformers/all-MiniLM-L6-v2\ntraining:\n  epochs: 3\n\n',
      );
      await workbench.openFile('draft.embedtune.yaml');
      // Until the language server has started, VS Code completes with words from open files: wait for its code lens.
      await workbench.page.locator('.codelens-decoration', { hasText: 'Dry run' }).first().waitFor({ timeout: 30_000 });
      // A new line inside training:, indented as its keys are.
      await workbench.goTo(6, 1);
      await workbench.page.keyboard.type('  ');
      await workbench.press('Control+Space');
      const suggest = workbench.page.locator('.editor-widget.suggest-widget');
      await suggest.locator('.monaco-list-row').first().waitFor({ timeout: 20_000 });
      const labels = await suggest.locator('.monaco-list-row .label-name').allTextContents();
      for (const key of ['batch_size', 'learning_rate', 'warmup', 'scheduler'])
        assert.ok(labels.includes(key), `completion offers training.${key}; it offers ${JSON.stringify(labels)}`);
      assert.ok(!labels.includes('epochs'), 'completion leaves out a key the block already has');
      assert.ok(!labels.includes('model'), 'completion offers the keys of training:, not of the top level');

      // Narrow to one key and open its documentation beside the list ("Read More", Ctrl+Space again).
      await workbench.page.keyboard.type('batch');
      await suggest.locator('.monaco-list-row.focused', { hasText: 'batch_size' }).waitFor({ timeout: 10_000 });
      const details = workbench.page.locator('.suggest-details-container .suggest-details');
      if (!(await details.isVisible())) await workbench.press('Control+Space');
      await poll('the documentation of training.batch_size', 10_000, async () =>
        ((await details.textContent()) ?? '').includes(trainingDoc('batch_size')),
      );
      await workbench.screenshot('completion-with-docs');
      await workbench.docsScreenshot('completion');

      // Accept it: the key is inserted with its colon.
      await workbench.press('Enter');
      await poll('batch_size to be inserted', 10_000, async () => /^ {2}batch_size: ?/.test(await workbench!.editorLine(6)));
      await workbench.press('Escape');

      // Hover on "epochs" (Show Hover: Ctrl+K Ctrl+I) describes it.
      await workbench.goTo(5, 4);
      await workbench.press('Control+K', 'Control+I');
      const hover = workbench.page.locator('.monaco-hover:not(.hidden) .hover-contents').first();
      await hover.waitFor({ timeout: 15_000 });
      await poll('the hover to describe training.epochs', 10_000, async () =>
        ((await hover.textContent()) ?? '').includes(trainingDoc('epochs')),
      );
      assert.match((await hover.textContent()) ?? '', /training\.epochs/);
      await workbench.screenshot('hover');
    },
  );
});
