import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { activateMonitoring, type Monitoring } from '../../src/extension/monitoring/activateMonitoring';
import { CheckpointsSession } from '../../src/extension/panels/checkpointsSession';
import { DashboardSession } from '../../src/extension/panels/dashboardSession';
import type { ManagedRun } from '../../src/extension/runs/runManager';
import type { ToCheckpoints } from '../../src/shared/protocol/checkpointsMessages';
import type { ToDashboard } from '../../src/shared/protocol/dashboardMessages';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';
import { RecordingEditorHost, RecordingPanels } from '../unit/support/recordingEditorHost';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli.js');
const TRAIN = readFileSync(join(ROOT, 'examples/retrieval/data/train.jsonl'), 'utf8').split('\n').slice(0, 64).join('\n');
const VALIDATION = readFileSync(join(ROOT, 'examples/retrieval/data/validation.jsonl'), 'utf8').split('\n').slice(0, 16).join('\n');
const CONFIG = `name: editor-run
model:
  base: ./tiny
  max_seq_length: 24
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
  columns: {anchor: query, positive: passage}
training:
  epochs: 40
  batch_size: 16
  learning_rate: 0.001
  warmup: 1
evaluation:
  every: 2
  metrics: [ndcg@10, mrr@10]
checkpoints:
  every: 2
  keep: 4
# A long run to watch and stop: early stopping, on by default, could end it first.
early_stopping:
  enabled: false
output_dir: runs
`;

const until = async (check: () => boolean, what: string, ms = 90_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('training from the editor, end to end with the real engine', () => {
  let workspace: TempWorkspace;
  let host: RecordingEditorHost;
  let panels: RecordingPanels;
  let monitoring: Monitoring;
  let configPath: string;
  let run: ManagedRun;
  const dashboard: ToDashboard[] = [];
  let dashboardSession: DashboardSession;

  before(() => {
    assert.ok(existsSync(CLI), 'dist/cli.js is built');
    workspace = new TempWorkspace();
    buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 32, heads: 4, intermediate: 64 });
    workspace.write('data/train.jsonl', `${TRAIN}\n`);
    workspace.write('data/validation.jsonl', `${VALIDATION}\n`);
    configPath = workspace.write('editor.embedtune.yaml', CONFIG);
    host = new RecordingEditorHost();
    host.configFiles = [configPath];
    panels = new RecordingPanels();
    monitoring = activateMonitoring({
      host,
      cliPath: CLI,
      defaultNodePath: process.execPath,
      createPanels: () => panels,
      logDir: workspace.path('.logs'),
      pollMs: 100,
    });
  });
  after(async () => {
    dashboardSession?.dispose();
    for (const live of monitoring.services.manager.liveRuns) {
      monitoring.services.manager.stop(live);
      monitoring.services.manager.stop(live);
    }
    monitoring.dispose();
    workspace.dispose();
  });

  it('Start Training runs the engine; the status bar follows it and its dashboard opens', async () => {
    run = (await host.run('embedtune.startTraining', configPath)) as ManagedRun;
    assert.ok(run, `started: ${JSON.stringify(host.messages)}`);
    const item = host.statusItems[0]!;
    await until(
      () =>
        /^\$\(sync~spin\) epoch \d+\/40 · \d+% · loss \d\.\d{3} · ndcg@10 \d\.\d+ · [\d.]+ pairs\/s · ETA \d+[smh] · (wasm|TF CPU|TF GPU)$/.test(
          item.text,
        ),
      `progress in the status bar, got "${item.text}"`,
    );
    assert.deepEqual(panels.dashboards, [run.key], 'the dashboard opened on the new run');
    assert.ok(
      host.output.some((line) => line.startsWith(`[${run.runId}] step `)),
      'the engine output goes to the Output channel',
    );
  });

  it('the dashboard session sends the run’s events once each: all so far on show, then each new batch', async () => {
    const { manager, library } = monitoring.services;
    dashboardSession = new DashboardSession(manager, library, (m) => dashboard.push(m), {
      stop: () => {},
      showCheckpoints: () => {},
      openFile: () => {},
    });
    await dashboardSession.handle({ command: 'ready', key: null, compare: [] });
    const runs = dashboard.find((m) => m.command === 'runs');
    assert.ok(runs && runs.command === 'runs' && runs.runs.some((r) => r.key === run.key && r.live));
    const show = dashboard.find((m) => m.command === 'show');
    assert.ok(show?.command === 'show' && show.run.key === run.key, 'it shows the live run');
    assert.match(show.config ?? '', /name: editor-run/);
    const stepAtShow = run.progress.step;
    await until(() => run.progress.step >= stepAtShow + 3, 'more steps');
    await new Promise((r) => setTimeout(r, 300));
    const seqs = [show, ...dashboard.filter((m) => m.command === 'append')].flatMap((m) =>
      m.command === 'show' || m.command === 'append' ? m.events.map((e) => e.seq) : [],
    );
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i),
      'every event exactly once, in order',
    );
    assert.ok(
      dashboard.some((m) => m.command === 'engineLog'),
      'the engine output follows',
    );
    // A key the library does not know is refused, whatever the webview sends.
    const before = dashboard.length;
    await dashboardSession.handle({ command: 'selectRun', key: '/etc' });
    assert.equal(dashboard.length, before);
  });

  it('Stop Training stops it gracefully, and the run says so everywhere', async () => {
    await host.run('embedtune.stopTraining', run.key);
    await until(() => run.lifecycle === 'stopped', 'the stop');
    assert.match(host.statusItems[0]!.text, /^\$\(debug-stop\) stopped at step \d+ · best ndcg@10 \d\.\d+$/);
    await until(() => dashboard.some((m) => m.command === 'runState' && m.run.lifecycle === 'stopped'), 'the dashboard to hear of it');
    const checkpoints = readdirSync(join(run.key!, 'checkpoints'));
    assert.ok(checkpoints.includes(`step-${run.progress.step}`));
    assert.ok(!checkpoints.some((name) => name.startsWith('.tmp-')));
  });

  it('the checkpoints panel lists them, evaluates one on a data file, exports one, and deletes with confirmation', async () => {
    const { manager, library, engine, controller } = monitoring.services;
    const posted: ToCheckpoints[] = [];
    const labs: [string, string][] = [];
    const session = new CheckpointsSession(
      {
        host,
        manager,
        library,
        engine,
        resumeFrom: (c, k) => controller.resumeFrom(c, k),
        openLab: async (key, checkpoint) => void labs.push([key, checkpoint]),
      },
      (m) => posted.push(m),
      run.key!,
    );
    const rows = () => {
      const last = posted.filter((m) => m.command === 'checkpoints').at(-1);
      return last?.command === 'checkpoints' ? last.rows : [];
    };
    try {
      await session.handle({ command: 'ready', key: null });
      const listed = rows();
      assert.ok(listed.length >= 2, `checkpoints listed: ${listed.map((r) => r.name)}`);
      assert.equal(listed.filter((r) => r.isBest).length, 1, 'one best');
      // The newest checkpoint is the one at the stopped step: written for the stop, or already there when the stop
      // came right after an interval checkpoint (the engine does not save the same step twice).
      assert.equal(listed.at(-1)!.name, `step-${run.progress.step}`);
      assert.ok(['stop', 'interval', 'epoch'].includes(listed.at(-1)!.reason ?? ''), `reason ${listed.at(-1)!.reason}`);
      const target = listed.at(-1)!;

      host.answers.push(workspace.path('data/validation.jsonl'));
      await session.handle({ command: 'evaluate', key: run.key!, checkpoint: target.name });
      const evaluated = rows().find((r) => r.name === target.name)!;
      assert.equal(evaluated.evaluation?.examples, 16);
      assert.ok(typeof evaluated.evaluation?.metrics['ndcg@10'] === 'number', JSON.stringify(evaluated.evaluation));
      assert.match(host.messages.at(-1)!.message, new RegExp(`^EmbedTune: ${target.name} on validation\\.jsonl: ndcg@10 \\d`));
      assert.deepEqual(
        posted.filter((m) => m.command === 'busy').map((m) => m.command === 'busy' && m.action),
        ['evaluate', null],
      );

      host.answers.push(workspace.path('exported'), undefined);
      await session.handle({ command: 'export', key: run.key!, checkpoint: target.name });
      for (const file of ['model.safetensors', 'modules.json', 'config.json'])
        assert.ok(existsSync(workspace.path(`exported/${file}`)), file);

      const best = rows().find((r) => r.isBest)!;
      const other = rows().find((r) => !r.isBest)!;
      host.answers.push('Delete');
      await session.handle({ command: 'delete', key: run.key!, checkpoint: other.name });
      assert.ok(!existsSync(join(run.key!, 'checkpoints', other.name)));
      assert.ok(!rows().some((r) => r.name === other.name), 'the table no longer lists it');
      host.answers.push('Delete', undefined);
      await session.handle({ command: 'delete', key: run.key!, checkpoint: best.name });
      assert.match(host.messages.at(-1)!.message, /is the BEST checkpoint/);
      assert.ok(existsSync(join(run.key!, 'checkpoints', best.name)), 'the best one needs a second confirmation');

      await session.handle({ command: 'reveal', key: run.key!, checkpoint: best.name });
      assert.deepEqual(host.revealed.at(-1), join(run.key!, 'checkpoints', best.name));
      // Lab opens the Embedding Lab on the run with this checkpoint as the model compared with the base.
      await session.handle({ command: 'lab', key: run.key!, checkpoint: best.name });
      assert.deepEqual(labs, [[run.key!, join(run.key!, 'checkpoints', best.name)]]);
    } finally {
      session.dispose();
    }
  });

  it('Resume from here continues the same run folder from that checkpoint, and a second Stop kills it', async () => {
    const { manager, library, engine, controller } = monitoring.services;
    const posted: ToCheckpoints[] = [];
    const session = new CheckpointsSession(
      { host, manager, library, engine, resumeFrom: (c, k) => controller.resumeFrom(c, k) },
      (m) => posted.push(m),
      run.key!,
    );
    try {
      await session.refresh();
      const last = posted.at(-1);
      assert.ok(last?.command === 'checkpoints');
      const from = last.rows.at(-1)!;
      await session.handle({ command: 'resume', key: run.key!, checkpoint: from.name });
      const resumed = manager.runs.at(-1)!;
      assert.notEqual(resumed, run);
      await until(() => resumed.lifecycle === 'running' && resumed.progress.step > from.step, 'the resumed run to train');
      assert.equal(resumed.key, run.key, 'the same run folder');
      assert.equal(resumed.progress.setup?.resumedFrom, `checkpoints/${from.name}`);
      await host.run('embedtune.stopTraining', resumed.key);
      await host.run('embedtune.stopTraining', resumed.key);
      await until(() => !resumed.live, 'the kill');
      assert.equal(resumed.lifecycle, 'stopped');
      assert.match(host.messages.at(-1)!.message, /was ended at once\. Its last saved checkpoint is intact\./);
    } finally {
      session.dispose();
    }
  });
});
