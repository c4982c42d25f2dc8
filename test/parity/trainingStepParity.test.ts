/**
 * Parity of training steps with PyTorch: `embedtune train` (the CLI, wasm backend) and a PyTorch reference
 * (test/parity/python/train_step.py: SentenceTransformer, sentence-transformers' MNRL, clip_grad_norm_, torch AdamW,
 * transformers' linear schedule) take the same steps on the same batches, without dropout, from the same weights.
 * The losses and every updated weight must agree. Cases: full fine-tuning, gradient accumulation, freezing, LoRA
 * (against PEFT) and Houlsby adapters (against a hand-written PyTorch adapter, as PEFT has none), on a tiny BERT,
 * and one step of full fine-tuning on the real all-MiniLM-L6-v2.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { buildTinyBert } from '../helpers/tinyBert';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { ensureBuilt, exampleRows, plannedSteps, trainWithEmbedTune, type PairBatch } from './embedtuneRuns';
import { exampleTexts } from './paritySentences';
import { miniLmFolder, mpnetFolder, mpnetProblem, peersProblem, peerVersions, runReference } from './pythonPeers';
import { PARITY_BACKEND } from './parityBackend';

/** Largest allowed |EmbedTune − PyTorch| of a step's mean loss. */
const LOSS_TOLERANCE = 1e-5;
/**
 * Largest allowed |EmbedTune − PyTorch| of AdamW's first and second moments after a step, relative to the largest
 * moment in the same tensor. The moments are running averages of the clipped gradients and their squares, so this
 * checks every gradient. A tensor whose gradients are all float noise around an exact 0 (the attention key bias:
 * softmax ignores a shift shared by all keys) is measured against MOMENT_FLOOR of the step's largest moment instead.
 */
const MOMENT_TOLERANCE = 1e-4;
const MOMENT_FLOOR = 1e-3;
/**
 * Largest allowed |EmbedTune − PyTorch| of any weight after a step, as a fraction of the learning rate (an Adam step
 * moves a weight by up to about lr). It cannot be much tighter: where a gradient is float noise around zero (the
 * attention key bias has an exact gradient of 0, as softmax ignores a shift shared by all keys), Adam's m/(√v + ε)
 * turns noise of 1e-9 into a step of a sizeable fraction of lr, on either side.
 */
const WEIGHT_TOLERANCE_IN_LR = 0.05;
/**
 * Weights whose gradient was exactly 0 at every step (unused vocabulary rows and positions, the second token type)
 * move only by decoupled weight decay, w·(1 − lr·wd) per step, so both engines must agree on them to float rounding:
 * this bound, relative to the tensor's largest weight, is 1% of one step's decay (lr·wd = 1e-4).
 */
const ZERO_GRADIENT_TOLERANCE = 1e-6;
/**
 * The attention key bias adds q·b to every score of a query, which softmax ignores, so its exact gradient is 0 too.
 * But the computed one is rounding noise (about 1e-10 on TensorFlow, often exactly 0 elsewhere), and AdamW divides it
 * by its own square root: PyTorch can report an element as untouched while another engine moves it by a small part of
 * lr. Those elements are held to the weight tolerance in lr, as every weight is, not to weight decay's rounding.
 */
const ROUNDING_NOISE_GRADIENT = /attention\.(?:self\.key|attn\.k|k_lin)\.bias$/;
/**
 * On the other families' checkpoints (weights drawn larger than BERT's init, so that attention is far from uniform)
 * that noise is larger, and Adam turns it into up to 0.14 lr on either side: there the key bias's weights are reported,
 * and its gradients are held to the moment check with every other tensor.
 */
const KEY_BIAS_REPORTED_ONLY = new Set(['roberta', 'xlm-roberta', 'distilbert', 'mpnet']);
const WEIGHT_DECAY = 0.1;

interface ReferenceStep {
  readonly loss: number;
  readonly lr: number;
  readonly grad_norm: number;
  readonly compared: Record<string, TensorComparison>;
}

interface TensorComparison {
  readonly max_abs_diff: number;
  readonly max_abs_update: number;
  readonly size: number;
  /** AdamW's moments, for trainable tensors: PyTorch's largest |value| and the largest |EmbedTune − PyTorch|. */
  readonly m_largest?: number;
  readonly m_max_abs_diff?: number;
  readonly v_largest?: number;
  readonly v_max_abs_diff?: number;
  /** For trainable tensors: how many elements had a zero gradient at every step, and their largest |EmbedTune − PyTorch|. */
  readonly zero_gradient_elements?: number;
  readonly zero_gradient_max_abs_diff?: number;
  readonly largest_weight?: number;
}

interface Case {
  readonly name: string;
  readonly strategyYaml: string;
  readonly strategy: Record<string, unknown>;
  readonly pairs: number;
  readonly batchSize: number;
  readonly accumulation: number;
  /** Start the reference from this step's checkpoint (weights and AdamW moments) instead of the base model. */
  readonly startAt?: number;
  /** Defaults to MOMENT_TOLERANCE. */
  readonly momentTolerance?: number;
  /**
   * Defaults to WEIGHT_TOLERANCE_IN_LR. LoRA and adapter runs start from step 1, where no gradient is float noise
   * around zero, so their weights are held to a bound that also catches a weight decay missing or misapplied
   * (lr·wd·|w| is about 2e-2 lr for their A and down matrices).
   */
  readonly weightToleranceInLr?: number;
  /** Report weight differences instead of asserting them elementwise (see the MiniLM case). */
  readonly weightsReportedOnly?: boolean;
  /** The model family of a small random checkpoint (see KEY_BIAS_REPORTED_ONLY). */
  readonly family?: string;
}

const LEARNING_RATE = 1e-3;

function configYaml(base: string, c: Case, maxSeqLength: number): string {
  return `name: step-parity
task: embedding
model:
  base: ${base}
  pooling: mean
  normalize: true
  max_seq_length: ${maxSeqLength}
data:
  train: train.jsonl
  validation: validation.jsonl
  columns: {anchor: query, positive: passage}
strategy:
${c.strategyYaml}
loss:
  type: mnrl
  scale: 20
training:
  epochs: 1
  batch_size: ${c.batchSize}
  gradient_accumulation_steps: ${c.accumulation}
  learning_rate: ${LEARNING_RATE}
  warmup: 0
  scheduler: linear
  weight_decay: ${WEIGHT_DECAY}
  max_grad_norm: 1.0
  dropout: 0
  seed: 7
checkpoints:
  every: 1
  keep: 100
engine:
  type: tfjs
  backend: ${PARITY_BACKEND}
output_dir: runs
`;
}

/** Trains with EmbedTune, replays the same steps in PyTorch, and checks losses and weights step by step. */
async function compareSteps(t: TestContext, workspace: TempWorkspace, base: string, c: Case, maxSeqLength: number): Promise<void> {
  workspace.write('train.jsonl', exampleRows('examples/retrieval/data/train.jsonl', c.pairs));
  workspace.write('validation.jsonl', exampleRows('examples/retrieval/data/validation.jsonl', 4));
  const configPath = workspace.write('run.embedtune.yaml', configYaml(base, c, maxSeqLength));
  const steps = await plannedSteps(configPath);
  const run = trainWithEmbedTune(configPath);
  const checkpoint = (step: number) => join(run.runDir, 'checkpoints', `step-${step}`);
  const first = c.startAt ?? 0;
  const compared = steps
    .slice(first)
    .map((microBatches: PairBatch[], i) => ({ micro_batches: microBatches, compare: checkpoint(first + i + 1) }));
  const reference = runReference<{ steps: ReferenceStep[] }>('train_step.py', {
    model: base,
    max_seq_length: maxSeqLength,
    scale: 20,
    learning_rate: LEARNING_RATE,
    warmup_steps: 0,
    total_steps: steps.length,
    weight_decay: WEIGHT_DECAY,
    max_grad_norm: 1.0,
    strategy: c.strategy,
    start: c.startAt ? { checkpoint: checkpoint(c.startAt), step: c.startAt } : null,
    steps: compared,
  });

  const problems: string[] = [];
  let worstWeight = { ratio: 0, name: '', step: 0, diff: 0 };
  let worstMoment = { relative: 0, name: '', step: 0 };
  let zeroGradientElements = 0;
  let lossesCompared = 0;
  reference.steps.forEach((theirs, i) => {
    const step = first + i + 1;
    const ours = run.losses.get(step);
    if (ours !== undefined) {
      lossesCompared++;
      const diff = Math.abs(ours - theirs.loss);
      t.diagnostic(
        `step ${step}: loss EmbedTune ${ours.toFixed(7)}, PyTorch ${theirs.loss.toFixed(7)} (|Δ| ${diff.toExponential(1)}); lr ${theirs.lr.toExponential(3)}, grad norm ${theirs.grad_norm.toFixed(4)}`,
      );
      if (!(diff <= LOSS_TOLERANCE)) problems.push(`step ${step}: loss ${ours} vs PyTorch ${theirs.loss}`);
    }
    let moved = 0;
    const entries = Object.entries(theirs.compared);
    const stepLargest = {
      m: Math.max(...entries.map(([, e]) => e.m_largest ?? 0)),
      v: Math.max(...entries.map(([, e]) => e.v_largest ?? 0)),
    };
    for (const [name, comparison] of entries) {
      const { max_abs_diff: diff, max_abs_update: update } = comparison;
      if (update > 0) moved++;
      if (comparison.zero_gradient_elements && !ROUNDING_NOISE_GRADIENT.test(name)) {
        zeroGradientElements += comparison.zero_gradient_elements;
        const relative = comparison.zero_gradient_max_abs_diff! / comparison.largest_weight!;
        if (!(relative <= ZERO_GRADIENT_TOLERANCE))
          problems.push(
            `step ${step}: ${name}'s weights with zero gradient (moved by weight decay alone) differ by ${relative.toExponential(2)} of its largest weight`,
          );
      }
      for (const key of ['m', 'v'] as const) {
        const largest = comparison[`${key}_largest`];
        const momentDiff = comparison[`${key}_max_abs_diff`];
        if (largest === undefined || momentDiff === undefined) continue;
        // v holds squared gradients, so its floor is the square of m's.
        const floor = stepLargest[key] * (key === 'm' ? MOMENT_FLOOR : MOMENT_FLOOR ** 2);
        const relative = momentDiff / Math.max(largest, floor);
        if (!(relative <= worstMoment.relative)) worstMoment = { relative, name: `${name}.${key}`, step };
        if (!(relative <= (c.momentTolerance ?? MOMENT_TOLERANCE)))
          problems.push(`step ${step}: AdamW's ${key} of ${name} differs by ${relative.toExponential(2)} of its largest value`);
      }
      const ratio = diff / theirs.lr;
      if (!(ratio <= worstWeight.ratio)) worstWeight = { ratio, name, step, diff };
      const reportedOnly =
        c.weightsReportedOnly || (c.family !== undefined && KEY_BIAS_REPORTED_ONLY.has(c.family) && ROUNDING_NOISE_GRADIENT.test(name));
      if (!reportedOnly && !(ratio <= (c.weightToleranceInLr ?? WEIGHT_TOLERANCE_IN_LR)))
        problems.push(
          `step ${step}: ${name} differs by ${diff.toExponential(2)} (${ratio.toExponential(2)} lr; PyTorch moved it by up to ${update.toExponential(2)})`,
        );
    }
    assert.ok(moved > 0, `step ${step} changed some weights in PyTorch`);
  });
  t.diagnostic(
    `${c.name}: ${reference.steps.length} step(s) compared, ${Object.keys(reference.steps[0]!.compared).length} tensors each; worst weight |Δ| ${worstWeight.diff.toExponential(2)} = ${worstWeight.ratio.toExponential(2)} lr (${worstWeight.name}, step ${worstWeight.step}); worst moment |Δ| ${worstMoment.relative.toExponential(2)} of its tensor's largest (${worstMoment.name}, step ${worstMoment.step}); ${zeroGradientElements} weight(s) moved by decay alone; EmbedTune run ${run.seconds.toFixed(1)} s; ${peerVersions()}`,
  );
  assert.ok(lossesCompared > 0, 'the run reported the loss of at least one compared step');
  assert.ok(worstMoment.name !== '', "AdamW's moments were compared");
  assert.deepEqual(problems, [], `EmbedTune's training steps differ from PyTorch's (${c.name})`);
}

/** The families beside BERT, each as a small random checkpoint that transformers builds. */
const FAMILY_NAMES = ['roberta', 'xlm-roberta', 'distilbert', 'mpnet'];

const LORA_TARGETS = ['query', 'value', 'attention.output.dense', 'intermediate.dense', 'output.dense'];

const CASES: Case[] = [
  { name: 'full fine-tuning', strategyYaml: '  type: full', strategy: { type: 'full' }, pairs: 8, batchSize: 4, accumulation: 1 },
  {
    name: 'gradient accumulation over 2 micro-batches',
    strategyYaml: '  type: full',
    strategy: { type: 'full' },
    pairs: 16,
    batchSize: 4,
    accumulation: 2,
  },
  {
    name: 'freeze (embeddings and layer 0)',
    strategyYaml: '  type: freeze\n  freeze_layers: 1\n  freeze_embeddings: true',
    strategy: { type: 'freeze', freeze_layers: 1, freeze_embeddings: true },
    pairs: 8,
    batchSize: 4,
    accumulation: 1,
  },
  {
    name: 'LoRA against PEFT',
    strategyYaml: '  type: lora\n  lora: {r: 4, alpha: 8, dropout: 0.0, targets: [query, value, dense]}',
    strategy: { type: 'lora', lora: { r: 4, alpha: 8, peft_targets: LORA_TARGETS } },
    pairs: 12,
    batchSize: 4,
    accumulation: 1,
    startAt: 1,
    weightToleranceInLr: 2e-3,
  },
  {
    name: 'Houlsby adapters against a hand-written PyTorch adapter',
    strategyYaml: '  type: adapter\n  adapter: {size: 8}',
    strategy: { type: 'adapter', adapter: { size: 8 } },
    pairs: 12,
    batchSize: 4,
    accumulation: 1,
    startAt: 1,
    weightToleranceInLr: 2e-3,
  },
];

describe('training steps agree with PyTorch', { skip: peersProblem }, () => {
  before(() => ensureBuilt());

  describe('on a tiny BERT', () => {
    for (const c of CASES) {
      it(`${c.name}: same loss and same updated weights`, async (t) => {
        const workspace = new TempWorkspace();
        try {
          const tiny = buildTinyBert(workspace.path('tiny'), {
            layers: 2,
            hidden: 32,
            heads: 4,
            intermediate: 64,
            seed: 11,
            withPoolingModules: true,
          });
          await compareSteps(t, workspace, tiny.folder, c, 32);
        } finally {
          workspace.dispose();
        }
      });
    }
  });

  describe('on the real all-MiniLM-L6-v2', () => {
    const workspace = new TempWorkspace();
    after(() => workspace.dispose());
    // On 22M weights, some gradients are float noise around zero, so the first Adam step (about lr·sign(g)) moves
    // those weights by up to ~lr on either side in either engine, and their weights cannot be compared elementwise.
    // The loss and AdamW's moments (the gradients, to 1e-3 of each tensor's largest) are; the weight differences are
    // printed. The tiny BERT cases above compare every weight.
    it('full fine-tuning, one step: same loss and same gradients (AdamW moments)', async (t) => {
      await compareSteps(
        t,
        workspace,
        miniLmFolder(),
        {
          name: 'MiniLM full',
          strategyYaml: '  type: full',
          strategy: { type: 'full' },
          pairs: 8,
          batchSize: 8,
          accumulation: 1,
          momentTolerance: 1e-3,
          weightsReportedOnly: true,
        },
        128,
      );
    });
  });

  // Small random checkpoints that transformers builds for each family beside BERT (test/parity/python/tiny_family.py).
  describe('on small random RoBERTa, XLM-RoBERTa, DistilBERT and MPNet checkpoints', { skip: mpnetProblem }, () => {
    const workspace = new TempWorkspace();
    let folders: Record<string, string> = {};
    before(() => {
      folders = runReference<{ folders: Record<string, string> }>('tiny_family.py', {
        out: workspace.path('models'),
        families: FAMILY_NAMES,
        corpus: exampleTexts(),
        wordpiece_from: miniLmFolder(),
        mpnet_tokenizer_from: mpnetFolder(),
        seed: 9,
      }).folders;
    });
    after(() => workspace.dispose());
    for (const family of FAMILY_NAMES) {
      it(`${family}, full fine-tuning, two steps: same loss and same updated weights`, async (t) => {
        const run = new TempWorkspace();
        try {
          await compareSteps(t, run, folders[family]!, { ...CASES[0]!, family }, 32);
        } finally {
          run.dispose();
        }
      });
    }
    for (const [family, targets, peftTargets] of [
      ['distilbert', 'q_lin, v_lin, lin1', ['q_lin', 'v_lin', 'lin1']],
      ['mpnet', 'q, v, o, dense', ['q', 'v', 'o', 'intermediate.dense', 'output.dense']],
    ] as const) {
      it(`${family}, LoRA on [${targets}] against PEFT: same loss and same updated weights`, async (t) => {
        const run = new TempWorkspace();
        try {
          const lora = CASES[3]!;
          await compareSteps(
            t,
            run,
            folders[family]!,
            {
              ...lora,
              family,
              strategyYaml: `  type: lora\n  lora: {r: 4, alpha: 8, dropout: 0.0, targets: [${targets}]}`,
              strategy: { type: 'lora', lora: { r: 4, alpha: 8, peft_targets: peftTargets } },
            },
            32,
          );
        } finally {
          run.dispose();
        }
      });
    }
    it('distilbert, freeze (embeddings and layer 0 under transformer.layer.N): same loss and same updated weights', async (t) => {
      const run = new TempWorkspace();
      try {
        await compareSteps(t, run, folders['distilbert']!, { ...CASES[2]!, family: 'distilbert' }, 32);
      } finally {
        run.dispose();
      }
    });
  });
});
