import type { ClassScores, ConfusionMatrix, MetricValues } from '../../shared/events/runEvents';
import type { TokenTagsExample } from '../data/trainingExamples';
import { classificationReport } from '../evaluation/classificationMetrics';
import { entityReport } from '../evaluation/entityMetrics';
import { predictTags, type Tagger } from './tokenClassificationStep';

export interface TokenClassificationEvaluation {
  /** precision, recall and f1 are entity-level (seqeval's default); accuracy is the share of words tagged right. */
  readonly metrics: MetricValues;
  /** Scores of each entity type; support counts gold entities. */
  readonly perType: Record<string, ClassScores>;
  /** Gold tag (rows) against predicted tag (columns), one count per word. */
  readonly confusionMatrix: ConfusionMatrix;
}

/** Tags the validation sentences and scores the entities found, as seqeval does. */
export class TokenClassificationEvaluator {
  constructor(
    private readonly rows: readonly TokenTagsExample[],
    private readonly metrics: readonly string[],
  ) {}

  get size(): number {
    return this.rows.length;
  }

  async evaluate(tagger: Tagger, batchSize: number): Promise<TokenClassificationEvaluation> {
    const gold = this.rows.map((row) => row.tags);
    const predicted = await predictTags(
      tagger,
      this.rows.map((row) => row.tokens),
      batchSize,
    );
    const report = entityReport(gold, predicted);
    const values: MetricValues = {};
    for (const metric of this.metrics) {
      const value = (report.metrics as Record<string, number>)[metric];
      values[metric] = value === undefined || !Number.isFinite(value) ? null : value;
    }
    const tags = classificationReport(gold.flat(), predicted.flat());
    return { metrics: values, perType: report.perType, confusionMatrix: tags.confusionMatrix };
  }
}
