import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { Pooling } from '../../shared/config/configTypes';
import { checkModelWeights, parseModelConfig } from './autoModel';
import type { HfConfigJson } from './bertConfig';
import type { NamedTensors } from './namedTensors';
import { PYTORCH_METADATA, writeSafetensors } from './safetensors';
import type { TextTokenizer } from './textTokenizer';

/**
 * The sentence-transformers folder layout: modules.json lists the modules in order (Transformer, Pooling, and
 * optionally Normalize), each with its settings in its own subfolder. Reading it lets the trainer default to a
 * model's own pooling; writing it gives an export that `SentenceTransformer(path)` loads as it is.
 */

/** A model's own embedding settings, as its sentence-transformers modules declare them. */
export interface SentenceTransformersSettings {
  /** Set when the Pooling module uses exactly one mode, and it is one EmbedTune implements. */
  pooling?: Pooling;
  /** Every mode the Pooling module turns on, in sentence-transformers' words (`mean_tokens`, `cls_token`, `weightedmean_tokens`…). */
  poolingModes: string[];
  normalize: boolean;
  /** From sentence_bert_config.json: the length the model was trained and is meant to be used with. */
  maxSeqLength?: number;
  /** sentence-transformers lowercases the text itself before tokenizing when this is set. */
  doLowerCase: boolean;
  /** Modules after pooling that EmbedTune does not run (`sentence_transformers.models.Dense`…), so its vectors would differ. */
  unsupportedModules: string[];
}

interface ModuleEntry {
  path: string;
  type: string;
}

const POOLING_FLAGS: Readonly<Record<string, string>> = {
  pooling_mode_cls_token: 'cls_token',
  pooling_mode_mean_tokens: 'mean_tokens',
  pooling_mode_max_tokens: 'max_tokens',
  pooling_mode_mean_sqrt_len_tokens: 'mean_sqrt_len_tokens',
  pooling_mode_weightedmean_tokens: 'weightedmean_tokens',
  pooling_mode_lasttoken: 'lasttoken',
};

/** Pooling's string form (`Pooling(pooling_mode="cls")`) in the flag names above. */
const POOLING_MODE_NAMES: Readonly<Record<string, string>> = {
  cls: 'cls_token',
  mean: 'mean_tokens',
  max: 'max_tokens',
  mean_sqrt_len_tokens: 'mean_sqrt_len_tokens',
  weightedmean: 'weightedmean_tokens',
  lasttoken: 'lasttoken',
};

const SUPPORTED_POOLING: Readonly<Record<string, Pooling>> = { cls_token: 'cls', mean_tokens: 'mean', max_tokens: 'max' };

/** The config file names the Transformer module has used over sentence-transformers' history, newest first. */
const TRANSFORMER_CONFIG_FILES = [
  'sentence_bert_config.json',
  'sentence_roberta_config.json',
  'sentence_distilbert_config.json',
  'sentence_camembert_config.json',
  'sentence_albert_config.json',
  'sentence_xlm-roberta_config.json',
  'sentence_xlnet_config.json',
];

/** The settings of the sentence-transformers model in `rootFolder`, or undefined when it has no modules.json. */
export function readSentenceTransformersSettings(rootFolder: string): SentenceTransformersSettings | undefined {
  const modulesPath = join(rootFolder, 'modules.json');
  if (!existsSync(modulesPath)) return undefined;
  const modules = readModules(modulesPath);
  const settings: SentenceTransformersSettings = { poolingModes: [], normalize: false, doLowerCase: false, unsupportedModules: [] };

  for (const module of modules) {
    const kind = module.type.split('.').pop();
    if (kind === 'Transformer') Object.assign(settings, readTransformerSettings(join(rootFolder, module.path)));
    else if (kind === 'Pooling') settings.poolingModes = readPoolingModes(join(rootFolder, module.path, 'config.json'));
    else if (kind === 'Normalize') settings.normalize = true;
    else settings.unsupportedModules.push(module.type);
  }
  const [onlyMode] = settings.poolingModes;
  if (settings.poolingModes.length === 1 && onlyMode !== undefined && onlyMode in SUPPORTED_POOLING)
    settings.pooling = SUPPORTED_POOLING[onlyMode];
  return settings;
}

function readModules(modulesPath: string): ModuleEntry[] {
  const modules = readJson(modulesPath);
  if (!Array.isArray(modules)) throw new Error(`${modulesPath} is not a list of modules.`);
  return modules.map((module: unknown, index) => {
    const entry = module as Partial<Record<string, unknown>>;
    if (typeof entry?.['type'] !== 'string') throw new Error(`${modulesPath}: module ${index} has no "type".`);
    return { type: entry['type'], path: typeof entry['path'] === 'string' ? entry['path'] : '' };
  });
}

function readTransformerSettings(folder: string): Pick<SentenceTransformersSettings, 'maxSeqLength' | 'doLowerCase'> {
  const file = TRANSFORMER_CONFIG_FILES.map((name) => join(folder, name)).find((path) => existsSync(path));
  if (!file) return { doLowerCase: false };
  const config = readJson(file) as Record<string, unknown>;
  const maxSeqLength = config['max_seq_length'];
  return {
    doLowerCase: config['do_lower_case'] === true,
    ...(typeof maxSeqLength === 'number' && Number.isInteger(maxSeqLength) && maxSeqLength > 0 ? { maxSeqLength } : {}),
  };
}

function readPoolingModes(configPath: string): string[] {
  if (!existsSync(configPath)) throw new Error(`The Pooling module's settings ${configPath} are missing.`);
  const config = readJson(configPath) as Record<string, unknown>;
  const named = config['pooling_mode'];
  if (typeof named === 'string') return [POOLING_MODE_NAMES[named.toLowerCase()] ?? named];
  return Object.entries(POOLING_FLAGS)
    .filter(([flag]) => config[flag] === true)
    .map(([, mode]) => mode);
}

export interface ModelCardInfo {
  /** The model the fine-tune started from: a hub id, or a local path. */
  baseModel: string;
  /** The EmbedTune config the model was trained with, as YAML. */
  configYaml: string;
  /** Final evaluation results, by metric name. */
  metrics: Record<string, number>;
  /** A sentence or two about the training data. */
  datasetSummary?: string;
  /** loss.matryoshka's dims: the sizes the embeddings were trained to be cut to. */
  matryoshkaDims?: readonly number[];
}

export interface SentenceTransformersExport {
  /** config.json for the transformer, e.g. from `toHfConfigJson`. */
  hfConfigJson: HfConfigJson;
  /** Encoder weights under `BertModel` names in PyTorch's [out, in] layout (the pooler may be included). */
  weights: NamedTensors;
  tokenizer: TextTokenizer;
  pooling: Pooling;
  normalize: boolean;
  maxSeqLength: number;
  modelCard: ModelCardInfo;
  /** model.prompts, for encode_query / encode_document and `encode(prompt_name=…)`. */
  prompts?: Readonly<Record<string, string>>;
  defaultPromptName?: string;
}

/**
 * Writes a folder `SentenceTransformer(dir)` loads, with the same files `SentenceTransformer.save` writes. Files go
 * to a hidden sibling first, which replaces `dir` only once complete, so a crash never leaves a half-written export.
 */
export function writeSentenceTransformersFolder(dir: string, model: SentenceTransformersExport): void {
  // Checked before anything is written, so a mismatched export fails with a clear message rather than loading in Python with random weights.
  const architecture = parseModelConfig(model.hfConfigJson, dir);
  const { config } = architecture;
  checkModelWeights(model.weights, architecture, 'the weights to export');
  if (!Number.isInteger(model.maxSeqLength) || model.maxSeqLength < 1 || model.maxSeqLength > architecture.maxSequenceLength) {
    throw new Error(
      `maxSeqLength must be an integer from 1 to the model's ${architecture.maxSequenceLength} positions, but is ${model.maxSeqLength}.`,
    );
  }

  mkdirSync(dirname(dir), { recursive: true });
  const staging = mkdtempSync(join(dirname(dir), `.${basename(dir)}.partial-`));
  try {
    writeJson(join(staging, 'config.json'), model.hfConfigJson);
    writeSafetensors(join(staging, 'model.safetensors'), model.weights, PYTORCH_METADATA);
    model.tokenizer.saveTo(staging, { modelMaxLength: model.maxSeqLength });
    writeJson(join(staging, 'sentence_bert_config.json'), { max_seq_length: model.maxSeqLength, do_lower_case: false });
    writeJson(join(staging, 'config_sentence_transformers.json'), {
      model_type: 'SentenceTransformer',
      prompts: { ...model.prompts },
      default_prompt_name: model.defaultPromptName ?? null,
      similarity_fn_name: 'cosine',
    });
    writeJson(join(staging, 'modules.json'), modulesJson(model.normalize));
    mkdirSync(join(staging, '1_Pooling'));
    writeJson(join(staging, '1_Pooling', 'config.json'), poolingConfig(config.hiddenSize, model.pooling));
    // Normalize saves no settings, but SentenceTransformer.save still makes its folder.
    if (model.normalize) mkdirSync(join(staging, '2_Normalize'));
    writeFileSync(join(staging, 'README.md'), modelCard(model, config.hiddenSize));
    replaceFolder(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

function modulesJson(normalize: boolean): object[] {
  const modules = [
    { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
    { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
  ];
  if (normalize) modules.push({ idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' });
  return modules;
}

/** Every key `Pooling.config_keys` lists, so that any sentence-transformers version reads the same mode. */
function poolingConfig(hiddenSize: number, pooling: Pooling): object {
  return {
    word_embedding_dimension: hiddenSize,
    pooling_mode_cls_token: pooling === 'cls',
    pooling_mode_mean_tokens: pooling === 'mean',
    pooling_mode_max_tokens: pooling === 'max',
    pooling_mode_mean_sqrt_len_tokens: false,
    pooling_mode_weightedmean_tokens: false,
    pooling_mode_lasttoken: false,
    include_prompt: true,
  };
}

/** Swaps `staging` in for `target`, keeping the old folder until the new one is in place. */
function replaceFolder(staging: string, target: string): void {
  if (!existsSync(target)) {
    renameSync(staging, target);
    return;
  }
  const previous = mkdtempSync(join(dirname(target), `.${basename(target)}.previous-`));
  rmSync(previous, { recursive: true });
  renameSync(target, previous);
  try {
    renameSync(staging, target);
  } catch (error) {
    renameSync(previous, target);
    throw error;
  }
  rmSync(previous, { recursive: true, force: true });
}

const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;

/** README.md as the Hub shows it: YAML metadata that files the model under sentence-transformers, then the card. */
function modelCard(model: SentenceTransformersExport, dimensions: number): string {
  const { baseModel, configYaml, metrics, datasetSummary } = model.modelCard;
  const metadata = {
    library_name: 'sentence-transformers',
    pipeline_tag: 'sentence-similarity',
    // The Hub links base_model to a model page, so a local path would be a broken link; it is named in the text instead.
    ...(HUB_ID.test(baseModel) ? { base_model: baseModel } : {}),
    tags: ['sentence-transformers', 'sentence-similarity', 'feature-extraction', 'embedtune'],
  };
  const lines = [
    '---',
    stringify(metadata).trimEnd(),
    '---',
    '',
    `# ${baseModel} fine-tuned with EmbedTune`,
    '',
    `This is a [sentence-transformers](https://www.SBERT.net) model fine-tuned from \`${baseModel}\` with EmbedTune. ` +
      `It maps sentences and paragraphs to a ${dimensions}-dimensional vector space for semantic search, clustering and similarity.`,
    '',
    '## Model details',
    '',
    `- **Base model:** ${HUB_ID.test(baseModel) ? `[${baseModel}](https://huggingface.co/${baseModel})` : `\`${baseModel}\``}`,
    `- **Maximum sequence length:** ${model.maxSeqLength} tokens`,
    `- **Output dimensionality:** ${dimensions}`,
    `- **Pooling:** ${model.pooling}${model.normalize ? ', then normalized to unit length' : ''}`,
    '',
  ];
  lines.push(...promptLines(model.prompts, model.defaultPromptName));
  lines.push(...matryoshkaSection(model.modelCard.matryoshkaDims, dimensions));
  if (datasetSummary) lines.push('## Training data', '', datasetSummary.trim(), '');
  lines.push(
    '## Usage',
    '',
    '```python',
    'from sentence_transformers import SentenceTransformer',
    '',
    'model = SentenceTransformer("path/to/this/folder")',
    'embeddings = model.encode(["The weather is lovely today.", "It is so sunny outside!"])',
    'print(model.similarity(embeddings, embeddings))',
    '```',
    '',
    '## Final metrics',
    '',
  );
  const entries = Object.entries(metrics);
  if (entries.length === 0) lines.push('No evaluation was run.', '');
  else
    lines.push(
      '| Metric | Value |',
      '| --- | --- |',
      ...entries.map(([name, value]) => `| ${name.replaceAll('|', '\\|')} | ${formatMetric(value)} |`),
      '',
    );
  const fence = codeFence(configYaml);
  lines.push('## EmbedTune configuration', '', `${fence}yaml`, configYaml.trimEnd(), fence, '');
  return lines.join('\n');
}

/** The saved prompts, which encode_query / encode_document apply; nothing when there are none. */
function promptLines(prompts: Readonly<Record<string, string>> | undefined, defaultPromptName: string | undefined): string[] {
  const entries = Object.entries(prompts ?? {});
  if (entries.length === 0) return [];
  return [
    '## Prompts',
    '',
    'Trained with these prompts in front of its inputs; `encode_query`, `encode_document` and `encode(prompt_name=...)` apply them.',
    '',
    ...entries.map(([name, text]) => `- \`${name}\`: ${JSON.stringify(text)}${name === defaultPromptName ? ' (the default)' : ''}`),
    '',
  ];
}

/** The Matryoshka sizes and how to load the model cut to one, as sentence-transformers' own cards show it. */
function matryoshkaSection(dims: readonly number[] | undefined, dimensions: number): string[] {
  if (!dims || dims.length === 0) return [];
  const sorted = [...dims].sort((a, b) => b - a);
  const smallest = sorted.at(-1)!;
  return [
    '## Matryoshka dimensions',
    '',
    `Trained with MatryoshkaLoss at ${sorted.join(', ')} dimensions (of ${dimensions}): its embeddings can be cut to any of these sizes.`,
    '',
    '```python',
    `model = SentenceTransformer("path/to/this/folder", truncate_dim=${smallest})`,
    '```',
    '',
  ];
}

function formatMetric(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(4))) : String(value);
}

/** A backtick fence longer than any backtick run in `text`, so a config that contains ``` cannot end the block early. */
function codeFence(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  return '`'.repeat(Math.max(3, longest + 1));
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
