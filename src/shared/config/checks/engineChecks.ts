import type { ConfigDiagnostic } from '../configDiagnostic';
import { keyRangeOf, valueRangeOf } from '../parsedConfig';
import type { ConfigCheck } from './checkContext';

const ACCELERATE_ONLY = [
  'num_processes',
  'num_machines',
  'machine_rank',
  'main_process_ip',
  'main_process_port',
  'config_file',
  'cpu',
  'python',
];
const TFJS_ONLY = ['backend'];

/** TensorFlow.js has no float16 or bfloat16 kernels on any backend, so mixed precision needs the accelerate engine. */
export const checkMixedPrecision: ConfigCheck = ({ parsed, view }) => {
  const precision = view.stringOrDefault(['training', 'mixed_precision']);
  const engine = view.stringOrDefault(['engine', 'type']);
  if (precision === 'no' || engine !== 'tfjs') return [];
  return [
    {
      range: valueRangeOf(parsed, ['training', 'mixed_precision']),
      severity: 'error',
      code: 'mixed-precision-unsupported',
      message: `training.mixed_precision ${precision} needs engine.type accelerate: no TensorFlow.js backend has ${precision} kernels.`,
      data: {
        path: ['training', 'mixed_precision'],
        fixes: [
          {
            title: 'Train in full precision (mixed_precision: no)',
            preferred: true,
            set: [{ path: ['training', 'mixed_precision'], value: 'no' }],
          },
          { title: 'Use the accelerate engine', set: [{ path: ['engine', 'type'], value: 'accelerate' }] },
        ],
      },
    },
  ];
};

export const checkEngineOptions: ConfigCheck = ({ parsed, view }) => {
  const engine = view.stringOrDefault(['engine', 'type']);
  const ignored = engine === 'tfjs' ? ACCELERATE_ONLY : TFJS_ONLY;
  const owner = engine === 'tfjs' ? 'accelerate' : 'tfjs';
  const diagnostics: ConfigDiagnostic[] = [];
  for (const option of ignored) {
    if (!view.isSet(['engine', option])) continue;
    diagnostics.push({
      range: keyRangeOf(parsed, ['engine', option]),
      severity: 'warning',
      code: 'engine-option-ignored',
      message: `engine.${option} applies only to engine.type ${owner}; the ${engine} engine ignores it.`,
      data: { path: ['engine', option] },
    });
  }
  const python = view.raw(['engine', 'python']);
  if (engine === 'accelerate' && typeof python === 'string') {
    // The editor asks before running it in an untrusted workspace; the CLI cannot ask, so validate says it plainly.
    diagnostics.push({
      range: valueRangeOf(parsed, ['engine', 'python']),
      severity: 'information',
      code: 'engine-python-executable',
      message: `engine.python names a program that embedtune train runs: ${JSON.stringify(python)}${/[\\/]/.test(python) ? " (relative to the config's folder)" : ' (found on PATH)'}. Check it before training a config you did not write.`,
      data: { path: ['engine', 'python'] },
    });
  }
  if (
    engine === 'accelerate' &&
    view.numberOrDefault(['engine', 'num_machines']) > 1 &&
    !view.isSet(['engine', 'main_process_ip']) &&
    !view.isSet(['engine', 'config_file'])
  ) {
    diagnostics.push({
      range: keyRangeOf(parsed, ['engine', 'num_machines']),
      severity: 'error',
      code: 'accelerate-rendezvous-missing',
      message: 'engine.num_machines > 1 needs engine.main_process_ip (or an accelerate config_file) so that the machines can find rank 0.',
      data: { path: ['engine', 'main_process_ip'] },
    });
  }
  return diagnostics;
};
