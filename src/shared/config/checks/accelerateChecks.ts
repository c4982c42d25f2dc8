import type { ConfigDiagnostic } from '../configDiagnostic';
import { localMachineFacts, type MachineFacts } from '../machineFacts';
import { keyRangeOf, valueRangeOf, type ParsedConfig } from '../parsedConfig';
import type { CheckContext, ConfigCheck } from './checkContext';

/** The losses the accelerate engine maps onto sentence-transformers losses (python/embedtune_accelerate/training_data.py). */
export const ACCELERATE_LOSSES: readonly string[] = ['mnrl', 'cached_mnrl', 'cosent', 'cosine', 'contrastive', 'triplet'];

/**
 * Options the accelerate engine has no counterpart for. Launching anyway would train something other than the
 * config says, so each one is an error before launch rather than a silently dropped setting.
 */
export const checkAccelerateCounterparts: ConfigCheck = (context) => [
  ...checkOptionCounterparts(context),
  // Registered with the counterparts so that one entry in validateConfig's list covers the accelerate engine.
  ...checkAccelerateDevices(context),
];

function checkOptionCounterparts({ parsed, view }: CheckContext): ConfigDiagnostic[] {
  if (view.string(['engine', 'type']) !== 'accelerate') return [];
  const diagnostics: ConfigDiagnostic[] = [];
  const unsupported = (path: string[], message: string, at: 'key' | 'value' = 'value') =>
    diagnostics.push({
      range: rangeAt(parsed, path, at),
      severity: 'error',
      code: 'accelerate-option-unsupported',
      message,
      data: { path },
    });

  const task = view.task();
  // Embeddings go through SentenceTransformerTrainer and images through transformers' Trainer; text classifiers and
  // taggers have no trainer there yet.
  if (task !== 'embedding' && task !== 'image-classification') {
    unsupported(
      ['task'],
      `task ${task} has no counterpart in the accelerate engine, which trains sentence embeddings (SentenceTransformerTrainer) and image classifiers (transformers' Trainer); train it with engine.type tfjs.`,
    );
  }
  const loss = view.lossType();
  if (task === 'embedding' && !ACCELERATE_LOSSES.includes(loss)) {
    unsupported(
      ['loss', 'type'],
      `loss.type ${loss} has no counterpart in the accelerate engine; it trains ${ACCELERATE_LOSSES.join(', ')}.`,
    );
  }
  if (view.string(['strategy', 'type']) === 'adapter') {
    unsupported(
      ['strategy', 'type'],
      'strategy.type adapter has no counterpart in the accelerate engine: PEFT has no Houlsby bottleneck adapter. Use lora, or engine.type tfjs for adapters.',
    );
  }
  if (view.string(['training', 'mixed_precision']) === 'fp16' && view.boolean(['engine', 'cpu']) === true) {
    unsupported(
      ['training', 'mixed_precision'],
      'training.mixed_precision fp16 needs a GPU, but engine.cpu trains on the CPU; use bf16 or no.',
    );
  }
  return diagnostics;
}

/**
 * Several processes without engine.cpu start one process per GPU. On a machine with fewer GPUs than the processes
 * it starts, transformers trains each process alone (with none, each on the CPU and on all the rows), and the engine
 * stops the run at launch. The validator can tell only where it runs: the CLI and the language server on the
 * machine that trains. With an accelerate config file, the file decides the devices, so nothing is said.
 */
export function makeAccelerateDeviceCheck(machine: () => MachineFacts): ConfigCheck {
  return ({ parsed, view }) => {
    if (view.string(['engine', 'type']) !== 'accelerate' || view.boolean(['engine', 'cpu']) === true) return [];
    if (view.isSet(['engine', 'config_file'])) return [];
    const processes = view.numberOrDefault(['engine', 'num_processes']);
    const machines = Math.max(1, view.numberOrDefault(['engine', 'num_machines']));
    const perMachine = Math.ceil(processes / machines);
    if (processes <= 1) return [];
    const facts = machine();
    if (facts.cudaDevices === undefined || facts.cudaDevices >= perMachine) return [];
    const started = machines > 1 ? `${perMachine} processes on each of ${machines} machines` : `${processes} processes`;
    const why =
      facts.cudaDevices === 0
        ? `this machine shows no GPU (${facts.evidence})`
        : `this machine shows only ${facts.cudaDevices} GPU(s) (${facts.evidence})`;
    return [
      {
        range: keyRangeOf(parsed, ['engine', 'num_processes']),
        severity: 'warning',
        code: 'accelerate-processes-exceed-gpus',
        message: `engine.num_processes ${processes} starts ${started}, one per GPU, but ${why}, so the run would stop at launch. Set engine.cpu: true to train ${perMachine} processes on the CPU, or run on a machine with ${perMachine} GPUs.`,
        data: {
          path: ['engine', 'num_processes'],
          fixes: [
            {
              title: `Train the ${processes} processes on the CPU (engine.cpu: true)`,
              preferred: true,
              set: [{ path: ['engine', 'cpu'], value: true }],
            },
          ],
        },
      },
    ];
  };
}

export const checkAccelerateDevices: ConfigCheck = makeAccelerateDeviceCheck(() => localMachineFacts());

function rangeAt(parsed: ParsedConfig, path: string[], at: 'key' | 'value') {
  return at === 'key' ? keyRangeOf(parsed, path) : valueRangeOf(parsed, path);
}
