/**
 * A fine-tuned all-mpnet-base-v2 round trip: `embedtune train` (a real child process) fine-tunes the real model for two
 * steps, and the model/ folder it exports loads in Python's `SentenceTransformer(path)` and encodes to the vectors
 * `embedtune encode` gives, within 1e-5. The fine-tune must have moved the vectors well beyond that, so that an export
 * of the untouched base model would fail. Run with `npm run test:parity`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { cli, ensureBuilt, exampleRows, trainWithEmbedTune } from './embedtuneRuns';
import { maxAbsDifference, mpnetFolder, mpnetProblem, peerVersions, runReference } from './pythonPeers';
import { PARITY_BACKEND } from './parityBackend';

const TOLERANCE = 1e-5;
/** Two steps at lr 1e-4 move some component of these vectors by far more than this. */
const CHANGED = 100 * TOLERANCE;
const SENTENCES = [
  'How do I reset my password?',
  'Café au lait, naïve résumé, façade and jalapeño.',
  '東京は日本の首都です。',
  'I love pizza 🍕 and tacos 🌮!',
  '',
  Array.from({ length: 20 }, (_, i) => `clause ${i} keeps going with more words about models and vectors`).join('; '),
];

interface EncodeAnswer {
  readonly embeddings: number[][];
  readonly modules: string[];
  readonly max_seq_length: number;
}

function encodeWithEmbedTune(model: string, workspace: TempWorkspace, name: string): number[][] {
  const input = workspace.write(`${name}.txt`, `${SENTENCES.join('\n')}\n`);
  const output = workspace.path(`${name}.jsonl`);
  cli(['encode', model, '--in', input, '--out', output, '--backend', PARITY_BACKEND], workspace.root);
  return readFileSync(output, 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { embedding: number[] }).embedding);
}

describe(
  'a fine-tuned all-mpnet-base-v2 exports to a folder sentence-transformers loads with the same vectors',
  { skip: mpnetProblem },
  () => {
    const workspace = new TempWorkspace();
    let runDir = '';
    before(() => {
      ensureBuilt();
      workspace.write('train.jsonl', exampleRows('examples/retrieval/data/train.jsonl', 8));
      workspace.write('validation.jsonl', exampleRows('examples/retrieval/data/validation.jsonl', 4));
      const config = workspace.write(
        'run.embedtune.yaml',
        `name: mpnet-export
task: embedding
model:
  base: ${mpnetFolder()}
  max_seq_length: 48
data:
  train: train.jsonl
  validation: validation.jsonl
  columns: {anchor: query, positive: passage}
training:
  epochs: 1
  batch_size: 4
  learning_rate: 0.0001
  warmup: 0
evaluation:
  every: 100
checkpoints:
  every: 100
engine:
  type: tfjs
  backend: ${PARITY_BACKEND}
output_dir: runs
`,
      );
      runDir = trainWithEmbedTune(config).runDir;
    });
    after(() => workspace.dispose());

    it('SentenceTransformer(model/) encodes as embedtune encode does, and the fine-tune changed the vectors', (t) => {
      const model = join(runDir, 'model');
      const python = runReference<EncodeAnswer>('encode.py', { model, texts: SENTENCES, embed: true, batch_size: 8 });
      assert.deepEqual(python.modules, ['Transformer', 'Pooling', 'Normalize']);
      assert.equal(python.max_seq_length, 48);
      const config = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(config['model_type'], 'mpnet');
      const ours = encodeWithEmbedTune(model, workspace, 'exported');
      const base = runReference<EncodeAnswer>('encode.py', { model: mpnetFolder(), texts: SENTENCES, embed: true, batch_size: 8 });
      // The short sentences only: the long one is cut at 48 tokens in the export and at 384 in the base model.
      const moved = maxAbsDifference(python.embeddings.slice(0, -1), base.embeddings.slice(0, -1));
      const worst = maxAbsDifference(ours, python.embeddings);
      t.diagnostic(
        `max |EmbedTune − sentence-transformers| on the export = ${worst.value.toExponential(2)}; the fine-tune moved a component by ${moved.value.toExponential(2)} from the base model's on the short sentences; ${PARITY_BACKEND}; ${peerVersions()}`,
      );
      assert.ok(moved.value > CHANGED, 'two steps of fine-tuning changed the vectors');
      assert.ok(
        worst.value <= TOLERANCE,
        `the exported all-mpnet-base-v2 encodes differently in sentence-transformers: ${worst.value} at sentence #${worst.row}`,
      );
    });
  },
);
