/**
 * `npm run demo`: fine-tunes a model on the bundled retrieval example and shows the metrics before and after.
 * No pretrained weights can ship with the repository and this machine has no model hub, so the demo builds a
 * small random BERT (with a vocabulary from the example data) and trains it fully. With a network or a local
 * Hugging Face cache, set model.base to sentence-transformers/all-MiniLM-L6-v2 instead: that is the real path.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { RunEvent } from '../src/shared/events/runEvents';
import { buildTinyBert } from '../test/helpers/tinyBert';

const ROOT = resolve(__dirname, '..');
const DEMO = join(ROOT, '.demo');
const DATA = join(ROOT, 'examples/retrieval/data');

function vocabularyFromData(): string[] {
  const counts = new Map<string, number>();
  for (const file of ['train.jsonl', 'validation.jsonl']) {
    for (const line of readFileSync(join(DATA, file), 'utf8').split('\n').filter(Boolean)) {
      const row = JSON.parse(line) as Record<string, string>;
      for (const word of Object.values(row)
        .join(' ')
        .toLowerCase()
        .match(/[a-z0-9]+/g) ?? [])
        counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3000)
    .map(([word]) => word);
}

const CONFIG = `# Written by npm run demo. The real quick start uses:
#   model:
#     base: sentence-transformers/all-MiniLM-L6-v2
name: demo-retrieval
model:
  base: ./model
  max_seq_length: 64
data:
  train: ${relative(DEMO, join(DATA, 'train.jsonl'))}
  validation: ${relative(DEMO, join(DATA, 'validation.jsonl'))}
  columns:
    anchor: query
    positive: passage
strategy:
  type: full          # a random model has nothing to preserve; with pretrained weights prefer lora or freeze
loss:
  type: mnrl
training:
  epochs: 6
  batch_size: 32
  learning_rate: 0.001
  warmup: 0.1
  seed: 7
evaluation:
  every: epoch
  metrics: [ndcg@10, mrr@10, recall@5]
checkpoints:
  every: epoch
  keep: 2
output_dir: runs
`;

async function main(): Promise<void> {
  rmSync(DEMO, { recursive: true, force: true });
  mkdirSync(DEMO, { recursive: true });
  buildTinyBert(join(DEMO, 'model'), {
    layers: 2,
    hidden: 64,
    heads: 4,
    intermediate: 128,
    maxPositions: 128,
    vocabWords: vocabularyFromData(),
    seed: 3,
  });
  writeFileSync(join(DEMO, 'demo.embedtune.yaml'), CONFIG);
  console.log(
    `demo: built a small random BERT in ${relative(ROOT, join(DEMO, 'model'))}; training with ${relative(ROOT, join(DEMO, 'demo.embedtune.yaml'))}\n`,
  );

  const child = spawn(process.execPath, [join(ROOT, 'dist/cli.js'), 'train', 'demo.embedtune.yaml'], { cwd: DEMO, stdio: 'inherit' });
  const code = await new Promise<number | null>((resolveExit) => child.on('exit', resolveExit));
  if (code !== 0) throw new Error(`embedtune train exited with ${code}`);

  const runs = join(DEMO, 'runs');
  const run = join(runs, readdirSync(runs).sort().at(-1)!);
  const events = readFileSync(join(run, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunEvent);
  const evals = events.filter((e): e is Extract<RunEvent, { type: 'eval' }> => e.type === 'eval');
  const before = evals[0]!.metrics;
  const best = evals.filter((e) => e.is_best).at(-1) ?? evals.at(-1)!;
  console.log('\nmetric        before   after');
  for (const name of Object.keys(before))
    console.log(`${name.padEnd(12)}  ${(before[name] ?? NaN).toFixed(4)}   ${(best.metrics[name] ?? NaN).toFixed(4)}`);
  console.log(`\nbest checkpoint: ${relative(ROOT, join(run, readFileSync(join(run, 'best'), 'utf8').trim()))}`);
  console.log(`sentence-transformers model: ${relative(ROOT, join(run, 'model'))}`);
  console.log(`events: ${relative(ROOT, join(run, 'events.jsonl'))}`);
}

main().catch((error: unknown) => {
  console.error(`demo: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
