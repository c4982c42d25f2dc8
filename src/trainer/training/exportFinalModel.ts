import { join, relative } from 'node:path';
import { stringify } from 'yaml';
import type { EventLogWriter } from '../../shared/events/eventLogWriter';
import type { MetricValues } from '../../shared/events/runEvents';
import { EXPORTED_MODEL_DIR } from '../../shared/run/runFolder';
import type { LoadedEmbedder } from '../model/loadEmbedder';
import { writeSentenceTransformersFolder } from '../model/sentenceTransformersFolder';
import type { TrainingObjective } from '../objectives/objective';
import type { PreparedRun } from '../run/prepareRun';
import { loadCheckpoint } from './checkpointStore';

export interface FinalModel {
  readonly runDir: string;
  /** The best checkpoint, relative to the run folder; null exports the weights as they are. */
  readonly best: string | null;
  readonly loaded: LoadedEmbedder;
  readonly objective: TrainingObjective;
  readonly prepared: Pick<PreparedRun, 'config' | 'written' | 'data'>;
  /** The latest evaluation's metrics, for the model card. */
  readonly metrics: MetricValues | null;
  readonly events: EventLogWriter;
}

/** The best checkpoint (or the final weights) as a sentence-transformers folder in `<run>/model`, with the task's head. */
export async function exportFinalModel({ runDir, best, loaded, objective, prepared, metrics, events }: FinalModel): Promise<string | null> {
  const { embedder, hfConfigJson } = loaded;
  const { encoder, settings } = embedder;
  if (encoder.extensions?.adapter) {
    events.write({
      type: 'log',
      level: 'warning',
      message: 'Adapters cannot be exported as a plain sentence-transformers model yet; the checkpoints hold the trained adapters.',
    });
    return null;
  }
  if (best) {
    const { weights } = loadCheckpoint(join(runDir, best));
    encoder.restore(weights);
    objective.head?.restore(weights);
  }
  const folder = join(runDir, EXPORTED_MODEL_DIR);
  const { dataset } = prepared.data.summary;
  const { config } = prepared;
  writeSentenceTransformersFolder(folder, {
    hfConfigJson,
    weights: await encoder.exportWeights(),
    tokenizer: embedder.tokenizer,
    pooling: settings.pooling,
    normalize: settings.normalize,
    maxSeqLength: settings.maxSeqLength,
    modelCard: {
      baseModel: prepared.config.model.base,
      configYaml: stringify(prepared.written),
      metrics: Object.fromEntries(Object.entries(metrics ?? {}).filter((entry): entry is [string, number] => entry[1] !== null)),
      datasetSummary: `${dataset.train_rows} training and ${dataset.validation_rows} validation rows.`,
      ...(config.loss.matryoshka ? { matryoshkaDims: config.loss.matryoshka.dims } : {}),
    },
    ...(config.model.prompts ? { prompts: config.model.prompts } : {}),
    ...(config.model.default_prompt_name ? { defaultPromptName: config.model.default_prompt_name } : {}),
  });
  await objective.exportTo(folder);
  events.write({
    type: 'log',
    level: 'info',
    message: `Exported ${best ?? 'the final weights'} as a sentence-transformers model: ${relative(runDir, folder)}`,
  });
  return folder;
}
