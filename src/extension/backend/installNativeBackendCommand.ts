import { spawn } from 'node:child_process';
import type { EditorHost } from '../host/editorHost';
import { engineEnvironment, type EngineCommand } from '../runs/engineProcess';
import type { CancellableProgress } from './cancellableProgress';

export const INSTALL_NATIVE_BACKEND_COMMAND = 'embedtune.installNativeBackend';

export type NativeVariantChoice = 'cpu' | 'gpu';

export interface InstallCommandOptions {
  readonly host: EditorHost;
  readonly engine: EngineCommand;
  readonly progress: CancellableProgress;
  /** The environment the engine starts from; the editor's own by default. */
  readonly baseEnvironment?: NodeJS.ProcessEnv;
}

export type InstallOutcome = 'installed' | 'failed' | 'cancelled' | 'dismissed';

/**
 * EmbedTune: Install Native Backend…: asks cpu or gpu, then runs `embedtune backend install` with the engine's Node
 * (an argument array, no shell) under a progress notification with Cancel, and writes every line to the Output
 * channel. The install lands in the per-user cache, where the next training run finds it with no reload.
 */
export async function installNativeBackend(options: InstallCommandOptions, preset?: unknown): Promise<InstallOutcome> {
  const { host } = options;
  const variant =
    preset === 'cpu' || preset === 'gpu'
      ? preset
      : await host.pick<NativeVariantChoice>(
          [
            {
              label: 'CPU: @tensorflow/tfjs-node',
              description: 'TensorFlow on the CPU, several times faster than WebAssembly',
              detail:
                "npm's own libtensorflow download, or else a build against PyPI's tensorflow-cpu 2.12.1 (needs g++, make, Python 3 with pip; about 1 GB)",
              value: 'cpu',
            },
            {
              label: 'NVIDIA GPU: @tensorflow/tfjs-node-gpu',
              description: 'TensorFlow on a CUDA GPU, and on the CPU where it finds none',
              detail:
                "A build against PyPI's tensorflow 2.20 with the CUDA 12.5 and cuDNN 9.3 wheels (needs the NVIDIA driver, g++, make, Python 3 with pip; about 8 GB)",
              value: 'gpu',
            },
          ],
          { title: 'Install the native TensorFlow backend', placeholder: 'Which backend?' },
        );
  if (!variant) return 'dismissed';
  host.appendOutput([`== EmbedTune: installing the native TensorFlow backend (${variant})`]);
  const result = await options.progress(`EmbedTune: installing the native backend (${variant})`, (report, signal) =>
    runInstall(options, variant, report, signal),
  );
  if (result.code === 0) {
    const device = result.lines.find((line) => line.startsWith('Device: '))?.slice('Device: '.length);
    void host.showMessage(
      'info',
      `The native TensorFlow backend is installed${device ? `, on ${device}` : ''}. The next training run uses it.`,
    );
    return 'installed';
  }
  if (result.cancelled) {
    void host.showMessage('warning', 'Native backend install cancelled. Training goes on using WebAssembly.');
    return 'cancelled';
  }
  const reasons = result.lines.filter((line) => /^\s+(npm|wheel-build): /.test(line)).map((line) => line.trim());
  void host
    .showMessage(
      'error',
      `The native TensorFlow backend could not be installed; training goes on using WebAssembly.`,
      { detail: reasons.join('\n') || result.lines.slice(-3).join('\n') },
      'Show Log',
    )
    .then((choice) => {
      if (choice === 'Show Log') host.showOutput();
    });
  return 'failed';
}

interface RunResult {
  readonly code: number | null;
  readonly cancelled: boolean;
  readonly lines: readonly string[];
}

function runInstall(
  options: InstallCommandOptions,
  variant: NativeVariantChoice,
  report: (message: string) => void,
  signal: AbortSignal,
): Promise<RunResult> {
  const { host, engine } = options;
  return new Promise((resolve) => {
    const child = spawn(engine.nodePath, [engine.cliPath, 'backend', 'install', variant], {
      env: engineEnvironment(options.baseEnvironment ?? process.env, engine),
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const lines: string[] = [];
    const onLine = (line: string) => {
      lines.push(line);
      host.appendOutput([line]);
      const step = /^== \d\. (.*)$/.exec(line)?.[1] ?? /^ {3}(\S.*)…$/.exec(line)?.[1];
      if (step) report(step);
    };
    for (const stream of [child.stdout, child.stderr]) {
      let pending = '';
      stream.setEncoding('utf8').on('data', (chunk: string) => {
        const parts = (pending + chunk).split(/\r?\n/);
        pending = parts.pop() ?? '';
        parts.filter((part) => part.trim() !== '').forEach(onLine);
      });
      stream.on('end', () => pending.trim() !== '' && onLine(pending));
    }
    // The CLI turns SIGTERM into a cancel: it stops npm, pip or the compiler and leaves no install record.
    const cancel = () => child.kill('SIGTERM');
    signal.addEventListener('abort', cancel, { once: true });
    child.on('error', (error) => {
      onLine(`Could not start ${engine.nodePath}: ${error.message}`);
      resolve({ code: null, cancelled: false, lines });
    });
    child.on('close', (code) => {
      signal.removeEventListener('abort', cancel);
      resolve({ code, cancelled: signal.aborted, lines });
    });
  });
}
