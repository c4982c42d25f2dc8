import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TempWorkspace } from '../../helpers/tempWorkspace';
import { buildTinyBert } from '../../helpers/tinyBert';
import { ROOT } from './codeServer';

/** A folder holding a copy of the retrieval example: its config and its data, as a user would have cloned it. */
export function exampleWorkspace(): TempWorkspace {
  const workspace = new TempWorkspace();
  cpSync(join(ROOT, 'examples', 'retrieval'), workspace.root, { recursive: true });
  return workspace;
}

const exampleRows = (file: string, count: number): string =>
  readFileSync(join(ROOT, 'examples', 'retrieval', 'data', file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, count)
    .join('\n') + '\n';

/** The distinct lower-case words of JSONL rows' values. */
function wordsOf(jsonl: string): string[] {
  const rows = jsonl.split('\n').filter(Boolean);
  const text = rows.flatMap((line) => Object.values(JSON.parse(line) as Record<string, unknown>).map(String)).join(' ');
  return [...new Set(text.toLowerCase().match(/[a-z0-9]+/g) ?? [])];
}

/**
 * A folder to train in within seconds: a tiny random BERT (one layer, 32 wide), 64 training and 16 validation rows
 * of the retrieval example, and one config per scenario. `quick` finishes in 16 steps; `long` runs 400 steps
 * (minutes), so that a scenario can stop it or reload the window while it trains.
 */
export function trainingWorkspace(): TempWorkspace {
  const workspace = new TempWorkspace();
  const train = exampleRows('train.jsonl', 64);
  const validation = exampleRows('validation.jsonl', 16);
  // Its words are the data's, as npm run demo's are: a model that reads most words as [UNK] learns nothing in 16 steps,
  // and the dashboard in the README's picture would show a run that never beat its start.
  buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 32, heads: 4, intermediate: 64, vocabWords: wordsOf(train + validation) });
  workspace.write('data/train.jsonl', train);
  workspace.write('data/validation.jsonl', validation);
  workspace.write('quick.embedtune.yaml', trainingConfig('quick', { epochs: 4, every: 4 }));
  workspace.write('long.embedtune.yaml', trainingConfig('long', { epochs: 100, every: 4 }));
  return workspace;
}

function trainingConfig(name: string, { epochs, every }: { epochs: number; every: number }): string {
  return `name: ${name}
model:
  base: ./tiny
  max_seq_length: 24
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
  columns: {anchor: query, positive: passage}
strategy:
  type: full
training:
  epochs: ${epochs}
  batch_size: 16
  learning_rate: 0.002
  warmup: 2
evaluation:
  every: ${every}
  metrics: [ndcg@10, mrr@10]
checkpoints:
  every: ${every}
  keep: 3
# The long run is there to be stopped and reloaded: early stopping, on by default, could end it first.
early_stopping:
  enabled: false
output_dir: runs
`;
}
