import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';

/**
 * The accelerate engine on the families beside BERT: the real CLI trains a tiny random MPNet and DistilBERT (built
 * by transformers itself, test/integration/python/accelerate_families.py) through `accelerate launch` and
 * sentence-transformers with each strategy, and the export is read back with sentence-transformers. MPNet names its
 * attention q/k/v/o; DistilBERT keeps its layers under transformer.layer.N: a BERT-only table trains the wrong
 * weights or none. Needs the Python peers (bench/python/setup, with peft); without them it skips and says why.
 */

const CLI = resolve(__dirname, '../../dist/cli.js');
const PEERS = process.env['EMBEDTUNE_PY_PEERS'] ?? join(homedir(), '.cache', 'embedtune', 'py-peers');
const PYTHON = join(PEERS, 'bin', 'python');
const HELPER = join(__dirname, 'python', 'accelerate_families.py');
const MODULES = ['torch', 'transformers', 'sentence_transformers', 'accelerate', 'datasets', 'peft'];
const WORDS = ['apple', 'river', 'music', 'stone', 'cloud', 'paper', 'horse', 'light', 'green', 'table', 'night', 'water'];

function missingPython(): string | undefined {
  if (!existsSync(PYTHON)) return `no Python peers at ${PEERS} (run bench/python/setup, or set EMBEDTUNE_PY_PEERS)`;
  const probe = spawnSync(
    PYTHON,
    ['-c', `import importlib.util as u, sys; print(",".join(m for m in sys.argv[1:] if not u.find_spec(m)))`, ...MODULES],
    { encoding: 'utf8' },
  );
  if (probe.status !== 0) return `${PYTHON} does not run: ${probe.stderr}`;
  const missing = probe.stdout.trim();
  return missing ? `${PYTHON} lacks ${missing} (run bench/python/setup)` : undefined;
}

type Family = 'mpnet' | 'distilbert';
/** lora-default: LoRA without targets, which must resolve to the family's own query and value projections. */
type Strategy = 'full' | 'freeze' | 'lora' | 'lora-default';

/** Each family's LoRA targets in its own names, and the modules they must wrap in each of the 2 layers. */
const LORA: Record<Family, { targets: string[]; modules: string[] }> = {
  mpnet: { targets: ['q', 'v'], modules: ['attention.attn.q', 'attention.attn.v'] },
  distilbert: { targets: ['q_lin', 'lin1'], modules: ['attention.q_lin', 'ffn.lin1'] },
};
const DEFAULT_LORA: Record<Family, { targets: string[]; modules: string[] }> = {
  mpnet: { targets: ['q', 'v'], modules: ['attention.attn.q', 'attention.attn.v'] },
  distilbert: { targets: ['q_lin', 'v_lin'], modules: ['attention.q_lin', 'attention.v_lin'] },
};
const LAYER_PREFIX: Record<Family, string> = { mpnet: 'encoder.layer.', distilbert: 'transformer.layer.' };

function strategyYaml(family: Family, strategy: Strategy): string {
  if (strategy === 'full') return 'strategy: {type: full}';
  if (strategy === 'freeze') return 'strategy: {type: freeze, freeze_layers: 1, freeze_embeddings: true}';
  if (strategy === 'lora-default') return 'strategy:\n  type: lora\n  lora: {r: 4, alpha: 8}';
  return `strategy:\n  type: lora\n  lora: {r: 4, alpha: 8, targets: [${LORA[family].targets.join(', ')}]}`;
}

function config(family: Family, strategy: Strategy): string {
  return `name: ${family}-${strategy}
model:
  base: ./${family}
  max_seq_length: 32
data:
  train: data/train.jsonl
  columns: {anchor: q, positive: p}
loss:
  type: mnrl
training:
  epochs: 1
  batch_size: 4
  learning_rate: 0.002
  warmup: 0
evaluation:
  enabled: false
${strategyYaml(family, strategy)}
engine:
  type: accelerate
  cpu: true
  num_processes: 1
  python: ${JSON.stringify(PYTHON)}
output_dir: runs/${family}-${strategy}
`;
}

interface Inspection {
  changed: string[];
  unchanged: string[];
  missing: string[];
  export_has_lora: boolean;
  lora_modules: string[];
  encoded: number[];
  finite: boolean;
}

const skip = missingPython();
if (skip) console.log(`# skipped accelerate model-family tests: ${skip}`);

describe('engine: accelerate trains MPNet and DistilBERT with each strategy', { skip }, () => {
  const workspace = new TempWorkspace();
  const runs: Array<{ family: Family; strategy: Strategy; status: number | null; output: string; runDir?: string }> = [];
  const inspected = new Map<string, Inspection>();

  before(() => {
    assert.ok(existsSync(CLI), 'dist/cli.js is built');
    buildTinyBert(workspace.path('tokenizer'));
    const built = spawnSync(PYTHON, [HELPER, 'build', workspace.path('tokenizer'), workspace.root], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(built.status, 0, built.stderr);
    const rows = Array.from({ length: 32 }, (_, i) =>
      JSON.stringify({
        q: `what is ${WORDS[i % 12]} ${WORDS[(i * 5) % 12]} ${i}`,
        p: `the ${WORDS[i % 12]} and ${WORDS[(i * 5) % 12]} text ${i}`,
      }),
    );
    workspace.write('data/train.jsonl', `${rows.join('\n')}\n`);
    const requests = [];
    for (const family of ['mpnet', 'distilbert'] as const) {
      for (const strategy of ['full', 'freeze', 'lora', 'lora-default'] as const) {
        const file = `${family}-${strategy}.embedtune.yaml`;
        workspace.write(file, config(family, strategy));
        const result = spawnSync(process.execPath, [CLI, 'train', file], { cwd: workspace.root, encoding: 'utf8', timeout: 300_000 });
        const outputDir = workspace.path(`runs/${family}-${strategy}`);
        const runDir = existsSync(outputDir) ? join(outputDir, readdirSync(outputDir)[0]!) : undefined;
        runs.push({ family, strategy, status: result.status, output: `${result.stderr}${result.stdout}`, ...(runDir ? { runDir } : {}) });
        if (result.status !== 0 || !runDir) continue;
        const checkpoints = readdirSync(join(runDir, 'checkpoints')).filter((name) => name.startsWith('step-'));
        const newest = checkpoints.sort((a, b) => Number(a.slice(5)) - Number(b.slice(5))).at(-1)!;
        requests.push({
          key: `${family}-${strategy}`,
          base: workspace.path(family),
          export: join(runDir, 'model'),
          checkpoint: join(runDir, 'checkpoints', newest),
        });
      }
    }
    const inspection = spawnSync(PYTHON, [HELPER, 'inspect', JSON.stringify(requests)], { encoding: 'utf8', timeout: 240_000 });
    assert.equal(inspection.status, 0, inspection.stderr);
    const answers = JSON.parse(inspection.stdout.trim().split('\n').at(-1)!) as Inspection[];
    requests.forEach((request, i) => inspected.set(request.key, answers[i]!));
  });
  after(() => workspace.dispose());

  function finished(family: Family, strategy: Strategy): Inspection {
    const run = runs.find((entry) => entry.family === family && entry.strategy === strategy)!;
    assert.equal(run.status, 0, run.output);
    const events = readFileSync(join(run.runDir!, 'events.jsonl'), 'utf8');
    assert.match(events, /"type": ?"run_finished"[^\n]*"reason": ?"completed"/);
    const inspection = inspected.get(`${family}-${strategy}`)!;
    assert.deepEqual(inspection.missing, [], 'the export has every weight of the base');
    assert.equal(inspection.export_has_lora, false, 'the export is a plain model');
    assert.deepEqual(inspection.encoded, [2, 32], 'sentence-transformers loads the export and encodes with it');
    assert.ok(inspection.finite);
    return inspection;
  }

  for (const family of ['mpnet', 'distilbert'] as const) {
    const layer = (index: number) => `${LAYER_PREFIX[family]}${index}.`;
    const matrices = (names: string[]) => names.filter((name) => name.endsWith('.weight') && !/layer_?norm/i.test(name));

    it(`${family}, full: trains the embeddings and every layer`, () => {
      const { changed } = finished(family, 'full');
      assert.ok(changed.includes('embeddings.word_embeddings.weight'), changed.join(', '));
      for (const index of [0, 1])
        assert.ok(
          changed.some((name) => name.startsWith(layer(index))),
          `layer ${index} trained`,
        );
    });

    it(`${family}, freeze (freeze_layers 1, freeze_embeddings): layer 0 and the embeddings stay, layer 1 trains`, () => {
      const { changed, unchanged } = finished(family, 'freeze');
      const frozen = unchanged.filter((name) => name.startsWith('embeddings.') || name.startsWith(layer(0)));
      assert.deepEqual(
        changed.filter((name) => name.startsWith('embeddings.') || name.startsWith(layer(0))),
        [],
        'nothing frozen changed',
      );
      assert.ok(frozen.length >= 10, `the frozen weights exist under these names: ${frozen.join(', ')}`);
      const trainable = matrices([...changed, ...unchanged].filter((name) => name.startsWith(layer(1))));
      assert.ok(trainable.length >= 6, trainable.join(', '));
      assert.deepEqual(
        trainable.filter((name) => !changed.includes(name)),
        [],
        'every projection of layer 1 trained',
      );
    });

    it(`${family}, lora on [${LORA[family].targets.join(', ')}]: adapters sit on exactly those modules, and only they change`, () => {
      const { changed } = finished(family, 'lora');
      const expected = [0, 1].flatMap((index) => LORA[family].modules.map((module) => `${layer(index)}${module}`)).sort();
      assert.deepEqual(inspected.get(`${family}-lora`)!.lora_modules, expected);
      assert.deepEqual(
        changed,
        expected.map((module) => `${module}.weight`),
        'the merged export changes only the targets',
      );
    });

    it(`${family}, lora naming no targets: trains and records the family's ${DEFAULT_LORA[family].targets.join(', ')}`, () => {
      const { changed } = finished(family, 'lora-default');
      const expected = [0, 1].flatMap((index) => DEFAULT_LORA[family].modules.map((module) => `${layer(index)}${module}`)).sort();
      assert.deepEqual(inspected.get(`${family}-lora-default`)!.lora_modules, expected);
      assert.deepEqual(
        changed,
        expected.map((module) => `${module}.weight`),
      );
      const run = runs.find((entry) => entry.family === family && entry.strategy === 'lora-default')!;
      const resolved = parse(readFileSync(join(run.runDir!, 'config.resolved.yaml'), 'utf8')) as {
        strategy: { lora: { targets: string[] } };
      };
      assert.deepEqual(resolved.strategy.lora.targets, DEFAULT_LORA[family].targets, 'config.resolved.yaml records what was trained');
    });
  }
});
