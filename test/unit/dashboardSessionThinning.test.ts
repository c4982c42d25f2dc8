import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { DashboardSession } from '../../src/extension/panels/dashboardSession';
import { RunLibrary } from '../../src/extension/runs/runLibrary';
import { RunManager } from '../../src/extension/runs/runManager';
import { SHOWN_STEP_BUCKETS } from '../../src/shared/monitor/thinRunEvents';
import type { ToDashboard } from '../../src/shared/protocol/dashboardMessages';
import { writePastRun } from '../helpers/pastRuns';
import { TempWorkspace } from '../helpers/tempWorkspace';

const CONFIG = 'name: long\nmodel:\n  base: x\ndata:\n  train: train.jsonl\n';

describe('the dashboard session sends a long run thinned', () => {
  const workspace = new TempWorkspace();
  const manager = new RunManager({ engine: { nodePath: process.execPath, cliPath: 'unused' }, logDir: workspace.path('.logs') });
  after(() => {
    manager.dispose();
    workspace.dispose();
  });

  it('posts a few thousand of a 20,000-step run’s progress events on show and compare, the last one included', async () => {
    const configPath = workspace.write('long.embedtune.yaml', CONFIG);
    const options = { evals: [0.5, 0.6], stepsPerEval: 10_000 };
    const long = writePastRun(configPath, CONFIG, workspace.path('runs'), { ...options, startedAt: new Date('2026-12-03T10:00:00Z') });
    const other = writePastRun(configPath, CONFIG, workspace.path('runs'), { ...options, startedAt: new Date('2026-12-02T10:00:00Z') });
    const library = new RunLibrary(manager, () => Promise.resolve([configPath]));
    const posted: ToDashboard[] = [];
    const actions = { stop: () => {}, showCheckpoints: () => {}, openFile: () => {} };
    const session = new DashboardSession(manager, library, (message) => posted.push(message), actions, long.path, [other.path]);
    await session.handle({ command: 'ready', key: null, compare: [] });
    const show = posted.find((message) => message.command === 'show');
    const compare = posted.find((message) => message.command === 'compare');
    assert.ok(show?.command === 'show' && compare?.command === 'compare' && compare.runs.length === 1);
    for (const events of [show.events, compare.runs[0]!.events]) {
      const progress = events.flatMap((event) => (event.type === 'progress' ? [event.step] : []));
      assert.ok(progress.length <= 4 * SHOWN_STEP_BUCKETS + 2, `${progress.length} of 20,000 progress events posted`);
      assert.deepEqual([progress[0], progress.at(-1)], [1, 20_000]);
      assert.equal(events.filter((event) => event.type === 'eval').length, 2, 'every evaluation is posted');
      assert.equal(events.at(-1)!.type, 'run_finished');
    }
    session.dispose();
  });
});
