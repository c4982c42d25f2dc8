import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { PanelOpener } from '../../src/extension/host/editorHost';
import { compareRuns } from '../../src/extension/monitoring/compareRunsCommand';
import { DashboardSession } from '../../src/extension/panels/dashboardSession';
import { RunLibrary } from '../../src/extension/runs/runLibrary';
import { RunManager } from '../../src/extension/runs/runManager';
import type { ToDashboard } from '../../src/shared/protocol/dashboardMessages';
import { writePastRun } from '../helpers/pastRuns';
import { TempWorkspace } from '../helpers/tempWorkspace';

const CONFIG = 'name: faq\nmodel:\n  base: x\ndata:\n  train: train.jsonl\ntraining:\n  learning_rate: 0.00002\n';

class ComparingPanels implements PanelOpener {
  readonly dashboards: [string | undefined, readonly string[] | undefined][] = [];
  showDashboard(key?: string, compare?: readonly string[]): void {
    this.dashboards.push([key, compare]);
  }
  showCheckpoints(): void {}
}

describe('opening the dashboard on a comparison, as a history code lens does', () => {
  const workspace = new TempWorkspace();
  const manager = new RunManager({ engine: { nodePath: process.execPath, cliPath: 'unused' }, logDir: workspace.path('.logs') });
  after(() => {
    manager.dispose();
    workspace.dispose();
  });

  it('the command opens the first run compared with the rest, and the plain dashboard without runs', () => {
    const panels = new ComparingPanels();
    compareRuns(panels, ['/runs/a', '/runs/b', 7, '/runs/c']);
    compareRuns(panels, undefined);
    assert.deepEqual(panels.dashboards, [
      ['/runs/a', ['/runs/b', '/runs/c']],
      [undefined, undefined],
    ]);
  });

  it('a dashboard opened for a comparison shows the first run and compares the others once it is ready', async () => {
    const configPath = workspace.write('faq.embedtune.yaml', CONFIG);
    const best = writePastRun(configPath, CONFIG, workspace.path('runs'), { evals: [0.82], startedAt: new Date('2026-12-03T10:00:00Z') });
    const other = writePastRun(configPath, CONFIG, workspace.path('runs'), {
      overrides: { training: { learning_rate: 5e-5 } },
      evals: [0.79],
      startedAt: new Date('2026-12-02T10:00:00Z'),
    });
    const library = new RunLibrary(manager, () => Promise.resolve([configPath]));
    const posted: ToDashboard[] = [];
    const actions = { stop: () => {}, showCheckpoints: () => {}, openFile: () => {} };
    const session = new DashboardSession(manager, library, (message) => posted.push(message), actions, best.path, [other.path]);
    await session.handle({ command: 'ready', key: null, compare: [] });
    const show = posted.find((message) => message.command === 'show');
    assert.equal(show?.command === 'show' ? show.run.key : undefined, best.path);
    const compare = posted.find((message) => message.command === 'compare');
    assert.deepEqual(compare?.command === 'compare' ? compare.runs.map((run) => run.run.key) : undefined, [other.path]);
    // A reload of the webview later restores what it saved, not the first comparison again.
    posted.length = 0;
    await session.handle({ command: 'ready', key: best.path, compare: [] });
    const again = posted.find((message) => message.command === 'compare');
    assert.deepEqual(again?.command === 'compare' ? again.runs : undefined, []);
    session.dispose();
  });
});
