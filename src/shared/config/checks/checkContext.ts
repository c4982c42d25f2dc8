import type { ConfigDiagnostic } from '../configDiagnostic';
import type { ConfigView } from '../configView';
import type { DatasetFacts } from '../datasetFacts';
import type { ParsedConfig } from '../parsedConfig';

export interface CheckContext {
  readonly parsed: ParsedConfig;
  readonly view: ConfigView;
  readonly dataset: DatasetFacts;
}

/** A check no schema can express. It reads the config through `view` and never throws on odd input. */
export type ConfigCheck = (context: CheckContext) => ConfigDiagnostic[];
