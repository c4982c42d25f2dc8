import { dirname } from 'node:path';
import { DataFileProbe } from '../data/dataFileProbe';
import { checkAccelerateCounterparts } from './checks/accelerateChecks';
import { checkDataFiles, checkValidationSource } from './checks/dataChecks';
import { checkEngineOptions, checkMixedPrecision } from './checks/engineChecks';
import { checkImageFolders } from './checks/imageDataChecks';
import {
  checkClassificationMapMetric,
  checkImageCropBox,
  checkImageCropFitsSize,
  checkImageFreezeLayers,
  checkImageKeysFitTask,
  checkRandomResizedCropRanges,
} from './checks/imageChecks';
import {
  checkCheckpointInterval,
  checkEarlyStoppingHasEvaluation,
  checkMetricsFitTask,
  checkPrimaryMetric,
} from './checks/evaluationChecks';
import { checkHeadLearningRate, checkInBatchNegativesBatchSize, checkLossFitsTask, checkMnrlAccumulation } from './checks/lossChecks';
import { makeModelCheck } from './checks/modelChecks';
import { checkNegativeColumnsFitLoss, checkStringNegativeWithMnrl } from './checks/negativeColumnsChecks';
import { checkMatryoshka, checkPromptNames, checkPromptsFitTask } from './checks/promptChecks';
import { makeSpellingProtectFileCheck } from './checks/spellingChecks';
import { checkStrategyForDatasetSize, checkStrategyOptions } from './checks/strategyChecks';
import type { ConfigCheck } from './checks/checkContext';
import type { ConfigDiagnostic } from './configDiagnostic';
import { ConfigView } from './configView';
import { readDatasetFacts, type DatasetFacts } from './datasetFacts';
import { embedtuneSchema, embedtuneSchemaNavigator } from './embedtuneSchema';
import { parseConfigText, type ParsedConfig } from './parsedConfig';
import { planRun, type RunPlan } from './runPlan';
import { MAX_SCHEMA_DIAGNOSTICS, SchemaValidator } from './schemaDiagnostics';

export interface ValidationOptions {
  /** Absolute path of the config file; data and model paths resolve against its folder. Omit for unsaved text. */
  readonly configPath?: string;
  /** Shared across validations so that unchanged data files are not re-read. */
  readonly probe?: DataFileProbe;
  /** Parses the text; an editor passes a per-document `SectionedConfigParser` so that an edit re-parses one section. */
  readonly parse?: (text: string) => ParsedConfig;
  /** Reports a check that threw, instead of losing it silently. */
  readonly onInternalError?: (error: unknown, check: string) => void;
}

export interface ValidationResult {
  readonly parsed: ParsedConfig;
  readonly view: ConfigView;
  readonly dataset: DatasetFacts;
  /** Syntax errors first, then schema errors, then the checks beyond the schema. */
  readonly diagnostics: ConfigDiagnostic[];
}

const SEMANTIC_CHECKS: readonly [string, ConfigCheck][] = [
  ['data files', checkDataFiles],
  ['image folders', checkImageFolders],
  ['validation source', checkValidationSource],
  ['loss fits task', checkLossFitsTask],
  ['negative columns fit loss', checkNegativeColumnsFitLoss],
  ['string negative with mnrl', checkStringNegativeWithMnrl],
  ['mnrl accumulation', checkMnrlAccumulation],
  ['in-batch negatives batch size', checkInBatchNegativesBatchSize],
  ['head learning rate', checkHeadLearningRate],
  ['primary metric', checkPrimaryMetric],
  ['early stopping', checkEarlyStoppingHasEvaluation],
  ['checkpoint interval', checkCheckpointInterval],
  ['metrics fit task', checkMetricsFitTask],
  ['strategy for dataset size', checkStrategyForDatasetSize],
  ['strategy options', checkStrategyOptions],
  ['mixed precision', checkMixedPrecision],
  ['engine options', checkEngineOptions],
  ['accelerate counterparts', checkAccelerateCounterparts],
  ['prompt names', checkPromptNames],
  ['prompts fit task', checkPromptsFitTask],
  ['matryoshka', checkMatryoshka],
  ['image keys fit task', checkImageKeysFitTask],
  ['classification map metric', checkClassificationMapMetric],
  ['image crop fits size', checkImageCropFitsSize],
  ['image crop box', checkImageCropBox],
  ['random resized crop ranges', checkRandomResizedCropRanges],
  ['image freeze layers', checkImageFreezeLayers],
];

let sharedValidator: SchemaValidator | undefined;
const defaultProbe = new DataFileProbe();

function schemaValidator(): SchemaValidator {
  sharedValidator ??= new SchemaValidator(embedtuneSchema, embedtuneSchemaNavigator);
  return sharedValidator;
}

/** The one validation engine behind the language server, the CLI and the trainer. Never throws on any input text. */
export function validateConfigText(text: string, options: ValidationOptions = {}): ValidationResult {
  const parsed = (options.parse ?? parseConfigText)(text);
  const configDir = options.configPath ? dirname(options.configPath) : undefined;
  // With a syntax error the parsed value is a guess; schema and other errors about it would mislead.
  if (parsed.syntaxDiagnostics.length > 0) {
    return {
      parsed,
      view: new ConfigView(undefined, embedtuneSchemaNavigator),
      dataset: {},
      diagnostics: firstSyntaxErrors(parsed.syntaxDiagnostics),
    };
  }
  const { diagnostics: schemaDiagnostics, rejectedPaths } = schemaValidator().diagnose(parsed);
  const view = new ConfigView(parsed.value, embedtuneSchemaNavigator, rejectedPaths);
  const diagnostics: ConfigDiagnostic[] = [...schemaDiagnostics];
  let dataset: DatasetFacts = {};
  const isMapping = parsed.value !== null && typeof parsed.value === 'object' && !Array.isArray(parsed.value);
  if (isMapping) {
    try {
      dataset = readDatasetFacts(view, configDir, options.probe ?? defaultProbe);
    } catch (error) {
      options.onInternalError?.(error, 'dataset facts');
    }
    const checks: [string, ConfigCheck][] = [
      ...SEMANTIC_CHECKS,
      ['model', makeModelCheck(configDir, (options.probe ?? defaultProbe).mayRead)],
      ['spelling protect file', makeSpellingProtectFileCheck(configDir, (options.probe ?? defaultProbe).mayRead)],
    ];
    for (const [name, check] of checks) {
      try {
        view.resetTaint();
        const found = check({ parsed, view, dataset });
        if (!view.tainted) diagnostics.push(...found);
      } catch (error) {
        options.onInternalError?.(error, name);
      }
    }
  }
  return { parsed, view, dataset, diagnostics };
}

/** As many syntax errors as schema problems are listed (MAX_SCHEMA_DIAGNOSTICS), and one diagnostic counts the rest. */
function firstSyntaxErrors(found: readonly ConfigDiagnostic[]): ConfigDiagnostic[] {
  if (found.length <= MAX_SCHEMA_DIAGNOSTICS) return [...found];
  const next = found[MAX_SCHEMA_DIAGNOSTICS]!;
  const rest = found.length - MAX_SCHEMA_DIAGNOSTICS;
  return [
    ...found.slice(0, MAX_SCHEMA_DIAGNOSTICS),
    {
      range: next.range,
      severity: 'error',
      code: 'too-many-problems',
      message: `${rest} more syntax error${rest === 1 ? '' : 's'} from here on ${rest === 1 ? 'is' : 'are'} not listed: a document lists the first ${MAX_SCHEMA_DIAGNOSTICS}. The next one: ${next.message}`,
    },
  ];
}

export function planFromValidation(result: ValidationResult): RunPlan {
  return planRun(result.view, result.dataset);
}

export function hasErrors(diagnostics: readonly ConfigDiagnostic[]): boolean {
  return diagnostics.some((diagnostic) => diagnostic.severity === 'error');
}
