import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decideGradientCheckpointing,
  estimatedStepBytes,
  microBatchShapeOf,
  type CheckpointingContext,
} from '../../src/trainer/training/gradientCheckpointing';

const GIB = 2 ** 30;
const MINILM = { numHiddenLayers: 6, hiddenSize: 384, intermediateSize: 1536, numAttentionHeads: 12 };
/** all-MiniLM-L6-v2 at batch 32 pairs of 64 tokens, the benchmark step. */
const MINILM_STEP: CheckpointingContext = {
  backend: 'tensorflow',
  config: MINILM,
  parameters: 22_565_376,
  microBatch: { sequences: 64, seqLength: 64 },
};

describe('the auto gradient-checkpointing decision', () => {
  it('keeps every activation on tfjs-node when the step fits in half the available memory, and says how much it needs', () => {
    const decision = decideGradientCheckpointing('auto', { ...MINILM_STEP, availableBytes: 16 * GIB });
    assert.equal(decision.on, false);
    assert.match(
      decision.reason,
      /^auto: a step keeping every activation needs about [\d,]+ MiB for 64 sequences of up to 64 tokens, which fits \(16,384 MiB available\)$/,
    );
  });

  it('recomputes layers when memory is short, and names both estimates', () => {
    const decision = decideGradientCheckpointing('auto', { ...MINILM_STEP, availableBytes: 4 * GIB });
    assert.equal(decision.on, true);
    assert.match(decision.reason, /more than fits \(4,096 MiB available\); recomputing each layer needs about [\d,]+ MiB$/);
  });

  it('recomputes layers on wasm for MiniLM at batch 32 however much memory the machine has: WebAssembly addresses 4 GiB', () => {
    const decision = decideGradientCheckpointing('auto', { ...MINILM_STEP, backend: 'wasm', availableBytes: 64 * GIB });
    assert.equal(decision.on, true);
    assert.match(decision.reason, /WebAssembly's 4 GiB/);
  });

  it('recomputes layers on wasm for BERT-mini at batch 32, whose 2,981 MiB of tensors leave wasm too little room', () => {
    const bertMini = { numHiddenLayers: 4, hiddenSize: 256, intermediateSize: 1024, numAttentionHeads: 4 };
    const decision = decideGradientCheckpointing('auto', {
      ...MINILM_STEP,
      backend: 'wasm',
      config: bertMini,
      parameters: 11_170_560,
      availableBytes: 64 * GIB,
    });
    assert.equal(decision.on, true);
  });

  it('keeps every activation on wasm for a small step', () => {
    const decision = decideGradientCheckpointing('auto', {
      ...MINILM_STEP,
      backend: 'wasm',
      microBatch: { sequences: 8, seqLength: 64 },
      availableBytes: 16 * GIB,
    });
    assert.equal(decision.on, false);
  });

  it('keeps true and false as written, whatever the memory', () => {
    assert.deepEqual(decideGradientCheckpointing(true, { ...MINILM_STEP, availableBytes: 64 * GIB }), {
      on: true,
      reason: 'training.gradient_checkpointing: true',
    });
    assert.deepEqual(decideGradientCheckpointing(false, { ...MINILM_STEP, availableBytes: GIB }), {
      on: false,
      reason: 'training.gradient_checkpointing: false',
    });
  });

  it('estimates the measured MiniLM step on tfjs-node within 15%: 4,239 MiB of tensors without checkpointing', () => {
    // Measured 2026-12-03 with tf.profile's peakBytes (bench/trainThroughput.ts, tensorflowEncoderOps).
    const estimate = estimatedStepBytes(MINILM_STEP, false) / 2 ** 20;
    assert.ok(Math.abs(estimate / 4239 - 1) < 0.15, `estimated ${Math.round(estimate)} MiB`);
    assert.ok(estimatedStepBytes(MINILM_STEP, true) < estimatedStepBytes(MINILM_STEP, false) / 2.5);
  });

  it('counts the texts a micro-batch encodes by task, and the gradient cache by its chunk', () => {
    const base = { batchSize: 32, loss: 'mnrl', miniBatchSize: 16, maxSeqLength: 128 };
    assert.deepEqual(microBatchShapeOf({ ...base, kind: 'pair' }), { sequences: 64, seqLength: 128 });
    assert.deepEqual(microBatchShapeOf({ ...base, kind: 'triplet' }), { sequences: 96, seqLength: 128 });
    assert.deepEqual(microBatchShapeOf({ ...base, kind: 'text-label' }), { sequences: 32, seqLength: 128 });
    assert.deepEqual(microBatchShapeOf({ ...base, kind: 'pair', loss: 'cached_mnrl' }), { sequences: 16, seqLength: 128 });
  });
});
