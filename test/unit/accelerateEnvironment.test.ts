import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { ACCELERATE_COMMANDS, applyPythonSetting, registerAccelerateCommands } from '../../src/extension/accelerate/accelerateCommands';
import {
  checkPythonEnvironment,
  readPinnedRequirements,
  venvPython,
  venvSetupSteps,
} from '../../src/extension/accelerate/pythonEnvironment';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';
import { RecordingEditorHost } from './support/recordingEditorHost';

const ROOT = resolve(__dirname, '../..');
const REQUIREMENTS = join(ROOT, 'python/embedtune_accelerate/requirements.txt');
const CLI = join(ROOT, 'dist/cli.js');
const PEERS_PYTHON = join(process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache', 'embedtune', 'py-peers'), 'bin', 'python');

describe('the Python environment of the accelerate engine', () => {
  it('pins every package the Python entry point imports', () => {
    const names = readPinnedRequirements(REQUIREMENTS).map((p) => p.name);
    for (const name of ['torch', 'transformers', 'sentence-transformers', 'accelerate', 'datasets', 'peft'])
      assert.ok(names.includes(name), name);
  });

  it('reports an interpreter that cannot run, and every package as missing', async () => {
    const report = await checkPythonEnvironment('/nonexistent/bin/python', readPinnedRequirements(REQUIREMENTS));
    assert.equal(report.pythonVersion, null);
    assert.match(report.failure ?? '', /could not be started/);
    assert.ok(report.packages.every((p) => p.state === 'missing'));
  });

  it(
    'reads installed versions from a real interpreter, treating a local build tag as the same release',
    { skip: existsSync(PEERS_PYTHON) ? false : `no Python peers at ${PEERS_PYTHON}` },
    async () => {
      const report = await checkPythonEnvironment(PEERS_PYTHON, [
        { name: 'torch', version: '2.15.0' },
        { name: 'accelerate', version: '0.0.1' },
        { name: 'no-such-package-embedtune', version: '1.0' },
      ]);
      assert.match(report.pythonVersion ?? '', /^3\.\d+\.\d+$/);
      assert.deepEqual(
        report.packages.map((p) => p.state),
        ['ok', 'other-version', 'missing'],
      );
    },
  );

  it('creates a virtual environment with the interpreter asked for, then installs the pinned file into it', () => {
    const steps = venvSetupSteps('/usr/bin/python3', '/w/.venv-embedtune', REQUIREMENTS);
    assert.deepEqual(steps[0], { executable: '/usr/bin/python3', args: ['-m', 'venv', '/w/.venv-embedtune'] });
    assert.equal(steps[1]!.executable, venvPython('/w/.venv-embedtune'));
    assert.deepEqual(steps[1]!.args.slice(-2), ['-r', REQUIREMENTS]);
    assert.equal(venvPython('C:\\w\\v', 'win32'), join('C:\\w\\v', 'Scripts', 'python.exe'));
  });
});

describe('the accelerate commands in the editor', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  function setUp(settings: Record<string, unknown> = {}) {
    const host = new RecordingEditorHost();
    host.settings = settings;
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env['EMBEDTUNE_PYTHON'];
    const saved: [string, string][] = [];
    registerAccelerateCommands({
      host,
      engine: { nodePath: process.execPath, cliPath: CLI },
      requirementsPath: REQUIREMENTS,
      workspaceFolder: () => workspace.root,
      updateSetting: async (key, value) => void saved.push([key, value]),
      env,
    });
    return { host, env, saved };
  }

  it('registers the commands the manifest contributes', () => {
    const { host } = setUp();
    assert.deepEqual([...host.commands.keys()].sort(), [...ACCELERATE_COMMANDS].sort());
  });

  it('passes embedtune.accelerate.pythonPath to the engine as EMBEDTUNE_PYTHON, relative to the workspace folder', () => {
    const host = new RecordingEditorHost();
    const env: NodeJS.ProcessEnv = {};
    host.settings = { 'accelerate.pythonPath': '.venv/bin/python' };
    applyPythonSetting(host, '/work/space', env);
    assert.equal(env['EMBEDTUNE_PYTHON'], join('/work/space', '.venv/bin/python'));
    host.settings = { 'accelerate.pythonPath': '' };
    applyPythonSetting(host, '/work/space', env);
    assert.equal(env['EMBEDTUNE_PYTHON'], undefined);
  });

  it('says what is wrong with the configured Python and offers to create a virtual environment', async () => {
    const { host, env } = setUp({ 'accelerate.pythonPath': '/nonexistent/python' });
    applyPythonSetting(host, workspace.root, env);
    host.answers.push('Show Details');
    await host.run('embedtune.checkPythonEnvironment');
    const shown = host.messages.at(-1)!;
    assert.equal(shown.kind, 'warning');
    assert.match(shown.message, /\/nonexistent\/python could not be run/);
    assert.deepEqual(shown.actions, ['Create Virtual Environment…', 'Show Details']);
    assert.equal(host.outputShown, 1);
    assert.ok(host.output.some((line) => line.includes('/nonexistent/python could not be run')));
  });

  it('runs no Python in an untrusted workspace', async () => {
    const { host } = setUp();
    host.trusted = false;
    await host.run('embedtune.checkPythonEnvironment');
    await host.run('embedtune.previewLaunchCommand');
    assert.equal(host.messages.length, 2);
    assert.ok(host.messages.every((m) => m.kind === 'warning' && /untrusted/.test(m.message)));
  });

  it(
    "previews the exact launch command of the active config through the engine's CLI",
    { skip: existsSync(CLI) ? false : 'dist/cli.js is not built' },
    async () => {
      workspace.write('data/train.jsonl', pairsJsonl(8));
      const config = workspace.write(
        'p.embedtune.yaml',
        'model: {base: sentence-transformers/all-MiniLM-L6-v2}\ndata: {train: data/train.jsonl}\nengine: {type: accelerate, cpu: true, num_processes: 2, python: /opt/py/bin/python}\n',
      );
      const { host } = setUp();
      host.activeConfig = config;
      await host.run('embedtune.previewLaunchCommand');
      const line = host.output.at(-1)!;
      assert.match(line, /ACCELERATE_USE_CPU=true \/opt\/py\/bin\/python -m accelerate\.commands\.launch --multi_gpu --num_processes 2 /);
      assert.equal(host.messages.at(-1)!.options.detail, line);
    },
  );
});
