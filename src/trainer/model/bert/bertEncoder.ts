import { snapshotVariables } from '../variableSnapshot';
import * as tf from '@tensorflow/tfjs-core';
import type { EncoderOps } from '../../backend/encoderOps';
import type { BertConfig } from '../bertConfig';
import { BERT_LAYOUT, layerModules, linearModules, positionLimit, type EncoderLayout } from '../encoderLayout';
import type { HostTensor, NamedTensors } from '../namedTensors';
import { relativePositionBuckets } from '../mpnet/relativePositionBuckets';
import { DropoutSource } from './dropoutSource';

/** Low-rank updates on chosen projections, as PEFT's LoRA: W + (alpha / r)·A·B, with B starting at zero. */
export interface LoraSettings {
  readonly r: number;
  readonly alpha: number;
  readonly dropout: number;
  /** Target names of the model's family (`EncoderLayout.loraTargets`): query, key, value, dense for BERT and RoBERTa. */
  readonly targets: readonly string[];
}

/** Houlsby bottleneck adapters after the attention and feed-forward outputs; the up projection starts at zero. */
export interface AdapterSettings {
  readonly size: number;
}

export interface EncoderExtensions {
  readonly lora?: LoraSettings;
  readonly adapter?: AdapterSettings;
  /** Seeds the random initialisation of LoRA A and adapter down projections. */
  readonly seed: number;
}

/**
 * The modules (inside a layer) that LoRA wraps for `targets`, each a name of the model's own family. A config that
 * names no targets gets its family's defaults before the run starts (prepareRun), so `[query, value]` here means
 * BERT's names, never "unset": on MPNet or DistilBERT it is an error, not their q and v.
 */
export function loraModules(layout: EncoderLayout, targets: readonly string[]): string[] {
  const known = Object.keys(layout.loraTargets);
  const unknown = targets.filter((target) => !known.includes(target));
  if (unknown.length > 0) {
    throw new Error(
      `strategy.lora.targets: ${unknown.map((target) => JSON.stringify(target)).join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a LoRA target of ${layout.family} models; their targets are ${known.join(', ')}.`,
    );
  }
  return [...new Set(targets.flatMap((target) => layout.loraTargets[target]!))];
}

/** Token ids for one batch, padded to the longest sequence; row-major [batchSize, seqLength]. */
export interface TokenBatch {
  readonly inputIds: Int32Array;
  readonly attentionMask: Int32Array;
  readonly tokenTypeIds: Int32Array;
  readonly batchSize: number;
  readonly seqLength: number;
}

/**
 * A post-LayerNorm transformer encoder over tfjs variables named as in Hugging Face checkpoints: BERT (MiniLM, BGE,
 * E5) by default, and RoBERTa, XLM-RoBERTa, MPNet and DistilBERT through their `EncoderLayout`.
 * Dense kernels are held input-major ([in, out]) so the forward product needs no transpose; they are
 * transposed back to PyTorch's [out, in] only when weights leave the encoder.
 */
export class BertEncoder {
  readonly variables: Map<string, tf.Variable>;
  /** Recompute each layer in the backward pass instead of keeping its activations (see checkpointedLayer). */
  gradientCheckpointing = false;

  private constructor(
    readonly config: BertConfig,
    variables: Map<string, tf.Variable>,
    private readonly ops: EncoderOps,
    readonly extensions: EncoderExtensions | undefined,
    readonly layout: EncoderLayout,
  ) {
    this.variables = variables;
  }

  /** Builds variables from HF-named host tensors. `trainable` decides, per HF name, whether a variable gets gradients. */
  static fromWeights(
    config: BertConfig,
    weights: NamedTensors,
    ops: EncoderOps,
    trainable: (name: string) => boolean = () => true,
    extensions?: EncoderExtensions,
    layout: EncoderLayout = BERT_LAYOUT,
  ): BertEncoder {
    const variables = new Map<string, tf.Variable>();
    for (const name of encoderWeightNames(config, layout)) {
      const host = weights.get(name);
      if (!host)
        throw new Error(`The checkpoint has no weight "${name}", which a ${config.numHiddenLayers}-layer ${layout.family} encoder needs.`);
      const value = tf.tidy(() => {
        const tensor = hostToTensor(host);
        return isDenseKernel(name, layout) ? tf.transpose(tensor) : tensor;
      });
      variables.set(name, tf.variable(value, trainable(name)));
      value.dispose();
    }
    if (extensions) addExtensionVariables(config, layout, variables, extensions, trainable);
    return new BertEncoder(config, variables, ops, extensions, layout);
  }

  /** Rebuilds an encoder from `snapshot` output (LoRA and adapters included), frozen, for inference and export. */
  static fromSnapshot(
    config: BertConfig,
    snapshot: NamedTensors,
    ops: EncoderOps,
    extensions?: EncoderExtensions,
    layout: EncoderLayout = BERT_LAYOUT,
  ): BertEncoder {
    const variables = new Map<string, tf.Variable>();
    for (const [name, host] of snapshot) {
      const value = hostToTensor(host);
      variables.set(name, tf.variable(value, false));
      value.dispose();
    }
    const missing = encoderWeightNames(config, layout).filter((name) => !variables.has(name));
    if (missing.length > 0) throw new Error(`The checkpoint lacks ${missing.length} encoder weight(s), e.g. "${missing[0]}".`);
    return new BertEncoder(config, variables, ops, extensions, layout);
  }

  /**
   * Weights in the Hugging Face layout ([out, in] dense weights), ready for safetensors. LoRA updates are merged
   * into their base weights and adapters are kept under their own names, so that the result is a plain encoder
   * (plus adapters) that loads without EmbedTune.
   */
  async exportWeights(options: { includeExtensions?: boolean } = {}): Promise<NamedTensors> {
    const out: NamedTensors = new Map();
    for (const [name, variable] of this.variables) {
      if (isLoraName(name) || (isAdapterName(name) && !options.includeExtensions)) continue;
      const tensor = tf.tidy(() => {
        const merged = this.mergedKernel(name, variable);
        return isDenseKernel(name, this.layout) || isAdapterKernel(name) ? tf.transpose(merged) : merged;
      });
      const data = (await tensor.data()) as Float32Array;
      out.set(name, { dtype: 'F32', shape: [...tensor.shape], data: Float32Array.from(data) });
      tensor.dispose();
    }
    return out;
  }

  /** Every variable as stored, LoRA and adapters included, for checkpoints that resume exactly. */
  snapshot(): Promise<NamedTensors> {
    return snapshotVariables(this.variables);
  }

  /** Puts back values saved by `snapshot`. */
  restore(weights: NamedTensors): void {
    for (const [name, variable] of this.variables) {
      const saved = weights.get(name);
      if (!saved) throw new Error(`The checkpoint has no value for "${name}".`);
      variable.assign(tf.tensor(saved.data as Float32Array, variable.shape, 'float32'));
    }
  }

  private mergedKernel(name: string, kernel: tf.Variable): tf.Tensor {
    const lora = this.extensions?.lora;
    const base = name.slice(0, -'.weight'.length);
    const a = this.variables.get(`${base}.lora_A.weight`);
    const b = this.variables.get(`${base}.lora_B.weight`);
    if (!lora || !a || !b || !name.endsWith('.weight')) return kernel;
    return tf.add(kernel, tf.mul(tf.matMul(a, b), lora.alpha / lora.r));
  }

  /** Token embeddings [batch, seq, hidden]. Dropout applies only when a source is given. */
  forward(batch: TokenBatch, dropout?: DropoutSource): tf.Tensor3D {
    const { batchSize, seqLength } = batch;
    const c = this.config;
    const layout = this.layout;
    const positionsAvailable = positionLimit(layout, c.maxPositionEmbeddings, c.padTokenId);
    if (seqLength > positionsAvailable) {
      throw new Error(
        `A sequence of ${seqLength} tokens is longer than the model's ${positionsAvailable} positions; lower model.max_seq_length.`,
      );
    }
    const v = (name: string) => this.variables.get(name)! as tf.Tensor;

    return tf.tidy(() => {
      const ids = tf.tensor1d(batch.inputIds, 'int32');
      const positions = tf.tensor1d(
        layout.positionIds === 'sequential'
          ? sequentialPositionIds(batchSize, seqLength)
          : positionIdsAfterPadding(batch.inputIds, seqLength, c.padTokenId),
        'int32',
      );
      const embeddings = [
        this.ops.embeddingLookup(v(layout.wordEmbeddings) as tf.Tensor2D, ids),
        this.ops.embeddingLookup(v(layout.positionEmbeddings) as tf.Tensor2D, positions),
      ];
      if (layout.tokenTypeEmbeddings) {
        const typeIds = tf.tensor1d(batch.tokenTypeIds, 'int32');
        embeddings.push(this.ops.embeddingLookup(v(layout.tokenTypeEmbeddings) as tf.Tensor2D, typeIds));
      }
      let x: tf.Tensor2D = tf.addN(embeddings) as tf.Tensor2D;
      x = this.ops.layerNorm(
        x,
        v(`${layout.embeddingsLayerNorm}.weight`) as tf.Tensor1D,
        v(`${layout.embeddingsLayerNorm}.bias`) as tf.Tensor1D,
        c.layerNormEps,
      );
      if (dropout && c.hiddenDropoutProb > 0) x = dropout.apply(x, c.hiddenDropoutProb) as tf.Tensor2D;

      // Padding positions get a large negative logit so softmax gives them no weight, as HF's extended mask does.
      const mask = tf.tensor4d(batch.attentionMask, [batchSize, 1, 1, seqLength], 'int32');
      let maskBias = tf.mul(tf.sub(1, tf.cast(mask, 'float32')), tf.scalar(-1e9)) as tf.Tensor4D;
      // MPNet adds one learned bias per head and relative distance to every layer's attention logits.
      if (layout.relativeAttentionBias) maskBias = tf.add(maskBias, this.relativePositionBias(seqLength)) as tf.Tensor4D;

      for (let i = 0; i < c.numHiddenLayers; i++) {
        // Each layer draws its dropout masks from its own seed, so that a recomputed layer draws the same ones.
        const layerSeed = dropout?.nextSeed();
        const run: LayerRun = (input, weight, bias) => this.layerForward(i, input, weight, bias, { batchSize, seqLength }, layerSeed);
        // A tidy per layer frees its intermediates as soon as it ends: without a tape (encoding) nothing else would
        // until the whole pass ends; with one, the tape has kept what the backward pass needs.
        const input = x;
        x = this.gradientCheckpointing ? this.checkpointedLayer(i, input, maskBias, run) : tf.tidy(() => run(input, v, maskBias));
      }
      return tf.reshape(x, [batchSize, seqLength, c.hiddenSize]) as tf.Tensor3D;
    });
  }

  /** MPNet's relative position bias [1, heads, seq, seq]: the learned value of each head for each bucketed distance. */
  private relativePositionBias(seqLength: number): tf.Tensor4D {
    const bias = this.layout.relativeAttentionBias!;
    const buckets = tf.tensor1d(relativePositionBuckets(seqLength, bias.numBuckets, bias.maxDistance), 'int32');
    const table = this.variables.get(bias.weight)! as tf.Tensor2D;
    const values = this.ops.embeddingLookup(table, buckets);
    const heads = this.config.numAttentionHeads;
    return tf.reshape(tf.transpose(tf.reshape(values, [seqLength, seqLength, heads]), [2, 0, 1]), [1, heads, seqLength, seqLength]);
  }

  /** One transformer layer on x [tokens, hidden]; `weight` reads the layer's tensors by HF name. */
  private layerForward(
    i: number,
    x: tf.Tensor2D,
    weight: (name: string) => tf.Tensor,
    maskBias: tf.Tensor4D,
    shape: { batchSize: number; seqLength: number },
    dropoutSeed: number | undefined,
  ): tf.Tensor2D {
    const c = this.config;
    const { batchSize, seqLength } = shape;
    const hidden = c.hiddenSize;
    const heads = c.numAttentionHeads;
    const headDim = hidden / heads;
    const tokens = batchSize * seqLength;
    const dropout = dropoutSeed === undefined ? undefined : new DropoutSource(dropoutSeed);
    const drop = (t: tf.Tensor, rate: number) => (dropout && rate > 0 ? dropout.apply(t, rate) : t);
    const has = (name: string) => this.variables.has(name);
    const layout = this.layout;
    const p = `${layout.layerPrefix}${i}.`;
    const lora = this.extensions?.lora;
    const splitHeads = (t: tf.Tensor2D) => tf.transpose(tf.reshape(t, [batchSize, seqLength, heads, headDim]), [0, 2, 1, 3]) as tf.Tensor4D;
    const dense = (input: tf.Tensor2D, name: string): tf.Tensor2D => {
      const out = this.ops.dense(input, weight(`${p}${name}.weight`) as tf.Tensor2D, weight(`${p}${name}.bias`) as tf.Tensor1D);
      if (!lora || !has(`${p}${name}.lora_A.weight`)) return out;
      const low = this.ops.dense(drop(input, lora.dropout) as tf.Tensor2D, weight(`${p}${name}.lora_A.weight`) as tf.Tensor2D);
      const update = this.ops.dense(low, weight(`${p}${name}.lora_B.weight`) as tf.Tensor2D);
      return tf.add(out, tf.mul(update, lora.alpha / lora.r)) as tf.Tensor2D;
    };
    const adapter = (input: tf.Tensor2D, name: string): tf.Tensor2D => {
      if (!has(`${name}.down.weight`)) return input;
      const bottleneck = this.activation(
        this.ops.dense(input, weight(`${name}.down.weight`) as tf.Tensor2D, weight(`${name}.down.bias`) as tf.Tensor1D),
      );
      return tf.add(
        input,
        this.ops.dense(bottleneck, weight(`${name}.up.weight`) as tf.Tensor2D, weight(`${name}.up.bias`) as tf.Tensor1D),
      ) as tf.Tensor2D;
    };

    const q = splitHeads(dense(x, layout.query));
    const k = splitHeads(dense(x, layout.key));
    const value = splitHeads(dense(x, layout.value));
    const logits = tf.add(tf.mul(this.ops.attentionScores(q, k), 1 / Math.sqrt(headDim)), maskBias);
    const probs = drop(tf.softmax(logits), c.attentionProbsDropoutProb) as tf.Tensor4D;
    const context = tf.reshape(tf.transpose(this.ops.attentionContext(probs, value), [0, 2, 1, 3]), [tokens, hidden]) as tf.Tensor2D;
    const projected = dense(context, layout.attentionOutput);
    const attended = adapter(
      (layout.attentionOutputDropout ? drop(projected, c.hiddenDropoutProb) : projected) as tf.Tensor2D,
      `${p}attention.output.adapter`,
    );
    const y = this.ops.layerNorm(
      tf.add(attended, x) as tf.Tensor2D,
      weight(`${p}${layout.attentionLayerNorm}.weight`) as tf.Tensor1D,
      weight(`${p}${layout.attentionLayerNorm}.bias`) as tf.Tensor1D,
      c.layerNormEps,
    );
    const intermediate = this.activation(dense(y, layout.intermediate));
    const output = adapter(drop(dense(intermediate, layout.output), c.hiddenDropoutProb) as tf.Tensor2D, `${p}output.adapter`);
    return this.ops.layerNorm(
      tf.add(output, y) as tf.Tensor2D,
      weight(`${p}${layout.outputLayerNorm}.weight`) as tf.Tensor1D,
      weight(`${p}${layout.outputLayerNorm}.bias`) as tf.Tensor1D,
      c.layerNormEps,
    );
  }

  /**
   * Activation checkpointing: the layer runs without recording its intermediate tensors and keeps only its input;
   * the backward pass runs it again under a tape. tfjs keeps every recorded tensor, and every gradient computed from
   * it, until the whole backward pass ends, so without this a step holds all layers' activations and all their
   * gradients at once. With it, it holds one layer's. The price is one more forward pass per step.
   */
  private checkpointedLayer(i: number, x: tf.Tensor2D, maskBias: tf.Tensor4D, run: LayerRun): tf.Tensor2D {
    const prefix = `${this.layout.layerPrefix}${i}.`;
    // MPNet's bias holds a trainable table, so its gradient is needed; BERT's mask bias is a constant.
    const biasLearns = this.layout.relativeAttentionBias !== undefined;
    const trainable = [...this.variables].filter(([name, variable]) => name.startsWith(prefix) && variable.trainable);
    const stored = (name: string) => this.variables.get(name)! as tf.Tensor;
    const layer = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      save([args[0] as tf.Tensor, args[1] as tf.Tensor]);
      return {
        value: tf.tidy(() => run(args[0] as tf.Tensor2D, stored, args[1] as tf.Tensor4D)),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [input, mask] = saved as [tf.Tensor2D, tf.Tensor4D];
          const weights = trainable.map(([, variable]) => variable as tf.Tensor);
          const replay = (replayInput: tf.Tensor, ...replayWeights: tf.Tensor[]) => {
            const byName = new Map(trainable.map(([name], j) => [name, replayWeights[j]!]));
            return run(replayInput as tf.Tensor2D, (name) => byName.get(name) ?? stored(name), mask);
          };
          if (biasLearns) {
            const grads = gradientsInOwnTape(
              (replayInput, replayMask, ...replayWeights) => {
                const byName = new Map(trainable.map(([name], j) => [name, replayWeights[j]!]));
                return run(replayInput as tf.Tensor2D, (name) => byName.get(name) ?? stored(name), replayMask as tf.Tensor4D);
              },
              [input, mask, ...weights],
              dy,
            );
            return grads;
          }
          const grads = gradientsInOwnTape(replay, [input, ...weights], dy);
          // The mask is a constant; customGrad still wants a gradient for every input.
          return [grads[0]!, tf.zerosLike(mask), ...grads.slice(1)];
        },
      };
    });
    return layer(x, maskBias, ...trainable.map(([, variable]) => variable as tf.Tensor)) as tf.Tensor2D;
  }

  private activation(x: tf.Tensor2D): tf.Tensor2D {
    return activation(x, this.config.hiddenAct, this.ops);
  }

  parameterCount(filter: (variable: tf.Variable) => boolean = () => true): number {
    let count = 0;
    for (const variable of this.variables.values()) if (filter(variable)) count += variable.size;
    return count;
  }

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
    this.variables.clear();
  }
}

/** One encoder layer: input [tokens, hidden], a reader for its weights by HF name, and the attention mask bias. */
type LayerRun = (input: tf.Tensor2D, weight: (name: string) => tf.Tensor, maskBias: tf.Tensor4D) => tf.Tensor2D;

interface EngineWithTape {
  state: { activeTape: unknown };
  gradients(
    f: () => tf.Tensor,
    xs: tf.Tensor[],
    dy: tf.Tensor,
    allowNoGradients: boolean,
  ): { value: tf.Tensor; grads: Array<tf.Tensor | undefined> };
}

/**
 * d f(xs)·dy / d xs, computed while an outer backward pass is running (from a customGrad's gradFunc). tfjs keeps one
 * active tape: a gradient computed now would replace the outer pass's tape and, when done, set it to null, and the
 * outer pass would then fail to release its saved tensors. So the outer tape is put back afterwards. (tfjs-core
 * 4.22's Engine.gradients; the checkpointing tests compare against the unrecomputed gradients and would catch a change.)
 */
function gradientsInOwnTape(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const engine = tf.engine() as unknown as EngineWithTape;
  const outerTape = engine.state.activeTape;
  try {
    return tf.tidy(() => {
      const { value, grads } = engine.gradients(() => f(...xs), xs, dy, true);
      value.dispose();
      return grads.map((grad, j) => grad ?? tf.zerosLike(xs[j]!));
    });
  } finally {
    engine.state.activeTape = outerTape;
  }
}

/** The weights this encoder reads, in HF naming; the pooler is not used by sentence embeddings. */
export function encoderWeightNames(config: BertConfig, layout: EncoderLayout = BERT_LAYOUT): string[] {
  const names = [layout.wordEmbeddings, layout.positionEmbeddings];
  if (layout.tokenTypeEmbeddings) names.push(layout.tokenTypeEmbeddings);
  names.push(`${layout.embeddingsLayerNorm}.weight`, `${layout.embeddingsLayerNorm}.bias`);
  if (layout.relativeAttentionBias) names.push(layout.relativeAttentionBias.weight);
  for (let i = 0; i < config.numHiddenLayers; i++) {
    for (const part of layerModules(layout)) {
      names.push(`${layout.layerPrefix}${i}.${part}.weight`, `${layout.layerPrefix}${i}.${part}.bias`);
    }
  }
  return names;
}

/** A linear projection's weight, which the encoder holds input-major ([in, out]), the transpose of PyTorch's. */
export function isDenseKernel(name: string, layout: EncoderLayout = BERT_LAYOUT): boolean {
  if (!name.startsWith(layout.layerPrefix) || !name.endsWith('.weight')) return false;
  const module = name
    .slice(layout.layerPrefix.length)
    .replace(/^\d+\./, '')
    .slice(0, -'.weight'.length);
  return linearModules(layout).includes(module);
}

export function isLoraName(name: string): boolean {
  return name.includes('.lora_A.') || name.includes('.lora_B.');
}

export function isAdapterName(name: string): boolean {
  return name.includes('.adapter.');
}

function isAdapterKernel(name: string): boolean {
  return isAdapterName(name) && name.endsWith('.weight');
}

/**
 * LoRA A and adapter down projections start as PEFT and Houlsby do (Kaiming-uniform, and small normal), seeded;
 * LoRA B and adapter up projections start at zero, so that step 0 computes exactly the base model.
 */
function addExtensionVariables(
  config: BertConfig,
  layout: EncoderLayout,
  variables: Map<string, tf.Variable>,
  extensions: EncoderExtensions,
  trainable: (name: string) => boolean,
): void {
  let seed = extensions.seed;
  const add = (name: string, value: tf.Tensor) => {
    variables.set(name, tf.variable(value, trainable(name)));
    value.dispose();
  };
  const loraParts = extensions.lora ? loraModules(layout, extensions.lora.targets) : [];
  for (let i = 0; i < config.numHiddenLayers; i++) {
    const p = `${layout.layerPrefix}${i}.`;
    if (extensions.lora) {
      const { r } = extensions.lora;
      for (const part of loraParts) {
        const kernel = variables.get(`${p}${part}.weight`)!;
        const [inputs, outputs] = kernel.shape as [number, number];
        const bound = 1 / Math.sqrt(inputs);
        add(`${p}${part}.lora_A.weight`, tf.randomUniform([inputs, r], -bound, bound, 'float32', seed++));
        add(`${p}${part}.lora_B.weight`, tf.zeros([r, outputs]));
      }
    }
    if (extensions.adapter) {
      const { size } = extensions.adapter;
      for (const where of ['attention.output.adapter', 'output.adapter']) {
        add(`${p}${where}.down.weight`, tf.truncatedNormal([config.hiddenSize, size], 0, 0.02, 'float32', seed++));
        add(`${p}${where}.down.bias`, tf.zeros([size]));
        add(`${p}${where}.up.weight`, tf.zeros([size, config.hiddenSize]));
        add(`${p}${where}.up.bias`, tf.zeros([config.hiddenSize]));
      }
    }
  }
}

function sequentialPositionIds(batchSize: number, seqLength: number): Int32Array {
  const ids = new Int32Array(batchSize * seqLength);
  for (let i = 0; i < ids.length; i++) ids[i] = i % seqLength;
  return ids;
}

/** RoBERTa's and MPNet's position ids: pad + 1, pad + 2, … over a row's non-padding tokens, and pad at padding. */
export function positionIdsAfterPadding(inputIds: Int32Array, seqLength: number, padTokenId: number): Int32Array {
  const ids = new Int32Array(inputIds.length);
  for (let start = 0; start < inputIds.length; start += seqLength) {
    let counted = 0;
    for (let i = start; i < start + seqLength; i++) ids[i] = inputIds[i] === padTokenId ? padTokenId : padTokenId + ++counted;
  }
  return ids;
}

function hostToTensor(host: HostTensor): tf.Tensor {
  if (host.dtype !== 'F32') throw new Error(`Expected a float32 weight, got ${host.dtype}.`);
  return tf.tensor(host.data as Float32Array, host.shape, 'float32');
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

function activation(x: tf.Tensor2D, name: string, ops: EncoderOps): tf.Tensor2D {
  switch (name) {
    case 'gelu':
      return ops.gelu(x);
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), SQRT_2_OVER_PI)))) as tf.Tensor2D;
    case 'relu':
      return tf.relu(x);
    default:
      throw new Error(`Unsupported hidden_act "${name}"; EmbedTune's BERT encoder supports gelu, gelu_new and relu.`);
  }
}
