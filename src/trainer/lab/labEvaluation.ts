import { dirname } from 'node:path';
import type { ResolvedConfig } from '../../shared/config/configTypes';
import { rolePromptTexts, type RolePromptTexts } from '../../shared/config/promptSettings';
import type { ExampleKind } from '../../shared/data/trainingExamples';
import { InputFileError } from '../cli/cliIo';
import { DataFileError, DataRowError } from '../data/dataErrors';
import { loadTrainingData } from '../data/loadTrainingData';
import { buildRetrievalEvalSet, type RetrievalEvalSet } from '../evaluation/retrievalEvalSet';
import { CLASSIFICATION_KINDS, EMBEDDING_KINDS } from '../training/embeddingExamples';

/** Gold scores at or above this count as relevant, as the training's ValidationEvaluator judges scored pairs. */
const RELEVANT_SCORE = 0.5;

/** A validation row a classification run predicts a label for: one text, or a pair for pair classification. */
export interface LabelledExample {
  readonly first: string;
  readonly second?: string;
  readonly label: string;
}

/** The run's evaluation as the Lab replays it: retrieval queries and their positives, or labelled examples. */
export type LabEvaluation =
  | { readonly task: 'retrieval'; readonly set: RetrievalEvalSet; readonly prompts: RolePromptTexts }
  | { readonly task: 'classification'; readonly examples: readonly LabelledExample[] };

/**
 * The validation examples of a config, read by the training's own loader (columns, cleaning, the validation split
 * of the training file when there is no validation file), turned into what the run's evaluation measured.
 */
export async function readLabEvaluation(configPath: string, config: ResolvedConfig): Promise<LabEvaluation> {
  let data;
  try {
    data = await loadTrainingData(config, dirname(configPath), { augment: false });
  } catch (error) {
    // A bad row or a missing file is the user's to fix: said with its file and line, never a stack trace.
    if (error instanceof DataFileError || error instanceof DataRowError) throw new InputFileError(error.message);
    throw error;
  }
  // Kinds are compared as strings: a kind the Lab does not replay (token tags, images) is refused by name.
  const kind = data.kind as string;
  const validation = data.validation as readonly unknown[];
  if ((CLASSIFICATION_KINDS as readonly string[]).includes(kind)) return { task: 'classification', examples: labelledExamples(validation) };
  if (!(EMBEDDING_KINDS as readonly string[]).includes(kind))
    throw new InputFileError(`${configPath}: the task ${config.task} has no retrieval or classification evaluation for the Lab.`);
  return { task: 'retrieval', set: retrievalSet(kind as ExampleKind, validation), prompts: rolePromptTexts(config.model) };
}

/** As ValidationEvaluator: anchors are queries, every positive is a document, relevance from the label or score. */
function retrievalSet(kind: ExampleKind, examples: readonly unknown[]): RetrievalEvalSet {
  const pairs = examples as unknown as readonly { anchor: string; positive: string; score?: number; label?: number }[];
  return buildRetrievalEvalSet(
    pairs.map((pair) => ({
      anchor: pair.anchor,
      positive: pair.positive,
      relevant: kind === 'scored-pair' ? (pair.score ?? 0) >= RELEVANT_SCORE : kind === 'contrastive-pair' ? pair.label === 1 : true,
    })),
  );
}

function labelledExamples(examples: readonly unknown[]): LabelledExample[] {
  const rows = examples as unknown as readonly { text?: string; anchor?: string; positive?: string; label: string | number }[];
  return rows.map((row) =>
    row.text !== undefined
      ? { first: row.text, label: String(row.label) }
      : { first: row.anchor!, second: row.positive!, label: String(row.label) },
  );
}
