import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import eventsSchema from '../../schemas/events.schema.json';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { freePort } from '../helpers/freePort';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

/*
 * model.prompts and loss.matryoshka through the real CLI, as child processes, on a tiny BERT (hidden 32).
 * The proof that training applies the prompts: a run with `prompts` in the config and a run whose data files carry
 * the same prefixes written into the texts end with byte-identical weights and identical evaluations, while a run
 * without prompts ends elsewhere.
 */

const CLI = resolve(__dirname, '../../dist/cli.js');
const PEERS = process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache', 'embedtune', 'py-peers');
const PYTHON = join(PEERS, 'bin', 'python');
const validateEvent = new Ajv2020({ allErrors: true, strict: false }).compile(eventsSchema);

interface Row {
  query: string;
  passage: string;
}
const readRows = (file: string, count: number): Row[] =>
  readFileSync(resolve(__dirname, '../../examples/retrieval/data', file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, count)
    .map((line) => JSON.parse(line) as Row);
const TRAIN = readRows('train.jsonl', 64);
const VALIDATION = readRows('validation.jsonl', 24);
const jsonl = (rows: Row[], query = '', passage = '') =>
  `${rows.map((row) => JSON.stringify({ query: query + row.query, passage: passage + row.passage })).join('\n')}\n`;

function config(model: string, engine = 'engine: {type: tfjs}'): string {
  return `name: prompted
model:
  base: ./tiny
  max_seq_length: 64
${model}
data:
  train: data/train.jsonl
  validation: data/validation.jsonl
  columns: {anchor: query, positive: passage}
loss:
  type: mnrl
  matryoshka: {dims: [32, 16, 8], weights: [1, 1, 0.5]}
training:
  epochs: 2
  batch_size: 16
  learning_rate: 0.001
  warmup: 1
evaluation:
  every: 2
  metrics: [ndcg@10, mrr@10]
checkpoints:
  every: 2
early_stopping:
  enabled: false
${engine}
output_dir: runs
`;
}

const PROMPTS = `  prompts: {query: "query: ", document: "passage: "}\n  default_prompt_name: query`;

function cli(args: string[], cwd: string) {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 300_000 });
}

/** Trains in a fresh workspace and returns its run folder. */
function trainRun(workspace: TempWorkspace, text: string, data: { query?: string; passage?: string } = {}): string {
  buildTinyBert(workspace.path('tiny'), { layers: 2, hidden: 32, heads: 4, intermediate: 64, seed: 5, withPoolingModules: true });
  workspace.write('data/train.jsonl', jsonl(TRAIN, data.query, data.passage));
  workspace.write('data/validation.jsonl', jsonl(VALIDATION, data.query, data.passage));
  workspace.write('run.embedtune.yaml', text);
  const run = cli(['train', 'run.embedtune.yaml'], workspace.path('.'));
  assert.equal(run.status, 0, `embedtune train failed:\n${run.stderr.slice(-3000)}`);
  const runs = readdirSync(workspace.path('runs'));
  assert.equal(runs.length, 1);
  return workspace.path(join('runs', runs[0]!));
}

function eventsOf(runDir: string): RunEvent[] {
  return readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as RunEvent);
}

const evals = (runDir: string) =>
  eventsOf(runDir).flatMap((event) => (event.type === 'eval' ? [{ step: event.step, metrics: event.metrics }] : []));

function vectors(path: string): number[][] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { embedding: number[] }).embedding);
}

describe('prompts and Matryoshka on the tfjs engine, through embedtune train and encode', () => {
  const prompted = new TempWorkspace();
  const baked = new TempWorkspace();
  const plain = new TempWorkspace();
  let promptedRun = '';
  let bakedRun = '';
  let plainRun = '';
  before(() => {
    promptedRun = trainRun(prompted, config(PROMPTS));
    bakedRun = trainRun(baked, config(''), { query: 'query: ', passage: 'passage: ' });
    plainRun = trainRun(plain, config(''));
  });
  after(() => {
    prompted.dispose();
    baked.dispose();
    plain.dispose();
  });

  it('trains and evaluates on the prompted texts: the same weights and metrics as prompts written into the data', () => {
    const weights = (run: string) => readFileSync(join(run, 'model', 'model.safetensors'));
    assert.ok(weights(promptedRun).equals(weights(bakedRun)), 'model.prompts trains exactly as the prefixes written into the texts');
    assert.ok(!weights(promptedRun).equals(weights(plainRun)), 'and differently from no prompts');
    assert.deepEqual(evals(promptedRun), evals(bakedRun));
    assert.notDeepEqual(evals(promptedRun), evals(plainRun));
  });

  it('reports the primary metric at each Matryoshka dim below the model in every eval event, valid under the event schema', () => {
    const events = eventsOf(promptedRun);
    for (const event of events) assert.ok(validateEvent(event), `${event.type}: ${JSON.stringify(validateEvent.errors)}`);
    const found = evals(promptedRun);
    assert.ok(found.length >= 3, `evaluations at steps ${found.map((e) => e.step).join(', ')}`);
    for (const { metrics } of found) {
      assert.deepEqual(Object.keys(metrics), ['ndcg@10', 'mrr@10', 'ndcg@10@dim16', 'ndcg@10@dim8']);
      for (const value of Object.values(metrics)) assert.ok(typeof value === 'number' && value >= 0 && value <= 1);
    }
  });

  it('exports the prompts for sentence-transformers and the Matryoshka dims in the model card', () => {
    const st = JSON.parse(readFileSync(join(promptedRun, 'model', 'config_sentence_transformers.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(st['prompts'], { query: 'query: ', document: 'passage: ' });
    assert.equal(st['default_prompt_name'], 'query');
    const card = readFileSync(join(promptedRun, 'model', 'README.md'), 'utf8');
    assert.match(card, /Trained with MatryoshkaLoss at 32, 16, 8 dimensions \(of 32\)/);
    assert.match(card, /## Prompts\n[^#]*- `query`: "query: " \(the default\)\n- `document`: "passage: "\n/);
  });

  it('encode --prompt NAME puts that prompt in front of each line, and without --prompt the default one', () => {
    const model = join(promptedRun, 'model');
    const lines = ['How do earthquakes start?', 'Tectonic plates release built-up stress.', ''];
    prompted.write('texts.txt', `${lines.join('\n')}\n`);
    prompted.write('prefixed.txt', `${lines.map((line) => `passage: ${line}`).join('\n')}\n`);
    // The same weights with no prompts saved: it encodes what it is given.
    const bare = prompted.path('bare');
    cpSync(model, bare, { recursive: true });
    writeFileSync(join(bare, 'config_sentence_transformers.json'), JSON.stringify({ prompts: {}, default_prompt_name: null }));

    const encode = (target: string, input: string, out: string, extra: string[] = []) => {
      const run = cli(['encode', target, '--in', input, '--out', out, '--backend', 'cpu', ...extra], prompted.path('.'));
      assert.equal(run.status, 0, run.stderr);
      return { vectors: vectors(prompted.path(out)), stderr: run.stderr };
    };
    const document = encode(model, 'texts.txt', 'document.jsonl', ['--prompt', 'document']);
    assert.match(document.stderr, /with prompt document \("passage: "\)/);
    assert.deepEqual(document.vectors, encode(bare, 'prefixed.txt', 'prefixed.jsonl').vectors);
    const query = encode(model, 'texts.txt', 'query.jsonl', ['--prompt', 'query']).vectors;
    assert.deepEqual(encode(model, 'texts.txt', 'default.jsonl').vectors, query, 'default_prompt_name applies without --prompt');
    assert.notDeepEqual(query, document.vectors);
    // A checkpoint's prompts come from its run's config.
    const best = readFileSync(join(promptedRun, 'best'), 'utf8').trim();
    assert.deepEqual(encode(join(promptedRun, best), 'texts.txt', 'checkpoint.jsonl', ['--prompt', 'query']).vectors, query);

    const unknown = cli(['encode', model, '--in', 'texts.txt', '--out', 'x.jsonl', '--prompt', 'passage'], prompted.path('.'));
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /has no prompt "passage"; it has "query", "document"/);
  });
});

describe('a base model that pools without its prompt', () => {
  const workspace = new TempWorkspace();
  after(() => workspace.dispose());

  it('is refused with prompts before training, naming include_prompt and the file, instead of training other vectors than Python', () => {
    buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 16, heads: 2, intermediate: 32, withPoolingModules: true });
    const poolingPath = workspace.path('tiny/1_Pooling/config.json');
    writeFileSync(poolingPath, JSON.stringify({ ...JSON.parse(readFileSync(poolingPath, 'utf8')), include_prompt: false }));
    workspace.write('data/train.jsonl', jsonl(TRAIN));
    workspace.write('data/validation.jsonl', jsonl(VALIDATION));
    workspace.write('run.embedtune.yaml', config(PROMPTS));
    const run = cli(['train', 'run.embedtune.yaml'], workspace.path('.'));
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /model\.prompts cannot be used: \.\/tiny's Pooling module says include_prompt: false/);
    assert.ok(run.stderr.includes(poolingPath), run.stderr.slice(-2000));
  });
});

function missingPython(): string | undefined {
  if (!existsSync(PYTHON)) return `no Python peers at ${PEERS} (run bench/python/setup, or set EMBEDTUNE_PY_PEERS)`;
  const probe = spawnSync(PYTHON, ['-c', 'import sentence_transformers, accelerate, datasets'], { encoding: 'utf8' });
  return probe.status === 0 ? undefined : `${PYTHON} lacks sentence-transformers, accelerate or datasets (run bench/python/setup)`;
}
const noPython = missingPython();
if (noPython) console.log(`# skipped the accelerate half of the prompts and Matryoshka tests: ${noPython}`);

describe('prompts and Matryoshka on engine: accelerate', { skip: noPython }, () => {
  const workspace = new TempWorkspace();
  const baked = new TempWorkspace();
  let runDir = '';
  let bakedRun = '';
  before(async () => {
    const engine = async () =>
      `engine:\n  type: accelerate\n  cpu: true\n  num_processes: 1\n  main_process_port: ${await freePort()}\n  python: ${JSON.stringify(PYTHON)}`;
    runDir = trainRun(workspace, config(PROMPTS, await engine()));
    bakedRun = trainRun(baked, config('', await engine()), { query: 'query: ', passage: 'passage: ' });
  });
  after(() => {
    workspace.dispose();
    baked.dispose();
  });

  it('trains and evaluates on the prompted texts: the same weights and metrics as prompts written into the data', () => {
    const weights = (run: string) => readFileSync(join(run, 'model', 'model.safetensors'));
    assert.ok(weights(runDir).equals(weights(bakedRun)), 'the trainer puts each column its prompt, as the texts written with it');
    assert.deepEqual(evals(runDir), evals(bakedRun));
  });

  it('evaluates the primary metric at each Matryoshka dim and exports the prompts and MatryoshkaLoss', () => {
    const found = evals(runDir);
    assert.ok(found.length >= 2, `evaluations at steps ${found.map((e) => e.step).join(', ')}`);
    for (const { metrics } of found) {
      assert.deepEqual(Object.keys(metrics).sort(), ['mrr@10', 'ndcg@10', 'ndcg@10@dim16', 'ndcg@10@dim8']);
      assert.ok(typeof metrics['ndcg@10@dim8'] === 'number');
    }
    const st = JSON.parse(readFileSync(join(runDir, 'model', 'config_sentence_transformers.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(st['prompts'], { query: 'query: ', document: 'passage: ' });
    assert.equal(st['default_prompt_name'], 'query');
    // sentence-transformers' own model card names the loss and its settings.
    const card = readFileSync(join(runDir, 'model', 'README.md'), 'utf8');
    assert.match(card, /MatryoshkaLoss/);
    assert.match(card, /"matryoshka_dims": \[\s*32,\s*16,\s*8\s*\]/);
  });
});
