/**
 * Parity with sentence-transformers: the model folders EmbedTune writes load in Python's `SentenceTransformer(path)`,
 * and `embedtune encode` gives the vectors that `SentenceTransformer.encode` gives, for a tiny BERT we train and for
 * the real all-MiniLM-L6-v2.
 *
 * The Python comes from `bench/python/setup` (PyTorch, transformers, sentence-transformers, and all-MiniLM-L6-v2 from
 * PyPI), found at $EMBEDTUNE_PY_PEERS or ~/.cache/embedtune/py-peers. Without it every test skips and says why.
 * Run with `node --import tsx --test test/parity/exportParity.test.ts`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { TextTokenizer } from '../../src/trainer/model/textTokenizer';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist', 'cli.js');
const PEERS = process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache', 'embedtune', 'py-peers');
const PYTHON = join(PEERS, 'bin', 'python');
/** Largest absolute difference allowed between any two vector components. */
const TOLERANCE = 1e-5;

/**
 * Texts that exercise the tokenizer and the encoder: casing, accents, punctuation, digits, code, URLs, other scripts,
 * emoji, odd whitespace, an empty line, one-character texts, and texts longer than max_seq_length (both models
 * truncate). One per line, so none contains a newline.
 */
const LONG = Array.from({ length: 60 }, (_, i) => `clause ${i} keeps going with more words about models, tokens and vectors`).join('; ');
const SENTENCES = [
  'How do I reset my password?',
  'What is the capital of France?',
  'The quick brown fox jumps over the lazy dog.',
  'THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG!',
  'tHe QuIcK bRoWn FoX',
  'Paris is the capital and most populous city of France.',
  'Fine-tuning an embedding model needs pairs of related texts.',
  "Don't panic: it's only a test, isn't it?",
  'Wait... what?! (Really.) [Yes] {no} <maybe>',
  'In 1969, 3 astronauts flew about 384,400 km to the Moon.',
  'Version 2.15.0 was released on 2026-10-01 at 09:30 UTC.',
  'π ≈ 3.14159, e ≈ 2.71828, and 1/3 ≈ 0.333…',
  'Café au lait, naïve résumé, façade and jalapeño.',
  'Ångström, Øresund, straße, Æsir, œuvre.',
  'Zürich und München liegen nicht am Meer.',
  '¿Dónde está la biblioteca? ¡Aquí!',
  'Москва — столица России.',
  'Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.',
  'القاهرة هي عاصمة مصر',
  '東京は日本の首都です。',
  '北京是中国的首都。',
  '서울은 한국의 수도입니다.',
  'I love pizza 🍕 and tacos 🌮!',
  'Emoji only: 😀😃😄',
  'Email me at someone@example.com or visit https://example.com/path?q=1&r=2#frag.',
  'def square(x): return x ** 2  # Python',
  'const f = (a, b) => a + b; // JavaScript',
  'SELECT name, COUNT(*) FROM users GROUP BY name;',
  '$100 + 20% off = $80; 5 × 4 = 20; 10 ÷ 2 = 5',
  '#hashtag @mention ~tilde ^caret |pipe| \\backslash',
  'state-of-the-art, well-known, e-mail, co-operate',
  'U.S.A., e.g., i.e., etc., Mr. Smith and Dr. Jones',
  '   leading and trailing spaces   ',
  'tabs\tbetween\twords',
  'many     spaces     between     words',
  'non\u00a0breaking\u00a0spaces',
  '',
  'a',
  '?',
  'x',
  'supercalifragilisticexpialidocious antidisestablishmentarianism',
  'pneumonoultramicroscopicsilicovolcanoconiosis',
  'The mitochondria is the powerhouse of the cell.',
  'Gradient descent minimizes the loss by following the negative gradient.',
  'Cats sleep for most of the day.',
  'Dogs are loyal companions.',
  'A recipe for bread: flour, water, salt and yeast.',
  'Stock markets fell sharply on Monday.',
  'The patient was prescribed 500 mg of amoxicillin twice daily.',
  LONG,
  `${LONG} ${LONG}`,
];

interface PythonSide {
  readonly embeddings: number[][];
  readonly inputIds: number[][];
  readonly maxSeqLength: number;
  readonly modules: string[];
  readonly versions: Record<string, string>;
}

/** Loads a folder with SentenceTransformer and encodes the lines of a file, as a user would. */
const ENCODE_PY = String.raw`
import json, sys, warnings
warnings.filterwarnings("ignore")
import sentence_transformers, torch, transformers
from sentence_transformers import SentenceTransformer
model_dir, texts_path, out_path = sys.argv[1:4]
with open(texts_path, encoding="utf-8", newline="") as f:
    text = f.read()
if text.endswith("\n"):
    text = text[:-1]
lines = text.split("\n")
model = SentenceTransformer(model_dir, device="cpu")
vectors = model.encode(lines, batch_size=32, convert_to_numpy=True)
ids = model.tokenizer(lines, truncation=True, max_length=model.max_seq_length)["input_ids"]
with open(out_path, "w") as f:
    json.dump({
        "embeddings": vectors.tolist(),
        "inputIds": ids,
        "maxSeqLength": model.max_seq_length,
        "modules": [type(m).__name__ for m in model],
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "sentence-transformers": sentence_transformers.__version__},
    }, f)
`;

/** Why the Python peers cannot run, or null when they can. */
function pythonProblem(): string | null {
  if (!existsSync(PYTHON)) return `no Python peers at ${PEERS} (run bench/python/setup, or set EMBEDTUNE_PY_PEERS to its folder)`;
  const probe = spawnSync(PYTHON, ['-c', 'import sentence_transformers, torch'], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} does not run (${probe.error.message})`;
  if (probe.status !== 0)
    return `${PYTHON} cannot import sentence_transformers and torch (${probe.stderr.trim().split('\n').pop()}); run bench/python/setup again`;
  return null;
}

/** all-MiniLM-L6-v2's folder, as bench/python/setup recorded it in peers.json. */
function miniLmFolder(): { folder: string } | { problem: string } {
  const manifest = join(PEERS, 'peers.json');
  if (!existsSync(manifest)) return { problem: `${manifest} is missing; run bench/python/setup` };
  const folder = (JSON.parse(readFileSync(manifest, 'utf8')) as { minilm?: string }).minilm;
  if (!folder || !existsSync(join(folder, 'model.safetensors')))
    return { problem: `all-MiniLM-L6-v2 is not at ${folder ?? '(unset)'}; run bench/python/setup` };
  return { folder };
}

function cli(args: string[], cwd: string, timeout = 300_000) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout });
}

function runOk(result: ReturnType<typeof cli>, what: string): void {
  const how = result.error ? `${result.error.message}, killed with ${result.signal}` : `exit ${result.status}`;
  assert.equal(result.status, 0, `${what} failed (${how}):\n${result.stderr}${result.stdout}`);
}

function encodeWithEmbedTune(
  model: string,
  workspace: TempWorkspace,
  name: string,
  options: { args?: string[]; timeout?: number } = {},
): number[][] {
  const input = workspace.write(`${name}.txt`, `${SENTENCES.join('\n')}\n`);
  const output = workspace.path(`${name}.jsonl`);
  const args = ['encode', model, '--in', input, '--out', output, ...(options.args ?? [])];
  runOk(cli(args, workspace.root, options.timeout), `embedtune ${args.join(' ')}`);
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

function encodeWithSentenceTransformers(model: string, workspace: TempWorkspace, name: string): PythonSide {
  const input = workspace.write(`${name}.py.txt`, `${SENTENCES.join('\n')}\n`);
  const output = workspace.path(`${name}.py.json`);
  const run = spawnSync(PYTHON, ['-c', ENCODE_PY, model, input, output], {
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' },
  });
  assert.equal(run.status, 0, `SentenceTransformer(${model}) could not load or encode:\n${run.stderr}`);
  return JSON.parse(readFileSync(output, 'utf8')) as PythonSide;
}

interface Comparison {
  readonly maxAbsDiff: number;
  readonly worstSentence: number;
  readonly worstComponent: number;
}

function compare(ours: number[][], theirs: number[][]): Comparison {
  assert.equal(ours.length, theirs.length, 'both encoded every sentence');
  let worst: Comparison = { maxAbsDiff: 0, worstSentence: -1, worstComponent: -1 };
  ours.forEach((vector, i) => {
    assert.equal(vector.length, theirs[i]!.length, `sentence ${i}: both vectors have the same dimension`);
    vector.forEach((x, j) => {
      const diff = Math.abs(x - theirs[i]![j]!);
      if (!(diff <= worst.maxAbsDiff)) worst = { maxAbsDiff: diff, worstSentence: i, worstComponent: j };
    });
  });
  return worst;
}

/**
 * Asserts the vectors agree to TOLERANCE; when they do not, the message says whether the token ids already differ
 * (a tokenizer problem) or only the vectors do (the encoder or pooling).
 */
function assertSameVectors(t: TestContext, model: string, ours: number[][], python: PythonSide): void {
  const result = compare(ours, python.embeddings);
  t.diagnostic(
    `${model}: max |EmbedTune − sentence-transformers| = ${result.maxAbsDiff.toExponential(3)} over ${SENTENCES.length} sentences (tolerance ${TOLERANCE}); ` +
      `sentence-transformers ${python.versions['sentence-transformers']}, transformers ${python.versions['transformers']}, torch ${python.versions['torch']}`,
  );
  if (result.maxAbsDiff <= TOLERANCE) return;
  const tokenizer = TextTokenizer.fromFolder(model);
  const mismatched = SENTENCES.flatMap((text, i) => {
    const batch = tokenizer.encodeBatch([text], python.maxSeqLength);
    const ids = Array.from(batch.inputIds);
    return ids.join(',') === python.inputIds[i]!.join(',')
      ? []
      : [
          `#${i} ${JSON.stringify(text.slice(0, 60))}: ours [${ids.slice(0, 12).join(' ')}…] vs [${python.inputIds[i]!.slice(0, 12).join(' ')}…]`,
        ];
  });
  const where =
    mismatched.length > 0
      ? `the token ids already differ for ${mismatched.length} sentence(s): ${mismatched.slice(0, 3).join('; ')}`
      : 'the token ids agree for every sentence, so the difference is in the encoder or the pooling';
  assert.fail(
    `A user would get different vectors from EmbedTune than from SentenceTransformer(${model}): max abs diff ${result.maxAbsDiff.toExponential(3)} > ${TOLERANCE}, ` +
      `worst at sentence #${result.worstSentence} ${JSON.stringify(SENTENCES[result.worstSentence]?.slice(0, 60))}, component ${result.worstComponent}; ${where}.`,
  );
}

function trainingConfig(strategy: string): string {
  return `name: parity
model:
  base: ./tiny
  max_seq_length: 32
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
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
output_dir: runs
`;
}

const TRAIN = readFileSync(join(ROOT, 'examples', 'retrieval', 'data', 'train.jsonl'), 'utf8')
  .split('\n')
  .slice(0, 64)
  .join('\n');
const VALIDATION = readFileSync(join(ROOT, 'examples', 'retrieval', 'data', 'validation.jsonl'), 'utf8')
  .split('\n')
  .slice(0, 16)
  .join('\n');

/** Trains a tiny random BERT for a few steps as a real child process and returns the run folder. */
function trainTinyRun(workspace: TempWorkspace, strategy: string): string {
  buildTinyBert(workspace.path('tiny'), { layers: 2, hidden: 32, heads: 4, intermediate: 64, seed: 7 });
  workspace.write('data/train.jsonl', `${TRAIN}\n`);
  workspace.write('data/validation.jsonl', `${VALIDATION}\n`);
  workspace.write('run.embedtune.yaml', trainingConfig(strategy));
  runOk(cli(['train', 'run.embedtune.yaml'], workspace.root), 'embedtune train');
  const runs = readdirSync(workspace.path('runs'));
  assert.equal(runs.length, 1, `one run folder, got ${runs.join(', ')}`);
  return workspace.path(join('runs', runs[0]!));
}

const problem = pythonProblem();

describe('parity with sentence-transformers', () => {
  before(() => {
    if (problem) {
      console.log(`# parity tests skipped: ${problem}`);
      return;
    }
    if (!existsSync(CLI)) {
      const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8' });
      assert.equal(build.status, 0, `building dist/ failed:\n${build.stderr}`);
    }
  });

  describe('a tiny BERT fine-tuned with embedtune train (full strategy)', () => {
    const workspace = new TempWorkspace();
    let runDir = '';
    before(() => {
      if (!problem) runDir = trainTinyRun(workspace, '  type: full');
    });
    after(() => workspace.dispose());

    it("exports model/, which SentenceTransformer loads and encodes to EmbedTune's vectors", (t) => {
      if (problem) return t.skip(problem);
      const model = join(runDir, 'model');
      const python = encodeWithSentenceTransformers(model, workspace, 'trained');
      assert.deepEqual(python.modules, ['Transformer', 'Pooling', ...(python.modules.includes('Normalize') ? ['Normalize'] : [])]);
      assertSameVectors(t, model, encodeWithEmbedTune(model, workspace, 'trained'), python);
    });

    it('exports a checkpoint with embedtune export to a folder that SentenceTransformer loads and that encodes as the checkpoint does', (t) => {
      if (problem) return t.skip(problem);
      const checkpoint = join(runDir, 'checkpoints', 'step-2');
      assert.ok(existsSync(checkpoint), `${checkpoint} exists`);
      const exported = workspace.path('exported-step-2');
      runOk(cli(['export', checkpoint, '--out', exported], workspace.root), 'embedtune export');
      const python = encodeWithSentenceTransformers(exported, workspace, 'exported');
      assertSameVectors(t, exported, encodeWithEmbedTune(checkpoint, workspace, 'checkpoint'), python);
    });
  });

  describe('a tiny BERT fine-tuned with LoRA', () => {
    const workspace = new TempWorkspace();
    let runDir = '';
    before(() => {
      if (!problem)
        runDir = trainTinyRun(workspace, '  type: lora\n  lora: {r: 4, alpha: 8, dropout: 0.0, targets: [query, value, dense]}');
    });
    after(() => workspace.dispose());

    it('exports a checkpoint with the LoRA updates merged, so that SentenceTransformer encodes as the LoRA checkpoint does', (t) => {
      if (problem) return t.skip(problem);
      const checkpoint = join(runDir, 'checkpoints', 'step-4');
      const exported = workspace.path('exported-lora');
      runOk(cli(['export', checkpoint, '--out', exported], workspace.root), 'embedtune export');
      const python = encodeWithSentenceTransformers(exported, workspace, 'lora');
      const base = encodeWithSentenceTransformers(workspace.path('tiny'), workspace, 'base');
      assert.ok(compare(python.embeddings, base.embeddings).maxAbsDiff > 1e-3, 'the LoRA updates changed the model');
      assertSameVectors(t, exported, encodeWithEmbedTune(checkpoint, workspace, 'lora-checkpoint'), python);
    });
  });

  describe('the real all-MiniLM-L6-v2', () => {
    const workspace = new TempWorkspace();
    after(() => workspace.dispose());

    // Batches of 8: at the default 32, the batch that holds the two 256-token texts does not fit in wasm's 4 GiB (see
    // the todo test below).
    it('encodes to the vectors SentenceTransformer gives for the same folder', (t) => {
      if (problem) return t.skip(problem);
      const located = miniLmFolder();
      if ('problem' in located) return t.skip(located.problem);
      const python = encodeWithSentenceTransformers(located.folder, workspace, 'minilm');
      assert.deepEqual(python.modules, ['Transformer', 'Pooling', 'Normalize']);
      assert.equal(python.maxSeqLength, 256);
      assertSameVectors(
        t,
        located.folder,
        encodeWithEmbedTune(located.folder, workspace, 'minilm', { args: ['--batch-size', '8'] }),
        python,
      );
    });

    it(
      'encodes the same texts at the default batch size of 32',
      { todo: "a batch of 32 texts of 256 tokens exhausts the wasm backend's 4 GiB and encode hangs instead of failing" },
      (t) => {
        if (problem) return t.skip(problem);
        const located = miniLmFolder();
        if ('problem' in located) return t.skip(located.problem);
        const python = encodeWithSentenceTransformers(located.folder, workspace, 'minilm-32');
        assertSameVectors(t, located.folder, encodeWithEmbedTune(located.folder, workspace, 'minilm-32', { timeout: 120_000 }), python);
      },
    );
  });
});
