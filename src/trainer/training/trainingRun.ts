import { decideGradientCheckpointing, microBatchShapeOf } from './gradientCheckpointing';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { stringify } from 'yaml';
import type { ConfigDiagnostic } from '../../shared/config/configDiagnostic';
import { resolveConfig, type EmbedTuneConfig } from '../../shared/config/configTypes';
import { warmupSteps } from '../../shared/config/runPlan';
import { evaluationSchedule, formatEvaluationPlan } from '../../shared/config/evaluationSchedule';
import { baselineNotBeaten } from '../../shared/monitor/baselineWarning';
import { IN_BATCH_NEGATIVE_LOSSES } from '../../shared/config/taskRequirements';
import { hasErrors, validateConfigText } from '../../shared/config/validateConfig';
import { EventLogWriter } from '../../shared/events/eventLogWriter';
import type { MetricValues, RunFinishReason } from '../../shared/events/runEvents';
import { encoderOpsFor } from '../backend/encoderOpsFor';
import { selectBackend, type BackendPreference } from '../backend/selectBackend';
import { BatchIterator, inBatchNegativeTexts, type Batch, type BatchPosition } from '../data/batchIterator';
import { loadTrainingData } from '../data/loadTrainingData';
import { exampleKindFor, type Example } from '../data/trainingExamples';
import { loadEmbedder } from '../model/loadEmbedder';
import type { NamedTensors } from '../model/namedTensors';
import { writeSentenceTransformersFolder } from '../model/sentenceTransformersFolder';
import { AdamW, clipByGlobalNorm, DEFAULT_ADAMW } from './adamW';
import { CheckpointStore, loadCheckpoint, resolveCheckpoint, type TrainerState } from './checkpointStore';
import { MetricTracker } from './earlyStopping';
import { ClassificationEvaluator } from './classificationEvaluator';
import { balancedClassWeights, ClassificationHead, labelsOf } from './classificationHead';
import { CLASSIFICATION_KINDS, EMBEDDING_KINDS, toTextBatch } from './embeddingExamples';
import type { EmbeddingLossName } from './embeddingLosses';
import {
  accumulate,
  classificationGradients,
  disposeGradients,
  microBatchGradients,
  scaleGradients,
  type LabelledBatch,
} from './gradientStep';
import { learningRateAt } from './learningRateSchedule';
import { createRunDirectory, runDirectoryOfCheckpoint, writeRunInfo, type RunDirectory } from './runDirectory';
import { TokenClassificationEvaluator } from './tokenClassificationEvaluator';
import { writeTokenClassifierFolder } from './tokenClassificationExport';
import { writeClassifierFolder } from './classificationHeadExport';
import { describeTaskHead } from './savedTaskHead';
import { TokenClassificationHead, tagsOf, type TokenObjective } from './tokenClassificationHead';
import { tokenClassificationGradients, type Tagger } from './tokenClassificationStep';
import { trainingStrategy } from './trainingStrategy';
import { WordPieceAligner } from '../data/tokenClassificationAlignment';
import type { TokenTagsExample } from '../data/trainingExamples';
import { ValidationEvaluator } from './validationEvaluator';

export interface TrainOptions {
  readonly configPath: string;
  /** A checkpoint folder, a run folder, or `latest`. */
  readonly resume?: string;
  /** Mirror every event to stdout, one JSON line each. */
  readonly eventsToStdout?: boolean;
  /** Human-readable progress lines (stderr in the CLI). */
  readonly log: (line: string) => void;
  /** Set when the user asks to stop: the run finishes its step, checkpoints and returns. */
  readonly stop: { requested: boolean };
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface TrainOutcome {
  readonly reason: RunFinishReason;
  readonly runDir: string;
  readonly step: number;
  readonly bestCheckpoint: string | null;
  readonly exportedModel: string | null;
  readonly baseline: MetricValues | null;
  readonly final: MetricValues | null;
}

/** The config has errors; training never starts on one. */
export class ConfigErrors extends Error {
  constructor(
    readonly file: string,
    readonly diagnostics: readonly ConfigDiagnostic[],
  ) {
    super(
      `${file} has ${diagnostics.filter((d) => d.severity === 'error').length} error(s); fix them before training (embedtune validate ${file}).`,
    );
  }
}

const PROGRESS_INTERVAL_MS = 250;
const PROGRESS_LOG_INTERVAL_MS = 2000;

/**
 * Fine-tunes the config's model on its data with the tfjs engine, writing everything it does to the run's
 * events.jsonl. Resuming from a checkpoint continues exactly: the same batches, dropout masks, learning rates and
 * optimizer moments as a run that was never stopped.
 */
export async function train(options: TrainOptions): Promise<TrainOutcome> {
  const configPath = resolve(options.configPath);
  const configDir = dirname(configPath);
  const text = readFileSync(configPath, 'utf8');
  const validation = validateConfigText(text, { configPath });
  if (hasErrors(validation.diagnostics)) throw new ConfigErrors(options.configPath, validation.diagnostics);
  const written = validation.parsed.value as EmbedTuneConfig;
  const config = resolveConfig(written);
  if (config.engine.type !== 'tfjs') throw new Error(`engine.type ${config.engine.type} is not run by the built-in tfjs engine.`);
  const kind = exampleKindFor(config.task, config.loss.type);
  const classifies = CLASSIFICATION_KINDS.includes(kind);
  const tagging = kind === 'token-tags';
  if (!EMBEDDING_KINDS.includes(kind) && !classifies && !tagging) {
    throw new Error(`The tfjs engine does not train task ${config.task} with loss ${config.loss.type}.`);
  }

  const backend = await selectBackend(config.engine.backend as BackendPreference);
  options.log(`backend: ${backend.name} (${backend.reason})`);
  const data = await loadTrainingData(config, configDir);
  const strategy = trainingStrategy(config);
  const loaded = await loadEmbedder({
    base: config.model.base,
    baseDir: configDir,
    written: written.model,
    resolved: config.model,
    ops: encoderOpsFor(backend.name),
    trainable: strategy.trainable,
    extensions: strategy.extensions,
    env: options.env,
    ...(written.training?.dropout !== undefined ? { dropout: config.training.dropout } : {}),
  });
  const { embedder } = loaded;
  const encoder = embedder.encoder;
  const checkpointing = decideGradientCheckpointing(config.training.gradient_checkpointing, {
    backend: backend.name,
    config: encoder.config,
    parameters: encoder.parameterCount(),
    microBatch: microBatchShapeOf({
      kind,
      batchSize: config.training.batch_size,
      loss: config.loss.type,
      miniBatchSize: config.loss.mini_batch_size,
      maxSeqLength: embedder.settings.maxSeqLength,
    }),
  });
  encoder.gradientCheckpointing = checkpointing.on;
  options.log(`gradient checkpointing: ${checkpointing.on ? 'on' : 'off'} (${checkpointing.reason})`);
  const balanced = config.loss.class_weights === 'balanced';
  const labels = classifies ? labelsOf(data.train as { label: string | number }[]) : [];
  const head = classifies
    ? new ClassificationHead(
        labels,
        kind === 'labeled-pair' ? 'pair' : 'text',
        embedder.dimension,
        config.training.seed,
        balanced
          ? balancedClassWeights(
              labels,
              (data.train as { label: string | number }[]).map((row) => String(row.label)),
            )
          : undefined,
      )
    : undefined;
  const tagger: Tagger | undefined = tagging ? taggerFor(data.train as TokenTagsExample[], embedder, config) : undefined;
  const taskHead = head ?? tagger?.head;
  const headParameters = taskHead ? [...taskHead.variables.values()].reduce((sum, variable) => sum + variable.size, 0) : 0;
  const trainable = new Map([...encoder.variables, ...(taskHead?.variables ?? [])].filter(([, variable]) => variable.trainable));

  const checkpointToResume = options.resume ? resolveCheckpoint(options.resume, resolve(configDir, config.output_dir)) : undefined;
  const run: RunDirectory = checkpointToResume
    ? runDirectoryOfCheckpoint(checkpointToResume, config)
    : createRunDirectory(config, resolve(configDir, config.output_dir), configPath);
  const events = new EventLogWriter({
    path: run.eventsPath,
    runId: run.runId,
    mirror: options.eventsToStdout ? process.stdout : undefined,
  });
  const startedAt = new Date().toISOString();
  writeRunInfo(run, { pid: process.pid, configPath, startedAt, state: 'running' });
  const store = new CheckpointStore(run.path, config.checkpoints.keep, config.checkpoints.keep_best);

  const accumulation = config.training.gradient_accumulation_steps;
  const batches = new BatchIterator<Example>(data.train, {
    batchSize: config.training.batch_size,
    seed: config.training.seed,
    ...(IN_BATCH_NEGATIVE_LOSSES.includes(config.loss.type)
      ? { distinctTexts: (example: Example) => inBatchNegativeTexts(example as { anchor: string; positive: string }) }
      : {}),
  });
  const stepsPerEpoch = Math.max(1, Math.ceil(batches.batchesPerEpoch / accumulation));
  const totalSteps = stepsPerEpoch * config.training.epochs;
  const warmup = warmupSteps(config.training.warmup, totalSteps);
  const headScale = config.training.head_learning_rate / config.training.learning_rate;
  const headNames = new Set(taskHead?.variables.keys() ?? []);
  const optimizer = new AdamW(trainable, {
    ...DEFAULT_ADAMW,
    weightDecay: config.training.weight_decay,
    ...(headNames.size > 0 && headScale !== 1 ? { learningRateScale: (name: string) => (headNames.has(name) ? headScale : 1) } : {}),
  });
  if (headNames.size > 0)
    options.log(
      `task head learning rate: ${config.training.head_learning_rate} (${headScale === 1 ? 'as the encoder' : `${Number(headScale.toPrecision(3))}× learning_rate`})`,
    );
  const tracker = new MetricTracker(config.early_stopping.mode, config.early_stopping.min_delta);
  const primary = config.evaluation.primary;
  const evaluator = new ValidationEvaluator(kind, data.validation, config.evaluation.metrics);
  const classificationEvaluator = head ? new ClassificationEvaluator(data.validation, config.evaluation.metrics) : undefined;
  const taggingEvaluator = tagger
    ? new TokenClassificationEvaluator(data.validation as TokenTagsExample[], config.evaluation.metrics)
    : undefined;
  const schedule = evaluationSchedule(config, data.validation.length);
  const evaluationOn = schedule.evaluates;
  const earlyStoppingOn = schedule.stopsEarly;

  let step = 0;
  let position: BatchPosition = { epoch: 0, batchIndex: 0 };
  let examplesSeen = 0;
  let elapsedBefore = 0;
  let bestCheckpoint: string | null = null;
  let lastMetrics: MetricValues | null = null;
  let baseline: MetricValues | null = null;
  if (checkpointToResume) {
    const saved = loadCheckpoint(checkpointToResume);
    if (saved.state.configHash !== run.configHash) {
      options.log(`warning: ${checkpointToResume} was saved with a different config; resuming with the current one.`);
    }
    encoder.restore(saved.weights);
    taskHead?.restore(saved.weights);
    optimizer.restore(saved.state.optimizerStep, momentsFrom(saved.optimizer));
    step = saved.state.step;
    position = saved.state.position;
    examplesSeen = saved.state.examplesSeen;
    elapsedBefore = saved.state.elapsedSeconds;
    bestCheckpoint = saved.state.bestCheckpoint;
    lastMetrics = saved.state.metrics;
    baseline = saved.state.baseline ?? null;
    Object.assign(tracker, new MetricTracker(config.early_stopping.mode, config.early_stopping.min_delta, saved.state.tracker));
    options.log(`resuming from ${checkpointToResume} at step ${step}`);
  }

  events.write({
    type: 'run_started',
    config_hash: run.configHash,
    config_path: configPath,
    engine: 'tfjs',
    backend: backend.name,
    backend_reason: backend.reason,
    device: backend.device,
    ...(backend.threads !== undefined ? { threads: backend.threads } : {}),
    task: config.task,
    model: config.model.base,
    strategy: config.strategy.type,
    trainable_parameters: encoder.parameterCount((variable) => variable.trainable) + headParameters,
    total_parameters: encoder.parameterCount() + headParameters,
    dataset: data.summary.dataset,
    preprocess: data.summary.preprocess,
    epochs: config.training.epochs,
    steps_per_epoch: stepsPerEpoch,
    total_steps: totalSteps,
    effective_batch_size: config.training.batch_size * accumulation,
    ...(checkpointToResume ? { resumed_from: relative(run.path, checkpointToResume) } : {}),
    pid: process.pid,
  });
  const untagged = tagger?.aligner.untaggedWords(
    (data.train as TokenTagsExample[]).map((row) => row.tokens),
    embedder.settings.maxSeqLength,
  );
  if (untagged && untagged.untagged > 0) {
    const message = `${untagged.untagged} of ${untagged.words} training words (in ${untagged.sentences} sentences) do not fit model.max_seq_length ${embedder.settings.maxSeqLength} as word pieces, or have none; they are not trained on and are predicted O. Raise model.max_seq_length to tag them.`;
    events.write({ type: 'log', level: 'warning', message });
    options.log(`warning: ${message}`);
  }
  if (tagger && config.loss.type === 'crf' && config.loss.class_weights !== 'none') {
    const message = 'loss.class_weights does not apply to the crf loss, which scores whole tag sequences; it is ignored.';
    events.write({ type: 'log', level: 'warning', message });
    options.log(`warning: ${message}`);
  }
  options.log(`run ${run.runId}: ${data.train.length} training and ${data.validation.length} validation examples, ${totalSteps} steps`);
  // The dry run's own words, so that the plan and the run say the same.
  options.log(
    formatEvaluationPlan({
      ...schedule,
      every: config.evaluation.every,
      metrics: config.evaluation.metrics,
      primary,
      patience: config.early_stopping.patience,
    }),
  );
  const prepared = data.summary.preprocess;
  options.log(
    `data: ${prepared.rows_read} rows read, ${prepared.rows_skipped} skipped, ${prepared.rows_deduplicated} duplicates dropped, ${prepared.rows_augmented} augmented copies added`,
  );

  const started = Date.now();
  const elapsed = () => elapsedBefore + (Date.now() - started) / 1000;
  const epochAt = (at: BatchPosition) => at.epoch + at.batchIndex / batches.batchesPerEpoch;

  const evaluate = async (atStep: number, epoch: number, countsForBest: boolean): Promise<{ improved: boolean; metrics: MetricValues }> => {
    const tagged = tagger && taggingEvaluator ? await taggingEvaluator.evaluate(tagger, config.training.batch_size) : undefined;
    const classified =
      head && classificationEvaluator
        ? await classificationEvaluator.evaluate(embedder, head, config.training.batch_size)
        : tagged && { ...tagged, perClass: tagged.perType };
    const metrics = classified ? classified.metrics : await evaluator.evaluate(embedder, config.training.batch_size);
    const value = metrics[primary] ?? null;
    const { improved } = countsForBest ? tracker.record(value) : { improved: false };
    events.write({
      type: 'eval',
      step: atStep,
      epoch,
      metrics,
      primary: { name: primary, value },
      is_best: improved,
      ...(classified ? { confusion_matrix: classified.confusionMatrix, per_class: classified.perClass } : {}),
    });
    options.log(
      `eval at step ${atStep}: ${Object.entries(metrics)
        .map(([name, v]) => `${name} ${v === null ? 'n/a' : v.toFixed(4)}`)
        .join(' · ')}${improved ? ' (best)' : ''}`,
    );
    return { improved, metrics };
  };

  const saveCheckpoint = async (reason: 'interval' | 'epoch' | 'stop' | 'final', isBest: boolean): Promise<void> => {
    const moments = await optimizer.state();
    const optimizerTensors: NamedTensors = new Map();
    for (const [name, { m, v, shape }] of moments.moments) {
      optimizerTensors.set(`${name}.m`, { dtype: 'F32', shape, data: m });
      optimizerTensors.set(`${name}.v`, { dtype: 'F32', shape, data: v });
    }
    const name = `checkpoints/step-${step}`;
    if (isBest) bestCheckpoint = name;
    const state: TrainerState = {
      format: 'embedtune-checkpoint/1',
      step,
      epoch: epochAt(position),
      position,
      seed: config.training.seed,
      optimizerStep: optimizer.step,
      tracker: tracker.state(),
      bestCheckpoint,
      metrics: lastMetrics,
      baseline,
      configHash: run.configHash,
      examplesSeen,
      elapsedSeconds: elapsed(),
      ...(taskHead ? { head: describeTaskHead(taskHead) } : {}),
    };
    const weights = new Map([...(await encoder.snapshot()), ...((await taskHead?.snapshot()) ?? [])]);
    const saved = store.save(
      { weights, optimizer: optimizerTensors, state },
      { hfConfigJson: loaded.hfConfigJson, tokenizer: embedder.tokenizer },
      isBest,
    );
    events.write({
      type: 'checkpoint',
      step,
      epoch: epochAt(position),
      path: saved.path,
      size_bytes: saved.sizeBytes,
      ...(lastMetrics ? { metrics: lastMetrics } : {}),
      is_best: isBest,
      reason,
      deleted: saved.deleted,
    });
  };

  if (evaluationOn && !checkpointToResume) baseline = (await evaluate(0, 0, false)).metrics;

  let reason: RunFinishReason = 'completed';
  let lastProgress = 0;
  let lastProgressLog = 0;
  let windowStart = Date.now();
  let windowExamples = 0;
  let checkpointedAt = checkpointToResume ? step : -1;
  const pending: Batch<Example>[] = [];
  try {
    for (const batch of batches.batches(position, config.training.epochs)) {
      pending.push(batch);
      const epochEnds = batch.next.epoch !== batch.position.epoch;
      if (pending.length < accumulation && !epochEnds) continue;

      const lossName = config.loss.type as EmbeddingLossName;
      const total = new Map<string, tf.Tensor>();
      let lossSum = 0;
      let stepExamples = 0;
      pending.forEach((micro, index) => {
        const coordinates = { seed: config.training.seed, step, microBatch: index };
        const { loss, gradients } = tagger
          ? tokenClassificationGradients(
              tagger,
              trainable,
              micro.examples as TokenTagsExample[],
              config.loss.type === 'focal' ? { focal: { gamma: config.loss.gamma, alpha: config.loss.alpha } } : {},
              coordinates,
            )
          : head
            ? classificationGradients(embedder, head, trainable, toLabelledBatch(micro.examples, head, config), coordinates)
            : microBatchGradients(
                embedder,
                trainable,
                toTextBatch(micro.examples),
                { name: lossName, scale: config.loss.scale, margin: config.loss.margin, miniBatchSize: config.loss.mini_batch_size },
                coordinates,
              );
        accumulate(total, gradients);
        lossSum += loss;
        stepExamples += micro.examples.length;
      });
      const loss = lossSum / pending.length;
      if (!Number.isFinite(loss)) {
        disposeGradients(total);
        throw new DivergedError(step, loss, store.list().at(-1)?.name ?? null, store.bestPath());
      }
      scaleGradients(total, 1 / pending.length);
      const gradNorm = clipByGlobalNorm(total, config.training.max_grad_norm);
      const lr = learningRateAt(step, config.training.learning_rate, warmup, totalSteps, config.training.scheduler);
      optimizer.apply(total, lr);
      disposeGradients(total);
      step++;
      position = batch.next;
      examplesSeen += stepExamples;
      windowExamples += stepExamples;
      pending.length = 0;

      const now = Date.now();
      if (now - lastProgress >= PROGRESS_INTERVAL_MS || step === totalSteps) {
        const seconds = Math.max((now - windowStart) / 1000, 1e-3);
        const perSecond = windowExamples / seconds;
        const stepsPerSecond = step / Math.max(elapsed() - elapsedBefore, 1e-3);
        events.write({
          type: 'progress',
          step,
          epoch: epochAt(position),
          loss,
          lr,
          examples_per_second: perSecond,
          eta_seconds: step > 0 ? (totalSteps - step) / Math.max(stepsPerSecond, 1e-9) : null,
          memory_mb: memoryMb(backend.name),
          grad_norm: Number.isFinite(gradNorm) ? gradNorm : null,
        });
        if (now - lastProgressLog >= PROGRESS_LOG_INTERVAL_MS || step === totalSteps) {
          const eta = (totalSteps - step) / Math.max(stepsPerSecond, 1e-9);
          options.log(
            `step ${step}/${totalSteps} · epoch ${epochAt(position).toFixed(2)} · loss ${loss.toFixed(4)} · lr ${lr.toExponential(2)} · ${perSecond.toFixed(1)} examples/s · ETA ${formatSeconds(eta)}`,
          );
          lastProgressLog = now;
        }
        lastProgress = now;
        windowStart = now;
        windowExamples = 0;
      }

      const evaluationDue = evaluationOn && isDue(config.evaluation.every, step, epochEnds);
      let improved = false;
      if (evaluationDue) {
        const result = await evaluate(step, epochAt(position), true);
        improved = result.improved;
        lastMetrics = result.metrics;
      }
      if (isDue(config.checkpoints.every, step, epochEnds)) {
        await saveCheckpoint(config.checkpoints.every === 'epoch' ? 'epoch' : 'interval', improved);
        checkpointedAt = step;
      } else if (improved) {
        // A new best between checkpoint intervals is kept, so that keep_best can always point at it.
        await saveCheckpoint('interval', true);
        checkpointedAt = step;
      }
      if (earlyStoppingOn && evaluationDue && tracker.exhausted(config.early_stopping.patience)) {
        events.write({
          type: 'early_stop',
          step,
          metric: primary,
          best: tracker.best ?? Number.NaN,
          patience: config.early_stopping.patience,
        });
        options.log(`early stop at step ${step}: ${primary} did not improve for ${config.early_stopping.patience} evaluations`);
        reason = 'early_stopped';
        break;
      }
      // Each step runs synchronously; yielding here lets a stop signal or message be handled between steps.
      await new Promise((resolveTurn) => setImmediate(resolveTurn));
      if (options.stop.requested) {
        reason = 'stopped';
        break;
      }
    }
    if (checkpointedAt !== step) await saveCheckpoint(reason === 'stopped' ? 'stop' : 'final', false);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    events.write({
      type: 'error',
      message,
      where: { phase: 'training' },
      ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
    });
    events.write({
      type: 'run_finished',
      reason: 'failed',
      step,
      best_checkpoint: store.bestPath(),
      best_metric: bestMetric(primary, tracker),
      duration_seconds: elapsed(),
    });
    writeRunInfo(run, { pid: process.pid, configPath, startedAt, state: 'finished' });
    events.close();
    throw error;
  }

  const exportedModel = reason === 'stopped' ? null : await exportFinalModel();
  const notBeaten = baselineNotBeaten(primary, baseline?.[primary], tracker.best, config.early_stopping.mode);
  // The CLI's summary and the dashboard word it (describeBaselineNotBeaten) from this event, for both engines.
  if (notBeaten) events.write({ type: 'baseline_not_beaten', ...notBeaten });
  events.write({
    type: 'run_finished',
    reason,
    step,
    best_checkpoint: store.bestPath(),
    best_metric: bestMetric(primary, tracker),
    duration_seconds: elapsed(),
  });
  writeRunInfo(run, { pid: process.pid, configPath, startedAt, state: 'finished' });
  events.close();
  return { reason, runDir: run.path, step, bestCheckpoint: store.bestPath(), exportedModel, baseline, final: lastMetrics };

  /** The best checkpoint (or the final weights) as a sentence-transformers folder in `<run>/model`. */
  async function exportFinalModel(): Promise<string | null> {
    if (encoder.extensions?.adapter) {
      events.write({
        type: 'log',
        level: 'warning',
        message: 'Adapters cannot be exported as a plain sentence-transformers model yet; the checkpoints hold the trained adapters.',
      });
      return null;
    }
    const best = store.bestPath();
    if (best) {
      const { weights } = loadCheckpoint(join(run.path, best));
      encoder.restore(weights);
      taskHead?.restore(weights);
    }
    const folder = join(run.path, 'model');
    writeSentenceTransformersFolder(folder, {
      hfConfigJson: loaded.hfConfigJson,
      weights: await encoder.exportWeights(),
      tokenizer: embedder.tokenizer,
      pooling: embedder.settings.pooling,
      normalize: embedder.settings.normalize,
      maxSeqLength: embedder.settings.maxSeqLength,
      modelCard: {
        baseModel: config.model.base,
        configYaml: stringify(written),
        metrics: Object.fromEntries(Object.entries(lastMetrics ?? {}).filter((entry): entry is [string, number] => entry[1] !== null)),
        datasetSummary: `${data.summary.dataset.train_rows} training and ${data.summary.dataset.validation_rows} validation rows.`,
      },
    });
    if (head) await writeClassifierFolder(folder, head);
    if (tagger) await writeTokenClassifierFolder(folder, tagger.head, embedder.settings.maxSeqLength);
    events.write({
      type: 'log',
      level: 'info',
      message: `Exported ${best ?? 'the final weights'} as a sentence-transformers model: ${relative(run.path, folder)}`,
    });
    return folder;
  }
}

/** The tagger of a token-classification run: its tags from the training rows, and balanced tag weights on request. */
function taggerFor(
  train: readonly TokenTagsExample[],
  embedder: Tagger['embedder'],
  config: { loss: { type: string; class_weights: string }; training: { seed: number } },
): Tagger {
  const labels = tagsOf(train);
  const weights =
    config.loss.class_weights === 'balanced' && config.loss.type !== 'crf'
      ? balancedClassWeights(
          labels,
          train.flatMap((row) => row.tags),
        )
      : undefined;
  const head = new TokenClassificationHead(labels, config.loss.type as TokenObjective, embedder.dimension, config.training.seed, weights);
  return { embedder, head, aligner: new WordPieceAligner(embedder.tokenizer) };
}

/** Texts (or pairs) and label indices for the head; the focal loss settings when the config asks for it. */
function toLabelledBatch(
  examples: readonly Example[],
  head: ClassificationHead,
  config: { loss: { type: string; gamma: number; alpha: number | number[] } },
): LabelledBatch {
  const rows = examples as readonly { text?: string; anchor?: string; positive?: string; label: string | number }[];
  const pairs = head.input === 'pair';
  return {
    first: rows.map((row) => (pairs ? row.anchor! : row.text!)),
    ...(pairs ? { second: rows.map((row) => row.positive!) } : {}),
    labels: Int32Array.from(rows, (row) => head.indexOf(String(row.label))),
    ...(config.loss.type === 'focal' ? { focal: { gamma: config.loss.gamma, alpha: config.loss.alpha } } : {}),
  };
}

/** The loss stopped being finite; the message says which checkpoints exist, since a run can diverge before its first. */
export class DivergedError extends Error {
  constructor(step: number, loss: number, newestCheckpoint: string | null, bestCheckpoint: string | null) {
    const kept =
      newestCheckpoint === null
        ? 'no checkpoint had been saved yet, so there is nothing to resume from or export'
        : `nothing after the newest checkpoint, checkpoints/${newestCheckpoint}, was saved${bestCheckpoint && bestCheckpoint !== `checkpoints/${newestCheckpoint}` ? ` (the best is ${bestCheckpoint})` : ''}; --resume continues from it`;
    super(`The loss became ${loss} at step ${step + 1}; training stopped and ${kept}. Lower training.learning_rate or check the data.`);
  }
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 90) return `${Math.round(seconds)}s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}

function isDue(every: number | 'epoch', step: number, epochEnds: boolean): boolean {
  return every === 'epoch' ? epochEnds : step % every === 0;
}

function bestMetric(name: string, tracker: MetricTracker): { name: string; value: number | null } | null {
  return tracker.best === null ? null : { name, value: tracker.best };
}

function momentsFrom(tensors: NamedTensors): Map<string, { m: Float32Array; v: Float32Array }> {
  const moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  for (const [key, tensor] of tensors) {
    if (!key.endsWith('.m')) continue;
    const name = key.slice(0, -2);
    const v = tensors.get(`${name}.v`);
    if (v) moments.set(name, { m: tensor.data as Float32Array, v: v.data as Float32Array });
  }
  return moments;
}

function memoryMb(backend: string): { rss: number; wasm_heap?: number } {
  const rss = process.memoryUsage().rss / 2 ** 20;
  return backend === 'wasm' ? { rss, wasm_heap: tf.memory().numBytes / 2 ** 20 } : { rss };
}
