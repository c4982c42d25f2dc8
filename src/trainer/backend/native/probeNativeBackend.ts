import { spawn } from 'node:child_process';
import type { LocatedNativePackage } from './locateNativeBackend';
import { describeTensorflowDevices, parseTensorflowDeviceLog, type TensorflowDeviceReport } from './tensorflowDevices';

export interface NativeProbe {
  readonly ok: boolean;
  /** tfjs-node's version and the TensorFlow C library's, e.g. "2.12.1". */
  readonly tfjsNode?: string;
  readonly tensorflow?: string;
  readonly usingGpu?: boolean;
  /** The device line: "CPU (TensorFlow 2.12.1)", "GPU 0: NVIDIA H200, …" or "no GPU found, running on the CPU". */
  readonly device?: string;
  readonly devices?: TensorflowDeviceReport;
  /** Why it does not work: the load error, or a wrong result. */
  readonly error?: string;
  readonly milliseconds: number;
}

/**
 * Loads the package in a child process, the way the trainer will, and checks what the trainer relies on: the
 * "tensorflow" backend is the active one, a matMul is right and tf.grads runs through it. TensorFlow logs at level 0
 * there, so the devices it creates (and the CUDA libraries it cannot load) can be read. A child, because a broken
 * binding can abort the process that loads it, and because a process holds the GPU it initialised.
 */
export function probeNativeBackend(
  located: Pick<LocatedNativePackage, 'folder' | 'variant'>,
  options: { nodePath?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<NativeProbe> {
  const started = Date.now();
  const env = { ...(options.env ?? process.env), TF_CPP_MIN_LOG_LEVEL: '0', ELECTRON_RUN_AS_NODE: '1' };
  return new Promise((resolve) => {
    const child = spawn(options.nodePath ?? process.execPath, ['-e', PROBE_SCRIPT, located.folder], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
      timeout: options.timeoutMs ?? 180_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (error) => resolve({ ok: false, error: error.message, milliseconds: Date.now() - started }));
    child.on('close', (code, signal) => {
      const milliseconds = Date.now() - started;
      const devices = parseTensorflowDeviceLog(stderr);
      const last = stdout.trim().split('\n').pop() ?? '';
      let result: { tfjsNode?: string; tensorflow?: string; usingGpu?: boolean; error?: string } | undefined;
      try {
        result = last.startsWith('{') ? (JSON.parse(last) as typeof result) : undefined;
      } catch {
        result = undefined;
      }
      if (!result || result.error || code !== 0) {
        const why = result?.error ?? lastMeaningfulLine(stderr) ?? `exited with ${signal ?? code}`;
        resolve({ ok: false, error: why, devices, milliseconds });
        return;
      }
      const usingGpu = result.usingGpu === true;
      const device =
        located.variant === 'gpu' ? describeTensorflowDevices(devices, usingGpu) : `CPU (TensorFlow ${result.tensorflow ?? 'C library'})`;
      resolve({ ok: true, tfjsNode: result.tfjsNode, tensorflow: result.tensorflow, usingGpu, device, devices, milliseconds });
    });
  });
}

function lastMeaningfulLine(text: string): string | undefined {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !/^\s*at /.test(line) && !/^[IW]\d{4} /.test(line) && !line.startsWith('Node.js v'));
  return lines.find((line) => /Error/.test(line)) ?? lines.pop();
}

const PROBE_SCRIPT = `
const report = (value) => process.stdout.write('\\n' + JSON.stringify(value) + '\\n');
try {
  console.warn = () => {};
  const tf = require(process.argv[1]);
  if (tf.getBackend() !== 'tensorflow') throw new Error('the active backend is ' + tf.getBackend() + ', not tensorflow');
  const product = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).arraySync().flat();
  if (product.join() !== '19,22,43,50') throw new Error('matMul gave ' + product + ', not 19,22,43,50');
  const [gradient] = tf.grads((x) => x.square().sum())([tf.tensor1d([1, -2, 3])]);
  if (gradient.arraySync().join() !== '2,-4,6') throw new Error('d(sum x^2)/dx gave ' + gradient.arraySync() + ', not 2,-4,6');
  const backend = tf.backend();
  report({ tfjsNode: tf.version['tfjs-node'], tensorflow: backend.binding && backend.binding.TF_Version, usingGpu: backend.isUsingGpuDevice === true });
} catch (error) {
  report({ error: String(error && error.message || error).split('\\n')[0] });
}`;
