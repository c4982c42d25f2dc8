/**
 * Parity of ResNet training steps with PyTorch. EmbedTune builds a small random transformers-layout ResNet
 * (buildRandomResNetFolder, BatchNorm drawn away from the identity), replaces its head with a new 4-class one
 * (withClassifier) and exports the start as a transformers folder (writeTransformersFolder). transformers'
 * ResNetForImageClassification loads that folder and takes two steps in train mode (test/parity/python/
 * resnet_train_step.py); EmbedTune loads the same folder and takes the same steps. Per step, both sides must agree on
 * the loss, every gradient, every updated weight, AdamW's moments, and the BatchNorm running statistics
 * (momentum 0.1, unbiased variance, num_batches_tracked). Cases: softmax and focal loss, SGD and AdamW,
 * freeze_batch_norm, and freezing by stage (whose BatchNorm statistics still move, as in PyTorch).
 * Then transformers' image-classification pipeline loads the trained model EmbedTune exported and gives its logits.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { selectBackend } from '../../src/trainer/backend/selectBackend';
import { createRandom } from '../../src/trainer/data/seededRandom';
import { decodeImageFile } from '../../src/trainer/images/decodeImage';
import { readImageProcessorSettings } from '../../src/trainer/images/imageProcessorConfig';
import { preprocessImage, stackPixelValues } from '../../src/trainer/images/preprocessImage';
import type { NamedTensors } from '../../src/trainer/model/namedTensors';
import { buildRandomResNetFolder, RESNET_50_PREPROCESSOR } from '../../src/trainer/model/resnet/randomResNetFolder';
import { loadResNetFolder } from '../../src/trainer/model/resnet/resnetFolder';
import { resnetTrainable, type ResNetFreezing } from '../../src/trainer/model/resnet/resnetFreezing';
import type { ResNet } from '../../src/trainer/model/resnet/resnetModel';
import { writeTransformersFolder } from '../../src/trainer/model/resnet/transformersResNetFolder';
import { readSafetensors } from '../../src/trainer/model/safetensors';
import { AdamW, DEFAULT_ADAMW } from '../../src/trainer/training/adamW';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { PARITY_BACKEND } from './parityBackend';
import { peersProblem, peerVersions, runReference } from './pythonPeers';

/** |EmbedTune − PyTorch| of a step's mean loss. */
const LOSS_TOLERANCE = 1e-5;
/** |EmbedTune − PyTorch| of a gradient, AdamW moment or running statistic, relative to the tensor's largest |value| in PyTorch. */
const RELATIVE_TOLERANCE = 1e-4;
/** |EmbedTune − PyTorch| of a weight after an SGD step (lr · the gradients' difference, plus float rounding). */
const SGD_WEIGHT_TOLERANCE = 1e-6;
/** |EmbedTune − PyTorch| of a weight after an AdamW step, as a fraction of lr. */
const ADAMW_WEIGHT_TOLERANCE_IN_LR = 0.02;
/**
 * Adam's m/(√v + ε) turns a gradient that is float noise around an exact 0 (one stem BatchNorm bias here: 9e-9
 * against 2e-2 for its neighbours) into a step of up to lr either way, in either engine. Elements whose AdamW first
 * moment in PyTorch is nonzero and below this fraction of the tensor's largest may differ by more; they are held to the
 * gradient and moment checks, and counted.
 */
const ADAM_NOISE_FLOOR = 1e-4;
/**
 * Running statistics after a second AdamW step, relative to the tensor's largest: the float-noise elements above moved
 * by up to 0.3 lr differently on each side in step 1, and step 2's batch statistics carry that (measured 2.5e-5 on
 * the cpu backend, 6.6e-5 on tfjs-node). SGD steps hold them to RELATIVE_TOLERANCE.
 */
const STATISTICS_AFTER_ADAMW_TOLERANCE = 5e-4;

const LABELS = ['crack', 'scratch', 'dent', 'ok'];
const STEPS = 2;
const BATCH = 6;
const SIDE = 48;
const PREPROCESSOR = { ...RESNET_50_PREPROCESSOR, size: { shortest_edge: SIDE } };

const MODELS = {
  bottleneck: { layer_type: 'bottleneck', embedding_size: 8, hidden_sizes: [16, 32, 48], depths: [1, 2, 1] },
  basic: { layer_type: 'basic', embedding_size: 8, hidden_sizes: [8, 16, 24], depths: [2, 1, 1], downsample_in_first_stage: true },
};

type LossSpec = { readonly type: 'softmax' } | { readonly type: 'focal'; readonly gamma: number; readonly alpha: readonly number[] };
type OptimizerSpec =
  | { readonly type: 'sgd'; readonly lr: number }
  | { readonly type: 'adamw'; readonly lr: number; readonly weight_decay: number };

interface Case {
  readonly name: string;
  readonly model: keyof typeof MODELS;
  readonly loss: LossSpec;
  readonly optimizer: OptimizerSpec;
  readonly freezeBatchNorm: boolean;
  readonly freezing: ResNetFreezing;
}

const NOTHING_FROZEN: ResNetFreezing = { freezeEmbeddings: false, freezeLayers: 0 };
const STEM_AND_FIRST_STAGE: ResNetFreezing = { freezeEmbeddings: true, freezeLayers: 1 };
const SGD: OptimizerSpec = { type: 'sgd', lr: 0.05 };
const ADAMW: OptimizerSpec = { type: 'adamw', lr: 1e-3, weight_decay: 0.01 };
const FOCAL: LossSpec = { type: 'focal', gamma: 2, alpha: [0.25, 0.5, 0.75, 1] };

const CASES: Case[] = [
  {
    name: 'bottleneck, softmax, SGD',
    model: 'bottleneck',
    loss: { type: 'softmax' },
    optimizer: SGD,
    freezeBatchNorm: false,
    freezing: NOTHING_FROZEN,
  },
  { name: 'basic, focal, SGD', model: 'basic', loss: FOCAL, optimizer: SGD, freezeBatchNorm: false, freezing: NOTHING_FROZEN },
  {
    name: 'bottleneck, softmax, AdamW',
    model: 'bottleneck',
    loss: { type: 'softmax' },
    optimizer: ADAMW,
    freezeBatchNorm: false,
    freezing: NOTHING_FROZEN,
  },
  {
    name: 'freeze_batch_norm, focal, AdamW',
    model: 'bottleneck',
    loss: FOCAL,
    optimizer: ADAMW,
    freezeBatchNorm: true,
    freezing: NOTHING_FROZEN,
  },
  {
    name: 'stem and stage 1 frozen with freeze_batch_norm, softmax, SGD',
    model: 'basic',
    loss: { type: 'softmax' },
    optimizer: SGD,
    freezeBatchNorm: true,
    freezing: STEM_AND_FIRST_STAGE,
  },
  {
    name: 'every stage frozen, a linear probe (the BatchNorm statistics still move), focal, AdamW',
    model: 'basic',
    loss: FOCAL,
    optimizer: ADAMW,
    freezeBatchNorm: false,
    freezing: { freezeEmbeddings: true, freezeLayers: 3 },
  },
  {
    name: 'stem and stage 1 frozen (their BatchNorm statistics still move), softmax, SGD',
    model: 'bottleneck',
    loss: { type: 'softmax' },
    optimizer: SGD,
    freezeBatchNorm: false,
    freezing: STEM_AND_FIRST_STAGE,
  },
];

function frozenPrefixes(freezing: ResNetFreezing): string[] {
  return [
    ...(freezing.freezeEmbeddings ? ['resnet.embedder.'] : []),
    ...Array.from({ length: freezing.freezeLayers }, (_, stage) => `resnet.encoder.stages.${stage}.`),
  ];
}

function lossOf(logits: tf.Tensor2D, labels: Int32Array, spec: LossSpec): tf.Scalar {
  const logP = tf.sum(tf.mul(tf.oneHot(tf.tensor1d(labels, 'int32'), LABELS.length), tf.logSoftmax(logits)), -1);
  if (spec.type === 'softmax') return tf.neg(tf.mean(logP)) as tf.Scalar;
  const alpha = tf.gather(tf.tensor1d([...spec.alpha]), tf.tensor1d(labels, 'int32'));
  return tf.neg(tf.mean(tf.mul(tf.mul(alpha, tf.pow(tf.sub(1, tf.exp(logP)), spec.gamma)), logP))) as tf.Scalar;
}

/** Seeded pixel batches (N(0, 1), as normalized pixels are) and labels, the same for both sides. */
function batches(seed: number): { pixels: Float32Array; labels: Int32Array[] } {
  const random = createRandom(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const pixels = Float32Array.from({ length: STEPS * BATCH * SIDE * SIDE * 3 }, normal);
  const labels = Array.from({ length: STEPS }, () => Int32Array.from({ length: BATCH }, () => Math.floor(random() * LABELS.length)));
  return { pixels, labels };
}

/** The start both sides train from: a random base model with its head replaced, exported by EmbedTune. */
async function startFolder(workspace: TempWorkspace, name: keyof typeof MODELS): Promise<string> {
  const base = workspace.path(`${name}-base`);
  buildRandomResNetFolder(base, { config: MODELS[name], labels: ['x', 'y'], seed: 17, randomBatchNorm: true, preprocessor: PREPROCESSOR });
  const { model } = loadResNetFolder(base);
  model.withClassifier(LABELS, 23);
  const start = workspace.path(`${name}-start`);
  await writeTransformersFolder(start, model, PREPROCESSOR);
  model.dispose();
  return start;
}

interface Worst {
  relative: number;
  name: string;
}

class Comparison {
  readonly problems: string[] = [];
  readonly worst = new Map<string, Worst>();
  /** Weight elements past the tolerance that were excused because their gradient is float noise (see ADAM_NOISE_FLOOR). */
  exempted = 0;

  /** Every tensor of `theirs` against ours, elementwise, relative to PyTorch's largest |value| in the tensor or absolute. */
  tensors(
    kind: string,
    step: number,
    ours: NamedTensors,
    theirs: NamedTensors,
    bound: (name: string) => { tolerance: number; relative: boolean; exempt?: (index: number) => boolean },
  ): void {
    assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort(), `step ${step}: the same ${kind} on both sides`);
    for (const [name, their] of theirs) {
      const mine = ours.get(name)!;
      assert.deepEqual(mine.shape, their.shape, `step ${step}: ${kind} ${name} has PyTorch's shape`);
      const a = Array.from(mine.data as ArrayLike<number | bigint>, Number);
      const b = Array.from(their.data as ArrayLike<number | bigint>, Number);
      const largest = Math.max(...b.map(Math.abs));
      const { tolerance, relative, exempt } = bound(name);
      const scale = relative ? Math.max(largest, 1e-12) : 1;
      // Only elements past the tolerance are excused, and only where their gradient is float noise.
      const kept = a.map((_, i) => i).filter((i) => !(Math.abs(a[i]! - b[i]!) / scale > tolerance && exempt?.(i)));
      this.exempted += a.length - kept.length;
      const difference = Math.max(0, ...kept.map((i) => Math.abs(a[i]! - b[i]!)));
      const measured = relative ? difference / Math.max(largest, 1e-12) : difference;
      const worst = this.worst.get(kind);
      if (!worst || !(measured <= worst.relative)) this.worst.set(kind, { relative: measured, name: `${name} (step ${step})` });
      if (!(measured <= tolerance))
        this.problems.push(
          `step ${step}: ${kind} ${name} differs by ${measured.toExponential(2)}${relative ? ' of its largest value' : ''}`,
        );
    }
  }

  report(): string {
    return [...this.worst].map(([kind, worst]) => `${kind} ${worst.relative.toExponential(2)} (${worst.name})`).join('; ');
  }
}

/** PyTorch's layout of gradients or AdamW moments by variable name: kernels [out, in, kh, kw]. */
async function pytorchLayout(tensors: ReadonlyMap<string, tf.Tensor>, suffix = ''): Promise<NamedTensors> {
  const out: NamedTensors = new Map();
  for (const [name, tensor] of tensors) {
    const laidOut = name.endsWith('.convolution.weight') ? tf.transpose(tensor, [3, 2, 0, 1]) : tf.clone(tensor);
    out.set(`${name}${suffix}`, {
      dtype: 'F32',
      shape: [...laidOut.shape],
      data: Float32Array.from((await laidOut.data()) as Float32Array),
    });
    laidOut.dispose();
  }
  return out;
}

async function trainAndCompare(t: TestContext, workspace: TempWorkspace, c: Case, start: string): Promise<ResNet> {
  const data = batches(31);
  const pixelsPath = workspace.path(`${c.name.replace(/\W+/g, '-')}.f32`);
  writeFileSync(pixelsPath, data.pixels);
  const out = workspace.path(`${c.name.replace(/\W+/g, '-')}-torch`);
  const reference = runReference<{ losses: number[] }>('resnet_train_step.py', {
    model: start,
    pixels: pixelsPath,
    shape: [STEPS, BATCH, SIDE, SIDE, 3],
    labels: data.labels.map((labels) => Array.from(labels)),
    loss: c.loss,
    optimizer: c.optimizer,
    freeze_batch_norm: c.freezeBatchNorm,
    frozen_prefixes: frozenPrefixes(c.freezing),
    out,
  });

  const { model } = loadResNetFolder(start, resnetTrainable(c.freezing, MODELS[c.model].depths.length));
  model.freezeBatchNorm = c.freezeBatchNorm;
  const trainable = model.trainableVariables;
  const adamW =
    c.optimizer.type === 'adamw'
      ? new AdamW(trainable, { ...DEFAULT_ADAMW, weightDecay: c.optimizer.weight_decay, decays: (name) => !name.endsWith('.bias') })
      : undefined;
  const comparison = new Comparison();
  const imageSize = BATCH * SIDE * SIDE * 3;
  for (let step = 1; step <= STEPS; step++) {
    const input = tf.tensor4d(data.pixels.subarray((step - 1) * imageSize, step * imageSize), [BATCH, SIDE, SIDE, 3]);
    const { value, grads } = tf.variableGrads(
      () => lossOf(model.forward(input, { training: true }).logits!, data.labels[step - 1]!, c.loss),
      [...trainable.values()],
    );
    const gradients = new Map([...trainable].map(([name, variable]) => [name, grads[variable.name]!]));
    if (adamW) adamW.apply(gradients, c.optimizer.lr);
    else
      for (const [name, variable] of trainable)
        tf.tidy(() => variable.assign(tf.sub(variable, tf.mul(gradients.get(name)!, c.optimizer.lr))));
    model.updateRunningStatistics();

    const loss = (await value.data())[0]!;
    const theirLoss = reference.losses[step - 1]!;
    t.diagnostic(`${c.name}, step ${step}: loss EmbedTune ${loss.toFixed(7)}, PyTorch ${theirLoss.toFixed(7)}`);
    if (!(Math.abs(loss - theirLoss) <= LOSS_TOLERANCE)) comparison.problems.push(`step ${step}: loss ${loss} vs PyTorch ${theirLoss}`);
    const prefix = join(out, `step${step}`);
    const relative = () => ({ tolerance: RELATIVE_TOLERANCE, relative: true });
    comparison.tensors('gradient', step, await pytorchLayout(gradients), readSafetensors(`${prefix}.grads.safetensors`).tensors, relative);
    const theirMoments = adamW ? readSafetensors(`${prefix}.moments.safetensors`).tensors : undefined;
    const noiseMask = (name: string) => {
      const m = theirMoments?.get(`${name}.m`)?.data as Float32Array | undefined;
      if (!m) return undefined;
      const largest = Math.max(...Array.from(m, Math.abs));
      // An exact 0 is no noise: both engines must leave such a weight to weight decay alone.
      return (index: number) => m[index] !== 0 && Math.abs(m[index]!) < ADAM_NOISE_FLOOR * largest;
    };
    const weightBound = (name: string) => {
      if (name.includes('.running_') || name.endsWith('num_batches_tracked'))
        return { tolerance: adamW && step > 1 ? STATISTICS_AFTER_ADAMW_TOLERANCE : RELATIVE_TOLERANCE, relative: true };
      if (!trainable.has(name)) return { tolerance: 0, relative: false };
      return adamW
        ? { tolerance: ADAMW_WEIGHT_TOLERANCE_IN_LR * c.optimizer.lr, relative: false, exempt: noiseMask(name) }
        : { tolerance: SGD_WEIGHT_TOLERANCE, relative: false };
    };
    comparison.tensors(
      'weight or statistic',
      step,
      await model.exportWeights(),
      readSafetensors(`${prefix}.state.safetensors`).tensors,
      weightBound,
    );
    if (adamW) {
      const { moments } = await adamW.state();
      const ours = new Map<string, tf.Tensor>();
      for (const [name, { m, v, shape }] of moments) {
        ours.set(`${name}.m`, tf.tensor(m, shape));
        ours.set(`${name}.v`, tf.tensor(v, shape));
      }
      const laidOut: NamedTensors = new Map();
      for (const [name, tensor] of ours) {
        const base = name.slice(0, -2);
        const one = await pytorchLayout(new Map([[base, tensor]]));
        laidOut.set(name, one.get(base)!);
      }
      tf.dispose([...ours.values()]);
      comparison.tensors('AdamW moment', step, laidOut, theirMoments!, relative);
    }
    tf.dispose([input, value, ...Object.values(grads)]);
  }
  adamW?.dispose();
  t.diagnostic(
    `${c.name} on ${PARITY_BACKEND}: worst ${comparison.report()}; ${comparison.exempted} weight element(s) past the tolerance with float-noise gradients (held to the gradient checks only); ${peerVersions()}`,
  );
  assert.deepEqual(comparison.problems, [], `EmbedTune's ResNet training steps differ from PyTorch's (${c.name})`);
  return model;
}

describe('ResNet training steps agree with PyTorch', { skip: peersProblem }, () => {
  const workspace = new TempWorkspace();
  const starts = new Map<string, string>();
  let trained: ResNet | undefined;

  before(async () => {
    await selectBackend(PARITY_BACKEND);
    for (const name of Object.keys(MODELS) as (keyof typeof MODELS)[]) starts.set(name, await startFolder(workspace, name));
  });
  after(() => {
    trained?.dispose();
    workspace.dispose();
  });

  for (const c of CASES) {
    it(`${c.name}: same loss, gradients, updated weights and running statistics`, async (t) => {
      const model = await trainAndCompare(t, workspace, c, starts.get(c.model)!);
      if (!trained) trained = model;
      else model.dispose();
    });
  }

  it("transformers' image-classification pipeline loads the trained model EmbedTune exported and gives its logits", async (t) => {
    assert.ok(trained, 'a training case passed and left its model');
    const folder = workspace.path('trained');
    await writeTransformersFolder(folder, trained, PREPROCESSOR);
    const answer = runReference<{
      pipeline_class: string;
      model_class: string;
      images: { path: string; logits: Record<string, number> }[];
    }>('resnet_pipeline.py', {
      model: folder,
      out: workspace.path('pipeline-images'),
      seed: 5,
      images: [
        { name: 'wide', width: 90, height: 60 },
        { name: 'tall', width: 50, height: 80 },
        { name: 'square', width: 48, height: 48 },
      ],
    });
    assert.equal(answer.model_class, 'ResNetForImageClassification');
    const settings = readImageProcessorSettings(folder);
    const batch = stackPixelValues(answer.images.map((image) => preprocessImage(decodeImageFile(image.path), settings, 'NHWC')));
    const input = tf.tensor4d(batch.data, batch.shape);
    const logits = trained.forward(input).logits!.arraySync();
    let worst = 0;
    answer.images.forEach((image, row) => {
      assert.deepEqual(Object.keys(image.logits).sort(), [...LABELS].sort(), 'the pipeline answers with the id2label names');
      LABELS.forEach((label, column) => {
        worst = Math.max(worst, Math.abs(logits[row]![column]! - image.logits[label]!));
      });
    });
    t.diagnostic(
      `${answer.pipeline_class} on ${answer.model_class}: logits within ${worst.toExponential(2)} of EmbedTune's (${PARITY_BACKEND})`,
    );
    assert.ok(worst <= 1e-4, `the pipeline's logits differ from EmbedTune's by ${worst}`);
    tf.dispose(input);
  });
});
