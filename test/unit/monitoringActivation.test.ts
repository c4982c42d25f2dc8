import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { ACCELERATE_COMMANDS } from '../../src/extension/accelerate/accelerateCommands';
import { MINE_HARD_NEGATIVES_COMMAND } from '../../src/shared/protocol/mineHardNegatives';
import { PREVIEW_DATA_COMMAND } from '../../src/extension/preview/previewDataCommand';
import { activateMonitoring, MONITORING_COMMANDS, type Monitoring } from '../../src/extension/monitoring/activateMonitoring';
import { UNTRUSTED_MESSAGE } from '../../src/extension/monitoring/trainingController';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { RecordingEditorHost, RecordingPanels } from './support/recordingEditorHost';

const ROOT = resolve(__dirname, '../..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const recorded = readFileSync(join(__dirname, '../webview/fixtures/tiny-run/events.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as RunEvent);

let workspace: TempWorkspace;
let monitoring: Monitoring | undefined;
let sleeper: ChildProcess | undefined;
afterEach(async () => {
  monitoring?.dispose();
  monitoring = undefined;
  if (sleeper && sleeper.exitCode === null && sleeper.signalCode === null) {
    sleeper.kill('SIGKILL');
    await new Promise((r) => sleeper!.once('exit', r));
  }
  workspace?.dispose();
});

function activate(host: RecordingEditorHost, panels = new RecordingPanels(), discoveryMs?: number): Monitoring {
  monitoring = activateMonitoring({
    discoveryMs,
    host,
    cliPath: join(ROOT, 'dist/cli.js'),
    defaultNodePath: process.execPath,
    createPanels: () => panels,
    logDir: workspace.path('.logs'),
    pollMs: 50,
  });
  return monitoring;
}

const until = async (check: () => boolean, what: string, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('activating the monitoring features against the editor host', () => {
  it('registers every command the manifest contributes, each in the EmbedTune category and reachable from the palette', () => {
    workspace = new TempWorkspace();
    const host = new RecordingEditorHost();
    activate(host);
    const configCommands = readFileSync(join(ROOT, 'src/extension/configCommands.ts'), 'utf8');
    const extensionEntry = readFileSync(join(ROOT, 'src/extension/extension.ts'), 'utf8');
    const contributed: { command: string; category: string; title: string }[] = manifest.contributes.commands;
    for (const { command, category } of contributed) {
      assert.equal(category, 'EmbedTune', command);
      // The accelerate commands and the mining quick fix's command are registered beside monitoring in extension.ts
      // (test/unit/accelerateEnvironment.test.ts and test/integration/mineHardNegativesCommand.test.ts run them), as is
      // Preview Training Data (test/integration/previewDataCommand.test.ts).
      const elsewhere =
        configCommands.includes(`'${command}'`) ||
        (ACCELERATE_COMMANDS as readonly string[]).includes(command) ||
        (command === MINE_HARD_NEGATIVES_COMMAND && extensionEntry.includes('registerMineHardNegativesCommand(')) ||
        (command === PREVIEW_DATA_COMMAND && extensionEntry.includes('registerPreviewDataCommand('));
      assert.ok(host.commands.has(command) || elsewhere, `${command} is registered on activation`);
    }
    assert.deepEqual([...host.commands.keys()].sort(), [...MONITORING_COMMANDS].sort());
    for (const command of MONITORING_COMMANDS)
      assert.ok(
        contributed.some((c) => c.command === command),
        `${command} is in the manifest`,
      );
    const menuCommands = Object.values(manifest.contributes.menus as Record<string, { command: string }[]>)
      .flat()
      .map((item) => item.command);
    for (const command of menuCommands)
      assert.ok(
        contributed.some((c) => c.command === command),
        `menu item ${command} is a contributed command`,
      );
    for (const viewType of ['embedtune.dashboard', 'embedtune.checkpoints', 'embedtune.lab'])
      assert.ok(manifest.activationEvents.includes(`onWebviewPanel:${viewType}`), `${viewType} can be restored after a reload`);
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.equal(host.statusItems.length, 1);
    assert.equal(host.statusItems[0]!.visible, false, 'no status bar item until there is a run');
  });

  it('refuses to train in an untrusted workspace, says why, and offers to manage trust', async () => {
    workspace = new TempWorkspace();
    const host = new RecordingEditorHost();
    host.trusted = false;
    host.answers.push('Manage Workspace Trust');
    const { services } = activate(host);
    const config = workspace.write('a.embedtune.yaml', 'model: {base: ./m}\ndata: {train: d.jsonl}\n');
    assert.equal(await host.run('embedtune.startTraining', config), undefined);
    assert.equal(await host.run('embedtune.resumeTraining', config), undefined);
    assert.equal(host.messages[0]?.message, UNTRUSTED_MESSAGE);
    assert.equal(services.manager.runs.length, 0, 'no engine was started');
    await until(() => host.executed.some((e) => e.id === 'workbench.trust.manage'), 'the trust editor');
  });

  it('refuses to start a config with errors, lists them by line, and shows them in Problems', async () => {
    workspace = new TempWorkspace();
    const host = new RecordingEditorHost();
    host.answers.push('Show Problems');
    const { services } = activate(host);
    const config = workspace.write(
      'bad.embedtune.yaml',
      'model:\n  base: ./missing-model\ndata:\n  train: missing.jsonl\ntraining:\n  lerning_rate: 1\n',
    );
    host.activeConfig = config;
    assert.equal(await host.run('embedtune.startTraining'), undefined);
    const [message] = host.messages;
    assert.equal(message?.kind, 'error');
    assert.match(message!.message, /^EmbedTune: bad\.embedtune\.yaml has \d+ error\(s\); training did not start\.$/);
    assert.match(message!.options.detail!, /line 6: Unknown key "lerning_rate"/);
    assert.match(message!.options.detail!, /line 4: .*missing\.jsonl/);
    await until(() => host.problemsShown === 1, 'the Problems view');
    assert.deepEqual(host.opened, [config]);
    assert.equal(services.manager.runs.length, 0);
  });

  it('reattaches on activation to a run still going, shows it in the status bar, and reports it when its process dies', async () => {
    workspace = new TempWorkspace();
    const config = workspace.write('tiny.embedtune.yaml', 'name: tiny\nmodel: {base: ./tiny}\ndata: {train: d.jsonl}\noutput_dir: out\n');
    // A process that stands in for an engine started by an earlier window: alive, named in run.json.
    sleeper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    await new Promise((r) => sleeper!.once('spawn', r));
    const pid = sleeper.pid!;
    const cut = recorded.findIndex((e) => e.type === 'progress' && e.step === 10);
    const events = recorded.slice(0, cut + 1).map((e) => (e.type === 'run_started' ? { ...e, pid } : e));
    workspace.write('out/tiny-1/events.jsonl', events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    workspace.write(
      'out/tiny-1/run.json',
      JSON.stringify({ run_id: 'tiny-1', pid, configPath: config, startedAt: new Date(Date.now() + 1000).toISOString(), state: 'running' }),
    );

    const host = new RecordingEditorHost();
    host.configFiles = [config];
    const panels = new RecordingPanels();
    const { services, reattached } = activate(host, panels);
    await reattached;
    const [run] = services.manager.runs;
    assert.equal(run?.origin, 'attached');
    assert.equal(run?.key, workspace.path('out/tiny-1'));
    const item = host.statusItems[0]!;
    assert.equal(item.visible, true);
    assert.match(item.text, /^\$\(sync~spin\) epoch 2\/4 · 41% · loss \d\.\d{3} · ndcg@10 0\.4301 · \d+ pairs\/s/);
    assert.deepEqual(item.command, { command: 'embedtune.showDashboard', arguments: [run!.key] });
    assert.equal(host.context.get('embedtune.trainingLive'), true);

    await host.run(item.command!.command, ...item.command!.arguments);
    assert.deepEqual(panels.dashboards, [run!.key], 'a click on the status bar opens that run’s dashboard');
    await host.run('embedtune.showCheckpoints', config);
    assert.deepEqual(panels.checkpoints, [run!.key], 'from a config in the Explorer: its newest run');

    host.answers.push('Show Log');
    await host.run('embedtune.stopTraining');
    assert.match(
      host.messages.at(-1)!.message,
      /^EmbedTune: stopping tiny-1: the engine finishes its step and writes a checkpoint\. Stop again to end it at once\.$/,
    );
    // The stand-in does not handle SIGTERM like the engine: it dies without finishing the run, which is a crash.
    await until(() => run!.lifecycle === 'crashed', 'the crash to be noticed');
    await until(() => host.outputShown === 1, 'Show Log');
    const report = host.messages.find((m) => m.kind === 'error')!;
    assert.match(
      report.message,
      /^EmbedTune: tiny-1 crashed: The engine process \(pid \d+\) is gone before the run finished \(at step 10\)\.$/,
    );
    assert.deepEqual(report.actions, ['Show Log', 'Show Dashboard']);
    assert.ok(host.output.some((line) => line.startsWith('[tiny-1] CRASHED: The engine process')));
    assert.match(item.text, /^\$\(error\) crashed at step 10/);
    assert.equal(host.context.get('embedtune.trainingLive'), false);
  });

  it('picks up a run started from the CLI after activation', async () => {
    workspace = new TempWorkspace();
    const config = workspace.write('cli.embedtune.yaml', 'name: cli\nmodel: {base: ./tiny}\ndata: {train: d.jsonl}\n');
    const host = new RecordingEditorHost();
    host.configFiles = [config];
    const { services, reattached } = activate(host, new RecordingPanels(), 100);
    await reattached;
    assert.equal(services.manager.runs.length, 0);
    sleeper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    await new Promise((r) => sleeper!.once('spawn', r));
    const events = recorded.slice(0, 5).map((e) => (e.type === 'run_started' ? { ...e, pid: sleeper!.pid! } : e));
    workspace.write('runs/cli-1/events.jsonl', events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    workspace.write(
      'runs/cli-1/run.json',
      JSON.stringify({
        run_id: 'cli-1',
        pid: sleeper.pid,
        configPath: config,
        startedAt: new Date(Date.now() + 1000).toISOString(),
        state: 'running',
      }),
    );
    await until(() => services.manager.runs.length === 1, 'the CLI run to be found');
    assert.equal(services.manager.runs[0]!.origin, 'attached');
    await until(() => host.statusItems[0]!.visible, 'the status bar to show it');
  });

  it('says so when there is nothing to stop, and uses the node set in embedtune.train.nodePath', async () => {
    workspace = new TempWorkspace();
    const host = new RecordingEditorHost();
    host.settings['train.nodePath'] = '/opt/node/bin/node';
    const { services } = activate(host);
    await host.run('embedtune.stopTraining');
    assert.equal(host.messages[0]?.message, 'EmbedTune: no run is training.');
    assert.equal(services.engine.nodePath, '/opt/node/bin/node');
    assert.equal(services.engine.cliPath, join(ROOT, 'dist/cli.js'));
  });
});
