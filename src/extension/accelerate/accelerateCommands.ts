import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { resolvePython } from '../../shared/config/pythonInterpreter';
import type { Disposable } from '../emitter';
import type { EditorHost } from '../host/editorHost';
import { lastLines, runEngineCommand, type EngineCommand } from '../runs/engineProcess';
import {
  checkPythonEnvironment,
  formatEnvironmentReport,
  readPinnedRequirements,
  runProcess,
  venvPython,
  venvSetupSteps,
} from './pythonEnvironment';

/** The commands this module registers; the manifest contributes each one under the "EmbedTune" category. */
export const ACCELERATE_COMMANDS = ['embedtune.checkPythonEnvironment', 'embedtune.previewLaunchCommand'] as const;

/** The setting (under `embedtune.`) that names the accelerate engine's interpreter. Restricted in untrusted workspaces. */
export const PYTHON_PATH_SETTING = 'accelerate.pythonPath';

export interface AccelerateCommandOptions {
  readonly host: EditorHost;
  readonly engine: EngineCommand;
  /** python/embedtune_accelerate/requirements.txt of this extension. */
  readonly requirementsPath: string;
  readonly workspaceFolder: () => string | undefined;
  /** Saves a setting in the workspace, so that a new virtual environment is used from then on. */
  readonly updateSetting: (key: string, value: string) => Promise<void>;
  /** The environment the engine is started in; the setting is passed to it as EMBEDTUNE_PYTHON. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Passes `embedtune.accelerate.pythonPath` to the engine processes the editor starts, as EMBEDTUNE_PYTHON in the
 * extension host's environment (the run manager starts the CLI with that environment). A relative path is relative
 * to the workspace folder. Call it on activation and whenever the setting changes.
 */
export function applyPythonSetting(host: EditorHost, workspaceFolder: string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  const value = host.setting<string>(PYTHON_PATH_SETTING, '').trim();
  if (value === '') delete env['EMBEDTUNE_PYTHON'];
  else env['EMBEDTUNE_PYTHON'] = isAbsolute(value) || !/[\\/]/.test(value) || !workspaceFolder ? value : resolve(workspaceFolder, value);
}

export function registerAccelerateCommands(options: AccelerateCommandOptions): Disposable[] {
  const { host } = options;
  const env = options.env ?? process.env;

  /** The interpreter a run of this config would use (engine.python, then the setting, then python3). */
  const pythonFor = (configPath: string | undefined): string => {
    let written: string | undefined;
    if (configPath) {
      try {
        const value = parse(readFileSync(configPath, 'utf8')) as { engine?: { python?: unknown } } | null;
        if (typeof value?.engine?.python === 'string') written = value.engine.python;
      } catch {
        // An unreadable config says nothing about its Python; the setting decides.
      }
    }
    return resolvePython(written, configPath ? dirname(configPath) : (options.workspaceFolder() ?? process.cwd()), env);
  };

  const refuseUntrusted = (): boolean => {
    if (host.isWorkspaceTrusted()) return false;
    void host.showMessage(
      'warning',
      'EmbedTune: Python is not run in an untrusted workspace. Trust the workspace to check or set up the accelerate engine.',
    );
    return true;
  };

  const checkEnvironment = async (resource?: unknown): Promise<void> => {
    if (refuseUntrusted()) return;
    const configPath = await host.configFor(resource).catch(() => undefined);
    const python = pythonFor(configPath);
    const pinned = readPinnedRequirements(options.requirementsPath);
    const report = await host.withProgress(`EmbedTune: checking ${python}`, () =>
      checkPythonEnvironment(python, pinned, options.workspaceFolder()),
    );
    host.appendOutput(['[EmbedTune] Python environment for engine: accelerate', ...formatEnvironmentReport(report)]);
    const missing = report.packages.filter((p) => p.state === 'missing').map((p) => p.name);
    const other = report.packages
      .filter((p) => p.state === 'other-version')
      .map((p) => `${p.name} ${p.installed} (tested with ${p.version})`);
    if (report.pythonVersion !== null && missing.length === 0 && other.length === 0) {
      void host.showMessage('info', `EmbedTune: ${python} has everything the accelerate engine needs (Python ${report.pythonVersion}).`);
      return;
    }
    const problem =
      report.pythonVersion === null
        ? `${python} could not be run.`
        : [missing.length > 0 ? `missing ${missing.join(', ')}` : '', other.length > 0 ? `other versions: ${other.join(', ')}` : '']
            .filter(Boolean)
            .join('; ');
    const create = 'Create Virtual Environment…';
    const details = 'Show Details';
    const choice = await host.showMessage(
      'warning',
      `EmbedTune: the accelerate engine's Python (${python}): ${problem}`,
      {},
      create,
      details,
    );
    if (choice === details) host.showOutput();
    if (choice === create) await createEnvironment(report.pythonVersion === null ? 'python3' : python);
  };

  const createEnvironment = async (basePython: string): Promise<void> => {
    const parent = await host.pickFile({
      title: 'Folder for the virtual environment (.venv-embedtune is created inside)',
      folders: true,
      ...(options.workspaceFolder() ? { defaultPath: options.workspaceFolder()! } : {}),
    });
    if (!parent) return;
    const venv = join(parent, '.venv-embedtune');
    host.showOutput();
    const ok = await host.withProgress(`EmbedTune: creating ${venv} and installing the pinned packages (torch is large)`, async () => {
      for (const step of venvSetupSteps(basePython, venv, options.requirementsPath)) {
        host.appendOutput([`$ ${[step.executable, ...step.args].join(' ')}`]);
        const result = await runProcess(step.executable, step.args, parent, (line) => host.appendOutput([line]));
        if (result.code !== 0) {
          host.appendOutput([result.error ?? `exited with code ${result.code}`]);
          return false;
        }
      }
      return true;
    });
    if (!ok) {
      void host.showMessage('error', `EmbedTune: setting up ${venv} failed; the EmbedTune Training output has pip's messages.`);
      return;
    }
    await options.updateSetting(PYTHON_PATH_SETTING, venvPython(venv));
    applyPythonSetting(host, options.workspaceFolder(), env);
    void host.showMessage('info', `EmbedTune: ${venv} is ready; embedtune.accelerate.pythonPath now points at it.`);
  };

  const previewLaunchCommand = async (resource?: unknown): Promise<void> => {
    if (refuseUntrusted()) return;
    const configPath = await host.configFor(resource);
    if (!configPath) {
      void host.showMessage('warning', 'EmbedTune: open a *.embedtune.yaml or *.embedtune.json file with engine.type accelerate first.');
      return;
    }
    const result = await runEngineCommand(options.engine, ['train', configPath, '--print-launch-command'], dirname(configPath));
    if (result.code !== 0) {
      host.appendOutput(lastLines(`${result.stderr}\n${result.stdout}`, 20));
      host.showOutput();
      void host.showMessage(
        'error',
        `EmbedTune: no launch command for this config: ${lastLines(result.stderr, 1)[0] ?? `exit code ${result.code}`}`,
      );
      return;
    }
    const line = result.stdout.trim();
    host.appendOutput(['[EmbedTune] embedtune train would run:', line]);
    host.showOutput();
    void host.showMessage('info', 'EmbedTune: the launch command is in the EmbedTune Training output.', { modal: true, detail: line });
  };

  return [
    host.registerCommand('embedtune.checkPythonEnvironment', checkEnvironment),
    host.registerCommand('embedtune.previewLaunchCommand', previewLaunchCommand),
  ];
}
