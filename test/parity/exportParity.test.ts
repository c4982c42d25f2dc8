/**
 * Export round trip: the model folders EmbedTune writes load in Python's `SentenceTransformer(path)` and encode to the
 * vectors `embedtune encode` gives (1e-5), and a LoRA adapter written with `embedtune export --adapter-only` loads
 * with peft's `PeftModel.from_pretrained` and gives the vectors of the LoRA checkpoint. Models are tiny BERTs trained
 * for a few steps with `embedtune train` as a child process. Run with `npm run test:parity`.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { TextTokenizer } from '../../src/trainer/model/textTokenizer';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';
import { cli, ensureBuilt, exampleRows, trainWithEmbedTune } from './embedtuneRuns';
import { maxAbsDifference, peersProblem, peerVersions, runReference } from './pythonPeers';
import { PARITY_BACKEND } from './parityBackend';

/** Largest absolute difference allowed between any two vector components. */
const TOLERANCE = 1e-5;
/** How far four LoRA steps at least move some vector component: far above TOLERANCE, so an adapter left unapplied shows. */
const CHANGED = 10 * TOLERANCE;

/**
 * Texts for the round trip: casing, accents, punctuation, digits, other scripts, emoji, an empty line, and a text
 * longer than max_seq_length. One per line, as `embedtune encode` reads them.
 */
const SENTENCES = [
  'How do I reset my password?',
  'THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG!',
  'Café au lait, naïve résumé, façade and jalapeño.',
  'In 1969, 3 astronauts flew about 384,400 km to the Moon.',
  '東京は日本の首都です。 北京是中国的首都。',
  'I love pizza 🍕 and tacos 🌮!',
  'def square(x): return x ** 2  # Python',
  '',
  'a',
  Array.from({ length: 30 }, (_, i) => `clause ${i} keeps going with more words about models and vectors`).join('; '),
];

interface EncodeAnswer {
  readonly embeddings: number[][];
  readonly input_ids: number[][];
  readonly max_seq_length: number;
  readonly modules: string[];
}

function trainingConfig(strategy: string): string {
  return `name: export-parity
task: embedding
model:
  base: ./tiny
  max_seq_length: 32
data:
  train: train.jsonl
  validation: validation.jsonl
  columns: {anchor: query, positive: passage}
strategy:
${strategy}
training:
  epochs: 1
  batch_size: 16
  learning_rate: 0.001
  warmup: 1
evaluation:
  every: 2
  metrics: [ndcg@10]
checkpoints:
  every: 2
  keep: 10
engine:
  type: tfjs
  backend: ${PARITY_BACKEND}
output_dir: runs
`;
}

/** Trains a tiny random BERT for four steps as a real child process and returns the run folder. */
function trainTinyRun(workspace: TempWorkspace, strategy: string): string {
  buildTinyBert(workspace.path('tiny'), { layers: 2, hidden: 32, heads: 4, intermediate: 64, seed: 7 });
  workspace.write('train.jsonl', exampleRows('examples/retrieval/data/train.jsonl', 64));
  workspace.write('validation.jsonl', exampleRows('examples/retrieval/data/validation.jsonl', 16));
  return trainWithEmbedTune(workspace.write('run.embedtune.yaml', trainingConfig(strategy))).runDir;
}

function encodeWithEmbedTune(model: string, workspace: TempWorkspace, name: string): number[][] {
  const input = workspace.write(`${name}.txt`, `${SENTENCES.join('\n')}\n`);
  const output = workspace.path(`${name}.jsonl`);
  cli(['encode', model, '--in', input, '--out', output, '--backend', PARITY_BACKEND], workspace.root);
  const rows = readFileSync(output, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { text: string; embedding: number[] });
  assert.deepEqual(
    rows.map((row) => row.text),
    SENTENCES,
    'embedtune encode wrote one row per input line, in order',
  );
  return rows.map((row) => row.embedding);
}

function encodeWithSentenceTransformers(model: string): EncodeAnswer {
  return runReference<EncodeAnswer>('encode.py', { model, texts: SENTENCES, embed: true, batch_size: 32 });
}

/**
 * Asserts the vectors agree to TOLERANCE; when they do not, the message says whether the token ids already differ
 * (a tokenizer problem) or only the vectors do (the encoder or pooling).
 */
function assertSameVectors(t: TestContext, model: string, ours: number[][], python: EncodeAnswer): void {
  const worst = maxAbsDifference(ours, python.embeddings);
  t.diagnostic(
    `${model}: max |EmbedTune − sentence-transformers| = ${worst.value.toExponential(3)} over ${SENTENCES.length} sentences; ${peerVersions()}`,
  );
  if (worst.value <= TOLERANCE) return;
  const tokenizer = TextTokenizer.fromFolder(model);
  const mismatched = SENTENCES.filter(
    (text, i) => tokenizer.encode(text, python.max_seq_length).ids.join(',') !== python.input_ids[i]!.join(','),
  );
  const where =
    mismatched.length > 0
      ? `the token ids already differ for ${mismatched.length} sentence(s), e.g. ${JSON.stringify(mismatched[0]!.slice(0, 60))}`
      : 'the token ids agree for every sentence, so the difference is in the encoder or the pooling';
  assert.fail(
    `A user would get different vectors from EmbedTune than from SentenceTransformer(${model}): max abs diff ${worst.value.toExponential(3)} > ${TOLERANCE}, ` +
      `at sentence #${worst.row} ${JSON.stringify(SENTENCES[worst.row]?.slice(0, 60))}, component ${worst.column}; ${where}.`,
  );
}

describe('export round trip with sentence-transformers and peft', { skip: peersProblem }, () => {
  before(() => ensureBuilt());

  describe('a tiny BERT fine-tuned with embedtune train (full strategy)', () => {
    const workspace = new TempWorkspace();
    let runDir = '';
    before(() => {
      runDir = trainTinyRun(workspace, '  type: full');
    });
    after(() => workspace.dispose());

    it("writes model/, which SentenceTransformer loads and encodes to EmbedTune's vectors", (t) => {
      const model = join(runDir, 'model');
      const python = encodeWithSentenceTransformers(model);
      assert.deepEqual(python.modules, ['Transformer', 'Pooling', 'Normalize']);
      assertSameVectors(t, model, encodeWithEmbedTune(model, workspace, 'trained'), python);
    });

    it('exports a checkpoint with embedtune export to a folder that SentenceTransformer loads and that encodes as the checkpoint does', (t) => {
      const checkpoint = join(runDir, 'checkpoints', 'step-2');
      assert.ok(existsSync(checkpoint), `${checkpoint} exists`);
      const exported = workspace.path('exported-step-2');
      cli(['export', checkpoint, '--out', exported], workspace.root);
      const python = encodeWithSentenceTransformers(exported);
      assertSameVectors(t, exported, encodeWithEmbedTune(checkpoint, workspace, 'checkpoint'), python);
    });
  });

  describe('a tiny BERT fine-tuned with LoRA', () => {
    const workspace = new TempWorkspace();
    let runDir = '';
    before(() => {
      runDir = trainTinyRun(workspace, '  type: lora\n  lora: {r: 4, alpha: 8, dropout: 0.0, targets: [query, value, dense]}');
    });
    after(() => workspace.dispose());

    it('exports a checkpoint with the LoRA updates merged, so that SentenceTransformer encodes as the LoRA checkpoint does', (t) => {
      const checkpoint = join(runDir, 'checkpoints', 'step-4');
      const exported = workspace.path('exported-lora');
      cli(['export', checkpoint, '--out', exported], workspace.root);
      const python = encodeWithSentenceTransformers(exported);
      // The same pooling and normalization as the exported folder, so that only the LoRA updates differ.
      const base = encodeWithEmbedTune(workspace.path('tiny'), workspace, 'base');
      assert.ok(maxAbsDifference(python.embeddings, base).value > CHANGED, 'the LoRA updates changed the model');
      assertSameVectors(t, exported, encodeWithEmbedTune(checkpoint, workspace, 'lora-checkpoint'), python);
    });

    it("exports the adapter alone in PEFT's layout, which peft applies to the base model to give the checkpoint's vectors", (t) => {
      const checkpoint = join(runDir, 'checkpoints', 'step-4');
      const adapter = workspace.path('adapter');
      cli(['export', checkpoint, '--out', adapter, '--adapter-only'], workspace.root);
      const python = runReference<{ embeddings: number[][]; base_embeddings: number[][]; peft_type: string; lora_modules: number }>(
        'peft_encode.py',
        {
          base: workspace.path('tiny'),
          adapter,
          texts: SENTENCES,
          max_seq_length: 32,
        },
      );
      assert.equal(python.peft_type, 'LORA');
      // query, value, attention.output.dense, intermediate.dense and output.dense in each of the 2 layers.
      assert.equal(python.lora_modules, 10, 'peft put LoRA on every projection EmbedTune trained');
      assert.ok(maxAbsDifference(python.embeddings, python.base_embeddings).value > CHANGED, 'the adapter changes the base model');
      const ours = encodeWithEmbedTune(checkpoint, workspace, 'adapter-checkpoint');
      const worst = maxAbsDifference(ours, python.embeddings);
      t.diagnostic(`PeftModel.from_pretrained(base, adapter): max |EmbedTune − peft| = ${worst.value.toExponential(3)}; ${peerVersions()}`);
      assert.ok(
        worst.value <= TOLERANCE,
        `peft applies the exported adapter differently from EmbedTune: max abs diff ${worst.value.toExponential(3)} at sentence #${worst.row}, component ${worst.column}`,
      );
    });
  });
});
