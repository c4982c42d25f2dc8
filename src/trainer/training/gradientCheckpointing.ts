import * as os from 'node:os';
import type { BertConfig } from '../model/bertConfig';

/** What one micro-batch puts through the encoder at once: the sequences and the length they are padded to at most. */
export interface MicroBatchShape {
  readonly sequences: number;
  readonly seqLength: number;
}

/**
 * The largest micro-batch a run's step encodes at once: batch_size examples of one, two or three texts each (the
 * gradient cache encodes mini_batch_size at a time), padded to at most model.max_seq_length.
 */
export function microBatchShapeOf(settings: {
  kind: string;
  batchSize: number;
  loss: string;
  miniBatchSize: number;
  maxSeqLength: number;
}): MicroBatchShape {
  const textsPerExample = settings.kind === 'triplet' ? 3 : settings.kind === 'text-label' || settings.kind === 'token-tags' ? 1 : 2;
  const sequences = settings.batchSize * textsPerExample;
  return {
    sequences: settings.loss === 'cached_mnrl' ? Math.min(sequences, settings.miniBatchSize) : sequences,
    seqLength: settings.maxSeqLength,
  };
}

/** Whether the tfjs engine recomputes encoder layers in the backward pass, and why, in words for the run's log. */
export interface CheckpointingDecision {
  readonly on: boolean;
  readonly reason: string;
}

export interface CheckpointingContext {
  /** tfjs's backend name: 'wasm' holds every tensor in WebAssembly's 4 GiB, the others in the process's memory. */
  readonly backend: string;
  readonly config: Pick<BertConfig, 'numHiddenLayers' | 'hiddenSize' | 'intermediateSize' | 'numAttentionHeads'>;
  readonly parameters: number;
  readonly microBatch: MicroBatchShape;
  /** Bytes the step may use; default: what the system has available now, within the process's cgroup limit. */
  readonly availableBytes?: number;
}

/**
 * wasm32 addresses 4 GiB, and its kernels and a heap that never shrinks (and fragments) need room beyond the tensors.
 * Running out there does not fail cleanly: tfjs-backend-wasm writes through a null pointer and its threads hang.
 */
const WASM_BYTES = 4 * 2 ** 30;
const WASM_HEADROOM_BYTES = 1.25 * 2 ** 30;
/**
 * The wasm products keep transposed copies for XNNPACK as well (xnnpackEncoderOps): a BERT-mini step at batch 32 and
 * seq 64 peaked at 2,981 MiB of tensors there without checkpointing, 1.8 times the tfjs-node-calibrated estimate.
 */
const WASM_FACTOR = 1.8;
/** The step may take at most this share of the available memory: evaluation, data and other programs need the rest. */
const SHARE_OF_AVAILABLE = 0.5;

/**
 * Float32 values a step without checkpointing holds per token and layer: every forward activation the tape keeps and
 * every gradient computed from it, which tfjs keeps until the backward pass ends. Counted per tensor kind, then
 * calibrated to a measured MiniLM-L6 step on tfjs-node (64 sequences of 64 tokens: tensors peaked at 4,239 MiB).
 */
const VALUES_PER_HIDDEN = 40;
const VALUES_PER_INTERMEDIATE = 8;
/** Per attention score ([heads, seq] per token): logits, probabilities, dropout mask and their gradients. */
const VALUES_PER_SCORE = 16;
/** Weights, their gradients and AdamW's two moments. */
const BYTES_PER_PARAMETER = 16;

/** Peak tensor bytes of one training step, keeping every layer's activations or, with checkpointing, recomputing them. */
export function estimatedStepBytes(
  context: Pick<CheckpointingContext, 'config' | 'parameters' | 'microBatch'>,
  checkpointing: boolean,
): number {
  const { config, microBatch } = context;
  const tokens = microBatch.sequences * microBatch.seqLength;
  const perLayerValues =
    tokens *
    (VALUES_PER_HIDDEN * config.hiddenSize +
      VALUES_PER_INTERMEDIATE * config.intermediateSize +
      VALUES_PER_SCORE * config.numAttentionHeads * microBatch.seqLength);
  // Checkpointed, a step keeps each layer's input and one layer's activations at a time.
  const activationValues = checkpointing
    ? perLayerValues + tokens * config.hiddenSize * config.numHiddenLayers
    : perLayerValues * config.numHiddenLayers;
  return 4 * activationValues + BYTES_PER_PARAMETER * context.parameters;
}

/** Memory available to this process now: the system's, within its cgroup limit where it has one. */
export function availableMemoryBytes(): number {
  const constrained = process.constrainedMemory?.() ?? 0;
  const free = os.freemem();
  return constrained > 0 ? Math.min(free, Math.max(0, constrained - process.memoryUsage().rss)) : free;
}

/**
 * Decides `training.gradient_checkpointing`. true and false are kept as written. `auto` keeps every activation
 * (faster: no second forward pass, about a fifth of a step on tfjs-node) when the step's estimated memory fits, and
 * recomputes them when it does not: tfjs keeps every activation and every gradient computed from it until the
 * backward pass ends (PyTorch frees them as it goes), so a step without checkpointing needs about three times the
 * memory, which WebAssembly's 4 GiB cannot hold for MiniLM at batch 32. (The accelerate engine reads `auto` as Hugging
 * Face's default, off.)
 */
export function decideGradientCheckpointing(setting: 'auto' | boolean, context: CheckpointingContext): CheckpointingDecision {
  if (setting !== 'auto') return { on: setting, reason: `training.gradient_checkpointing: ${setting}` };
  const factor = context.backend === 'wasm' ? WASM_FACTOR : 1;
  const needed = factor * estimatedStepBytes(context, false);
  const available = context.availableBytes ?? availableMemoryBytes();
  const budget =
    context.backend === 'wasm'
      ? Math.min(WASM_BYTES - WASM_HEADROOM_BYTES, available * SHARE_OF_AVAILABLE)
      : available * SHARE_OF_AVAILABLE;
  const where = context.backend === 'wasm' ? `WebAssembly's 4 GiB and ${mib(available)} available` : `${mib(available)} available`;
  const shape = `${context.microBatch.sequences} sequences of up to ${context.microBatch.seqLength} tokens`;
  return needed <= budget
    ? { on: false, reason: `auto: a step keeping every activation needs about ${mib(needed)} for ${shape}, which fits (${where})` }
    : {
        on: true,
        reason: `auto: a step keeping every activation would need about ${mib(needed)} for ${shape}, more than fits (${where}); recomputing each layer needs about ${mib(factor * estimatedStepBytes(context, true))}`,
      };
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20).toLocaleString('en-US')} MiB`;
}
