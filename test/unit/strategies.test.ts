import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { resolveConfig, type StrategyConfig } from '../../src/shared/config/configTypes';
import type { RunEvent } from '../../src/shared/events/runEvents';
import { referenceEncoderOps } from '../../src/trainer/backend/encoderOps';
import { BertEncoder, isDenseKernel } from '../../src/trainer/model/bert/bertEncoder';
import { readBertConfig, readBertWeights } from '../../src/trainer/model/bertConfig';
import type { HostTensor, NamedTensors } from '../../src/trainer/model/namedTensors';
import { readSafetensors } from '../../src/trainer/model/safetensors';
import { TextTokenizer } from '../../src/trainer/model/textTokenizer';
import { AdamW, DEFAULT_ADAMW } from '../../src/trainer/training/adamW';
import { ClassificationHead } from '../../src/trainer/training/classificationHead';
import { train } from '../../src/trainer/training/trainingRun';
import { trainingStrategy } from '../../src/trainer/training/trainingStrategy';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert, type TinyBert } from '../helpers/tinyBert';

const HIDDEN = 32;
const INTERMEDIATE = 64;
const workspace = new TempWorkspace();
let tiny: TinyBert;
/** The base weights as Hugging Face stores them ([out, in] dense kernels), without the pooler, which is not trained. */
let base: NamedTensors;

before(async () => {
  await tf.setBackend('cpu');
  tiny = buildTinyBert(workspace.path('tiny'), { layers: 2, hidden: HIDDEN, heads: 4, intermediate: INTERMEDIATE });
  base = new Map([...readSafetensors(workspace.path('tiny/model.safetensors')).tensors].filter(([name]) => !name.startsWith('pooler.')));
  const pairs = Array.from({ length: 24 }, (_, i) =>
    JSON.stringify({
      anchor: `how do i find the ${['water', 'house', 'school', 'river'][i % 4]} number ${i}`,
      positive: `the ${['water', 'house', 'school', 'river'][i % 4]} is near the ${['road', 'tree', 'farm'][i % 3]} ${i}`,
    }),
  );
  workspace.write('data/train.jsonl', `${pairs.join('\n')}\n`);
});
after(() => workspace.dispose());

const sizeOf = (predicate: (name: string) => boolean) =>
  [...base].filter(([name]) => predicate(name)).reduce((sum, [, tensor]) => sum + tensor.data.length, 0);
const layerOf = (name: string) => Number(/^encoder\.layer\.(\d+)\./.exec(name)?.[1] ?? -1);

function encoderFor(strategy: StrategyConfig): BertEncoder {
  const config = resolveConfig({ model: { base: './tiny' }, data: { train: 'x.jsonl' }, strategy, training: { seed: 3 } });
  const { trainable, extensions } = trainingStrategy(config);
  const bert = readBertConfig(tiny.folder).config;
  return BertEncoder.fromWeights(bert, readBertWeights(tiny.folder, bert), referenceEncoderOps, trainable, extensions);
}

describe('what each strategy trains', () => {
  it('freeze: embeddings and the bottom layers get no gradient and no optimizer state', () => {
    const encoder = encoderFor({ type: 'freeze', freeze_layers: 1, freeze_embeddings: true });
    for (const [name, variable] of encoder.variables) assert.equal(variable.trainable, layerOf(name) >= 1, name);
    const trainable = new Map([...encoder.variables].filter(([, variable]) => variable.trainable));
    const optimizer = new AdamW(trainable, { ...DEFAULT_ADAMW, weightDecay: 0.01 });
    assert.equal(optimizer.stateParameterCount, 2 * sizeOf((name) => layerOf(name) >= 1));
    encoder.dispose();
  });

  it('freeze without freeze_embeddings keeps the embeddings trainable', () => {
    const encoder = encoderFor({ type: 'freeze', freeze_layers: 2 });
    for (const [name, variable] of encoder.variables) assert.equal(variable.trainable, name.startsWith('embeddings.'), name);
    encoder.dispose();
  });

  it('adapter: trains only the adapters and LayerNorms, and at step 0 computes exactly what the base model does', () => {
    const adapted = encoderFor({ type: 'adapter', adapter: { size: 8 } });
    const plain = encoderFor({ type: 'full' });
    for (const [name, variable] of adapted.variables)
      assert.equal(variable.trainable, name.includes('.adapter.') || name.includes('LayerNorm'), name);
    const ups = [...adapted.variables].filter(([name]) => name.includes('.adapter.up.'));
    assert.equal(ups.length, 2 * 2 * 2, 'after attention and after the feed-forward block, weight and bias, in each layer');
    for (const [name, variable] of ups)
      assert.ok(
        variable.dataSync().every((x) => x === 0),
        `${name} starts at zero`,
      );
    const downs = [...adapted.variables].filter(([name]) => name.endsWith('.adapter.down.weight'));
    for (const [name, variable] of downs)
      assert.ok(
        variable.dataSync().some((x) => x !== 0),
        `${name} starts random`,
      );
    assertSameOutputs(adapted, plain);
    adapted.dispose();
    plain.dispose();
  });

  it('lora: trains only A and B, B starts at zero, and at step 0 computes exactly what the base model does', () => {
    const lora = encoderFor({ type: 'lora', lora: { r: 4, alpha: 8, targets: ['query', 'value'] } });
    const plain = encoderFor({ type: 'full' });
    for (const [name, variable] of lora.variables)
      assert.equal(variable.trainable, name.includes('.lora_A.') || name.includes('.lora_B.'), name);
    const loraNames = [...lora.variables.keys()].filter((name) => name.includes('.lora_'));
    assert.deepEqual(loraNames.filter((name) => name.startsWith('encoder.layer.0.')).sort(), [
      'encoder.layer.0.attention.self.query.lora_A.weight',
      'encoder.layer.0.attention.self.query.lora_B.weight',
      'encoder.layer.0.attention.self.value.lora_A.weight',
      'encoder.layer.0.attention.self.value.lora_B.weight',
    ]);
    for (const name of loraNames) {
      const values = lora.variables.get(name)!.dataSync();
      if (name.includes('lora_B'))
        assert.ok(
          values.every((x) => x === 0),
          `${name} starts at zero`,
        );
      else
        assert.ok(
          values.some((x) => x !== 0),
          `${name} starts random`,
        );
    }
    assertSameOutputs(lora, plain);
    lora.dispose();
    plain.dispose();
  });
});

function assertSameOutputs(extended: BertEncoder, plain: BertEncoder): void {
  const tokenizer = TextTokenizer.fromFolder(tiny.folder);
  const batch = tokenizer.encodeBatch(['the water is near the house', 'how do i find the school'], 16);
  const [a, b] = [extended.forward(batch), plain.forward(batch)];
  assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()), 'identical token outputs at step 0');
  a.dispose();
  b.dispose();
}

/** Trains the config in-process with the real engine and returns its run folder and events. */
async function trainWith(name: string, strategy: string): Promise<{ runDir: string; events: RunEvent[] }> {
  const configPath = workspace.path(`${name}.embedtune.yaml`);
  workspace.write(
    `${name}.embedtune.yaml`,
    `name: ${name}
model:
  base: ./tiny
  max_seq_length: 24
data:
  train: data/train.jsonl
strategy:
${strategy}
training:
  epochs: 1
  batch_size: 8
  learning_rate: 0.01
  warmup: 0
  seed: 5
engine:
  backend: cpu
output_dir: runs-${name}
`,
  );
  const outcome = await train({ configPath, log: () => {}, stop: { requested: false }, env: { EMBEDTUNE_OFFLINE: '1' } });
  assert.equal(outcome.reason, 'completed');
  const events = readFileSync(join(outcome.runDir, 'events.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as RunEvent);
  return { runDir: outcome.runDir, events };
}

/** Checkpoints hold dense kernels input-major; this gives them back in the [out, in] layout of the base file. */
function asStored(name: string, tensor: HostTensor): Float32Array {
  if (!isDenseKernel(name)) return tensor.data as Float32Array;
  const [rows, cols] = tensor.shape as [number, number];
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = (tensor.data as Float32Array)[r * cols + c]!;
  return out;
}

function finalCheckpoint(runDir: string): { weights: NamedTensors; optimizer: NamedTensors } {
  const steps = readdirSync(join(runDir, 'checkpoints')).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  const folder = join(runDir, 'checkpoints', steps.at(-1)!);
  return {
    weights: readSafetensors(join(folder, 'encoder.safetensors')).tensors,
    optimizer: readSafetensors(join(folder, 'optimizer.safetensors')).tensors,
  };
}

function assertFrozenAndMoved(weights: NamedTensors, trains: (name: string) => boolean): void {
  for (const [name, tensor] of base) {
    const after = asStored(name, weights.get(name)!);
    if (trains(name))
      assert.ok(
        after.some((x, i) => x !== tensor.data[i]),
        `${name} moved`,
      );
    else assert.deepEqual(after, tensor.data, `${name} is bit-identical after training`);
  }
}

function optimizerNames(optimizer: NamedTensors): string[] {
  return [...new Set([...optimizer.keys()].map((key) => key.replace(/\.[mv]$/, '')))].sort();
}

describe('training with each strategy, end to end', () => {
  const total = () => sizeOf(() => true);

  it('full: every weight moves, and run_started counts every parameter as trainable', async () => {
    const { runDir, events } = await trainWith('full', '  type: full');
    const started = events[0] as Extract<RunEvent, { type: 'run_started' }>;
    assert.deepEqual([started.strategy, started.trainable_parameters, started.total_parameters], ['full', total(), total()]);
    const { weights, optimizer } = finalCheckpoint(runDir);
    // Position rows past the longest batch and unused vocabulary rows get no gradient; every other tensor moves.
    assertFrozenAndMoved(weights, () => true);
    assert.deepEqual(optimizerNames(optimizer), [...base.keys()].sort());
  });

  it('freeze: frozen weights are bit-identical after training, the rest moved, and the optimizer saved no state for them', async () => {
    const { runDir, events } = await trainWith('freeze', '  type: freeze\n  freeze_layers: 1\n  freeze_embeddings: true');
    const trains = (name: string) => layerOf(name) >= 1;
    const started = events[0] as Extract<RunEvent, { type: 'run_started' }>;
    assert.deepEqual([started.strategy, started.trainable_parameters, started.total_parameters], ['freeze', sizeOf(trains), total()]);
    const { weights, optimizer } = finalCheckpoint(runDir);
    assertFrozenAndMoved(weights, trains);
    assert.deepEqual(optimizerNames(optimizer), [...base.keys()].filter(trains).sort());
  });

  it('adapter: only adapters and LayerNorms move, and run_started counts them', async () => {
    const { runDir, events } = await trainWith('adapter', '  type: adapter\n  adapter:\n    size: 8');
    const adapters = 2 * 2 * (HIDDEN * 8 + 8 + 8 * HIDDEN + HIDDEN);
    const started = events[0] as Extract<RunEvent, { type: 'run_started' }>;
    const layerNorms = sizeOf((name) => name.includes('LayerNorm'));
    assert.deepEqual(
      [started.strategy, started.trainable_parameters, started.total_parameters],
      ['adapter', adapters + layerNorms, total() + adapters],
    );
    const { weights, optimizer } = finalCheckpoint(runDir);
    assertFrozenAndMoved(weights, (name) => name.includes('LayerNorm'));
    const up = weights.get('encoder.layer.1.output.adapter.up.weight')!;
    assert.ok(
      (up.data as Float32Array).some((x) => x !== 0),
      'the adapter up projection left zero',
    );
    assert.ok(optimizerNames(optimizer).every((name) => name.includes('.adapter.') || name.includes('LayerNorm')));
  });

  it('lora: only A and B move, and run_started counts them', async () => {
    const { runDir, events } = await trainWith('lora', '  type: lora\n  lora:\n    r: 4\n    alpha: 8\n    targets: [query, value]');
    const lora = 2 * 2 * (HIDDEN * 4 + 4 * HIDDEN);
    const started = events[0] as Extract<RunEvent, { type: 'run_started' }>;
    assert.deepEqual([started.strategy, started.trainable_parameters, started.total_parameters], ['lora', lora, total() + lora]);
    const { weights, optimizer } = finalCheckpoint(runDir);
    assertFrozenAndMoved(weights, () => false);
    assert.ok(
      (weights.get('encoder.layer.0.attention.self.value.lora_B.weight')!.data as Float32Array).some((x) => x !== 0),
      'B left zero',
    );
    assert.ok(optimizerNames(optimizer).every((name) => name.includes('.lora_')));
    assert.equal(optimizerNames(optimizer).length, 2 * 2 * 2);
  });
});

describe('the task head learning rate', () => {
  it('trains a classifier head at training.head_learning_rate while the encoder takes learning_rate', async () => {
    const rows = Array.from({ length: 16 }, (_, i) =>
      JSON.stringify(
        i % 2 === 0
          ? { text: `please refund my order number ${i}`, label: 'billing' }
          : { text: `the app crashes when i open screen ${i}`, label: 'bug' },
      ),
    );
    workspace.write('data/labels.jsonl', `${rows.join('\n')}\n`);
    workspace.write(
      'head-lr.embedtune.yaml',
      `task: classification
model:
  base: ./tiny
  max_seq_length: 24
data:
  train: data/labels.jsonl
loss:
  type: softmax
training:
  epochs: 1
  batch_size: 8
  learning_rate: 1.0e-7
  head_learning_rate: 0.01
  warmup: 0
  scheduler: constant
  weight_decay: 0
  seed: 5
engine:
  backend: cpu
output_dir: runs-head-lr
`,
    );
    const outcome = await train({
      configPath: workspace.path('head-lr.embedtune.yaml'),
      log: () => {},
      stop: { requested: false },
      env: { EMBEDTUNE_OFFLINE: '1' },
    });
    assert.equal(outcome.reason, 'completed');
    const { weights } = finalCheckpoint(outcome.runDir);
    const steps = outcome.step;
    assert.ok(steps >= 2, `${steps} steps`);
    // Adam moves every weight by about its learning rate a step, whatever the gradient's size.
    let encoderMoved = 0;
    for (const [name, tensor] of base) {
      const after = asStored(name, weights.get(name)!);
      for (let i = 0; i < after.length; i++) encoderMoved = Math.max(encoderMoved, Math.abs(after[i]! - (tensor.data as Float32Array)[i]!));
    }
    const initial = new ClassificationHead(['billing', 'bug'], 'text', HIDDEN, 5);
    const start = await initial.weight.data();
    for (const variable of initial.variables.values()) variable.dispose();
    const headWeights = weights.get('classifier.weight')!.data as Float32Array;
    let headMoved = 0;
    for (let i = 0; i < start.length; i++) headMoved = Math.max(headMoved, Math.abs(headWeights[i]! - start[i]!));
    assert.ok(encoderMoved > 0 && encoderMoved <= 4 * steps * 1e-7, `encoder moved ${encoderMoved}`);
    assert.ok(headMoved >= 0.5 * 0.01 && headMoved <= 4 * steps * 0.01, `head moved ${headMoved}`);
  });
});
