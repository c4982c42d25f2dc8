import { join, relative } from 'node:path';
import type { EventLogWriter } from '../../shared/events/eventLogWriter';
import type { MetricValues } from '../../shared/events/runEvents';
import { EXPORTED_MODEL_DIR } from '../../shared/run/runFolder';
import type { TrainedModel } from '../model/trainedModel';
import type { TrainingObjective } from '../objectives/objective';
import type { PreparedRun } from '../run/prepareRun';
import { loadCheckpoint } from './checkpointStore';

export interface FinalModel {
  readonly runDir: string;
  /** The best checkpoint, relative to the run folder; null exports the weights as they are. */
  readonly best: string | null;
  readonly model: TrainedModel;
  readonly objective: Pick<TrainingObjective, 'head' | 'exportTo'>;
  readonly prepared: Pick<PreparedRun, 'config' | 'written' | 'data'>;
  /** The latest evaluation's metrics, for the model card. */
  readonly metrics: MetricValues | null;
  readonly events: EventLogWriter;
}

/**
 * The best checkpoint (or the final weights) in `<run>/model`, as the model's library loads it (a sentence-transformers
 * folder, or a transformers image classifier), with what the task adds (a text classifier's or tagger's head).
 */
export async function exportFinalModel({ runDir, best, model, objective, prepared, metrics, events }: FinalModel): Promise<string | null> {
  const problem = model.exportProblem();
  if (problem) {
    events.write({ type: 'log', level: 'warning', message: problem });
    return null;
  }
  if (best) {
    const { weights } = loadCheckpoint(join(runDir, best), (folder) => model.readCheckpointWeights(folder));
    model.restore(weights);
    objective.head?.restore(weights);
  }
  const folder = join(runDir, EXPORTED_MODEL_DIR);
  const { config, written, data } = prepared;
  const what = await model.exportTo(folder, { config, written, dataset: data.summary.dataset, metrics });
  await objective.exportTo(folder);
  events.write({
    type: 'log',
    level: 'info',
    message: `Exported ${best ?? 'the final weights'} as ${what}: ${relative(runDir, folder)}`,
  });
  return folder;
}
