import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { isTfjsBackend, TFJS_BACKENDS } from '../../shared/config/configTypes';
import { EVAL_RESULTS_FILE, TRAINER_STATE_FILE } from '../../shared/run/runFolder';
import { encoderOpsFor } from '../backend/encoderOpsFor';
import { selectBackend } from '../backend/selectBackend';
import { loadTrainingData } from '../data/loadTrainingData';
import { WordPieceAligner } from '../data/tokenClassificationAlignment';
import { exampleKindFor, type TokenTagsExample } from '../data/trainingExamples';
import { loadInferenceModel } from '../model/inferenceModel';
import { choosePrompt, modelPrompts } from '../model/modelPrompts';
import { writePeftAdapterFolder } from '../model/peftAdapterFolder';
import { writeSentenceTransformersFolder } from '../model/sentenceTransformersFolder';
import { ClassificationEvaluator } from '../training/classificationEvaluator';
import { ClassificationHead } from '../training/classificationHead';
import { writeClassifierFolder } from '../training/classificationHeadExport';
import { CLASSIFICATION_KINDS, EMBEDDING_KINDS } from '../training/embeddingExamples';
import { readSavedTaskHead, type TaskHead } from '../training/savedTaskHead';
import { TokenClassificationEvaluator } from '../training/tokenClassificationEvaluator';
import { writeTokenClassifierFolder } from '../training/tokenClassificationExport';
import { TokenClassificationHead } from '../training/tokenClassificationHead';
import { evaluationOptions } from '../training/evaluationOptions';
import { ValidationEvaluator } from '../training/validationEvaluator';
import { requireRegularFile, UsageError, type CliIo } from './cliIo';
import { encodeImages, isImageModelFolder } from './encodeImages';
import { evalImages } from './evalImages';
import { exportImageCheckpoint } from './exportImageCheckpoint';
import { readConfigOrReport } from './configErrorReport';

export const ENCODE_USAGE = `embedtune encode MODEL --in FILE.txt --out FILE.jsonl [--prompt NAME] [--batch-size N] [--backend auto|node-gpu|node|wasm|cpu]

Embeds each line of FILE.txt (empty lines included) and writes one JSON object per line: {"text": …, "embedding": […]}.
MODEL is a checkpoint folder, a sentence-transformers or Hugging Face model folder, or a hub id in the local cache.
  --prompt NAME   put the model's prompt NAME (model.prompts, or its config_sentence_transformers.json) in front
                  of every line, as SentenceTransformer.encode(prompt_name=NAME); without it the model's
                  default_prompt_name applies, if it has one
An image model (a ResNet folder, transformers' or timm's, or an image run's checkpoint or model/) embeds images
instead: --in is a folder of .png/.jpg/.jpeg files or a text file of image paths (relative to it), and each line of
--out is {"image": …, "embedding": […]}, the pooled embedding before the classifier head.`;

export const EXPORT_USAGE = `embedtune export CHECKPOINT --out DIR [--adapter-only]

Writes a checkpoint as a sentence-transformers folder that SentenceTransformer(DIR) loads; LoRA updates are merged in.
A classification or token-classification head is written beside it (classifier/ or token_classifier/), as training's
final export writes it. An image run's checkpoint is written as its transformers ResNetForImageClassification folder.
  --adapter-only   for a LoRA checkpoint, write only the adapter in PEFT's layout (adapter_config.json and
                   adapter_model.safetensors), which PeftModel.from_pretrained applies to the base model`;

export const EVAL_USAGE = `embedtune eval CHECKPOINT_OR_MODEL --config CONFIG [--data FILE] [--backend …]

Computes the config's evaluation metrics on its validation data (or on FILE, read with the config's columns),
prints them as JSON and writes them to eval_results.json next to the model. For classification and token
classification, the model's head (a checkpoint's, or an exported model's classifier/ or token_classifier/) is
evaluated, and the confusion matrix and per-class (per entity type) scores are reported too. For image-classification,
an image run's checkpoint or model/ is evaluated on the validation images, preprocessed as the run's were: accuracy,
macro-F1 and mAP (the config's metrics), the confusion matrix, per-class scores with average precision, and the most
confident mistakes.`;

async function backendFrom(value: string | undefined, usage: string): Promise<string> {
  const preference = value ?? 'auto';
  if (!isTfjsBackend(preference)) throw new UsageError(`--backend must be one of ${TFJS_BACKENDS.join(', ')}, not "${preference}".`, usage);
  return (await selectBackend(preference)).name;
}

/** The task head saved with a model, or null after saying why it cannot be read (a damaged or older head). */
function savedHeadOr(folder: string, command: string, io: CliIo): TaskHead | undefined | null {
  try {
    return readSavedTaskHead(folder);
  } catch (error) {
    io.err(`embedtune ${command}: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}

export async function runEncode(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      in: { type: 'string' },
      out: { type: 'string' },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
      prompt: { type: 'string' },
    },
  });
  if (positionals.length !== 1 || !values.in || !values.out) throw new UsageError('encode needs a MODEL, --in and --out.', ENCODE_USAGE);
  const batchSize = Number(values['batch-size'] ?? 32);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new UsageError(`--batch-size must be a whole number of at least 1, not "${values['batch-size']}".`, ENCODE_USAGE);
  if (!existsSync(values.in)) {
    io.err(`embedtune encode: ${values.in} does not exist.`);
    return 1;
  }
  const backend = await backendFrom(values.backend, ENCODE_USAGE);
  if (isImageModelFolder(positionals[0]!)) return encodeImages(positionals[0]!, { input: values.in, out: values.out, batchSize }, io);
  const model = await loadInferenceModel(positionals[0]!, encoderOpsFor(backend));
  let prompt: { name?: string; text: string };
  try {
    const prompts = await modelPrompts(positionals[0]!, model.runConfig, { baseDir: process.cwd(), env: process.env });
    prompt = choosePrompt(prompts, values.prompt, positionals[0]!);
    if (prompt.text !== '' && prompts.poolingProblem) throw new Error(prompts.poolingProblem);
  } catch (error) {
    io.err(`embedtune encode: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const lines = readFileSync(values.in, 'utf8')
    .replace(/\r?\n$/, '')
    .split(/\r?\n/);
  const vectors = await model.embedder.encode(
    lines.map((line) => prompt.text + line),
    batchSize,
  );
  const out = createWriteStream(values.out);
  lines.forEach((text, i) => out.write(`${JSON.stringify({ text, embedding: Array.from(vectors[i]!) })}\n`));
  await new Promise<void>((resolveEnd, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolveEnd())));
  const prompted = prompt.name === undefined ? '' : ` with prompt ${prompt.name} (${JSON.stringify(prompt.text)})`;
  io.err(`${lines.length} embeddings of dimension ${model.embedder.dimension} from ${model.description}${prompted} → ${values.out}`);
  return 0;
}

export async function runExport(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { out: { type: 'string' }, backend: { type: 'string' }, 'adapter-only': { type: 'boolean', default: false } },
  });
  if (positionals.length !== 1 || !values.out) throw new UsageError('export needs a CHECKPOINT and --out.', EXPORT_USAGE);
  if (!existsSync(join(positionals[0]!, TRAINER_STATE_FILE))) {
    io.err(
      `embedtune export: ${positionals[0]} is not an EmbedTune checkpoint (no ${TRAINER_STATE_FILE}); checkpoints are in <run>/checkpoints/step-N.`,
    );
    return 1;
  }
  if (isImageModelFolder(positionals[0]!)) return exportImageCheckpoint(positionals[0]!, values.out, values['adapter-only'], io);
  const backend = await backendFrom(values.backend, EXPORT_USAGE);
  const model = await loadInferenceModel(positionals[0]!, encoderOpsFor(backend));
  if (model.embedder.encoder.extensions?.adapter) {
    io.err('embedtune export: adapter checkpoints cannot be written as a plain sentence-transformers model yet.');
    return 1;
  }
  const { embedder, runConfig } = model;
  const head = savedHeadOr(positionals[0]!, 'export', io);
  if (head === null) return 1;
  if (values['adapter-only']) {
    const lora = embedder.encoder.extensions?.lora;
    if (!lora) {
      io.err(`embedtune export: ${positionals[0]} was not trained with strategy lora, so it has no adapter to export.`);
      return 1;
    }
    writePeftAdapterFolder(values.out, await embedder.encoder.snapshot(), lora, runConfig?.model.base ?? '');
    io.err(`exported the LoRA adapter of ${model.description} → ${values.out}`);
    return 0;
  }
  writeSentenceTransformersFolder(values.out, {
    hfConfigJson: model.hfConfigJson,
    weights: await embedder.encoder.exportWeights(),
    tokenizer: embedder.tokenizer,
    pooling: embedder.settings.pooling,
    normalize: embedder.settings.normalize,
    maxSeqLength: embedder.settings.maxSeqLength,
    modelCard: {
      baseModel: runConfig?.model.base ?? positionals[0]!,
      configYaml: runConfig ? stringify(runConfig) : '',
      metrics: {},
      ...(runConfig?.loss.matryoshka ? { matryoshkaDims: runConfig.loss.matryoshka.dims } : {}),
    },
    ...(runConfig?.model.prompts ? { prompts: runConfig.model.prompts } : {}),
    ...(runConfig?.model.default_prompt_name ? { defaultPromptName: runConfig.model.default_prompt_name } : {}),
  });
  if (head instanceof ClassificationHead) await writeClassifierFolder(values.out, head);
  if (head instanceof TokenClassificationHead) await writeTokenClassifierFolder(values.out, head, embedder.settings.maxSeqLength);
  io.err(`exported ${model.description}${head ? ` with its ${head.labels.length}-label head` : ''} → ${values.out}`);
  return 0;
}

export async function runEval(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: 'string' }, data: { type: 'string' }, backend: { type: 'string' } },
  });
  if (positionals.length !== 1 || !values.config) throw new UsageError('eval needs a CHECKPOINT_OR_MODEL and --config.', EVAL_USAGE);
  requireRegularFile(values.config, 'The config');
  const runConfig = readConfigOrReport(values.config, io, 'eval');
  if (!runConfig) return 1;
  // --data replaces the validation set: it is read as a validation file, with the config's columns.
  const config = values.data
    ? { ...runConfig.config, data: { ...runConfig.config.data, validation: resolve(values.data) } }
    : runConfig.config;
  if (config.task === 'image-classification') {
    // The run's backend unless --backend says otherwise: the forward pass runs on any of them.
    await backendFrom(values.backend ?? config.engine.backend, EVAL_USAGE);
    return evalImages({ config, configDir: runConfig.configDir, model: positionals[0]!, dataArg: values.data }, io);
  }
  if (isImageModelFolder(positionals[0]!)) {
    io.err(
      `embedtune eval: ${positionals[0]} is an image model; evaluate it with a config of task: image-classification, not ${config.task}.`,
    );
    return 1;
  }
  const kind = exampleKindFor(config.task, config.loss.type);
  const classifies = CLASSIFICATION_KINDS.includes(kind);
  const tagging = kind === 'token-tags';
  if (!EMBEDDING_KINDS.includes(kind) && !classifies && !tagging) {
    io.err(`embedtune eval: task ${config.task} with loss ${config.loss.type} is not evaluated by the tfjs engine yet.`);
    return 1;
  }
  const backend = await backendFrom(values.backend, EVAL_USAGE);
  // Evaluation reads the validation rows only, so the training rows are not augmented (and WordNet is not opened).
  const data = await loadTrainingData(config, runConfig.configDir, { augment: false });
  const model = await loadInferenceModel(positionals[0]!, encoderOpsFor(backend), { baseDir: process.cwd() });
  const folder = resolve(positionals[0]!);
  const head = (classifies || tagging) && existsSync(folder) ? savedHeadOr(folder, 'eval', io) : undefined;
  if (head === null) return 1;
  const wanted = classifies ? ClassificationHead : TokenClassificationHead;
  if ((classifies || tagging) && !(head instanceof wanted)) {
    const where = classifies ? 'a classifier/ folder' : 'a token_classifier/ folder';
    io.err(
      `embedtune eval: ${positionals[0]} has no ${classifies ? 'classification' : 'token-classification'} head for task ${config.task}; evaluate a checkpoint of such a run, or an exported model with ${where}.`,
    );
    return 1;
  }
  const batchSize = config.training.batch_size;
  const scored =
    head instanceof ClassificationHead
      ? await new ClassificationEvaluator(data.validation, config.evaluation.metrics).evaluate(model.embedder, head, batchSize)
      : head instanceof TokenClassificationHead
        ? await new TokenClassificationEvaluator(data.validation as TokenTagsExample[], config.evaluation.metrics).evaluate(
            { embedder: model.embedder, head, aligner: new WordPieceAligner(model.embedder.tokenizer) },
            batchSize,
          )
        : undefined;
  const metrics = scored
    ? scored.metrics
    : await new ValidationEvaluator(kind, data.validation, config.evaluation.metrics, evaluationOptions(config)).evaluate(
        model.embedder,
        batchSize,
      );
  const report = {
    model: positionals[0],
    data: values.data ?? config.data.validation ?? `${config.data.train} (validation split)`,
    examples: data.validation.length,
    metrics,
    ...(scored ? { confusion_matrix: scored.confusionMatrix, per_class: 'perClass' in scored ? scored.perClass : scored.perType } : {}),
  };
  io.out(JSON.stringify(report, null, 2));
  if (existsSync(folder)) writeFileSync(join(folder, EVAL_RESULTS_FILE), `${JSON.stringify(report, null, 2)}\n`);
  return 0;
}
