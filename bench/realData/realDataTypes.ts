/** What bench/realData/realDataReport.ts records per case and resultsDoc.ts reads back. */
export type Task = 'spam' | 'gloss';
export type Strategy = 'baseline' | 'full' | 'freeze' | 'adapter' | 'lora';
/** The report's --backend: tfjs-node, or the wasm backend that runs where tfjs-node cannot install. */
export type BackendOption = 'node' | 'wasm';

/** The settings the run actually trained with, read from its config.resolved.yaml. */
export interface RunSettings {
  readonly max_seq_length: number;
  readonly batch_size: number;
  readonly epochs: number;
  /** The encoder's rate; null where the encoder is frozen whole. */
  readonly learning_rate: number | null;
  /** The task head's rate; null where the task has no head. */
  readonly head_learning_rate: number | null;
  readonly warmup: number;
  readonly scheduler: string;
  readonly seed: number;
}

export interface CaseResult {
  /** task:strategy; results are keyed by case@backend_option. */
  readonly case: string;
  readonly backend_option: BackendOption;
  readonly task: Task;
  readonly strategy: Strategy;
  readonly description: string;
  readonly settings: RunSettings;
  readonly backend: string;
  readonly backend_reason: string;
  readonly train_rows: number;
  readonly validation_rows: number;
  readonly steps: number;
  readonly trainable_parameters: number;
  readonly total_parameters: number;
  readonly before: Record<string, number | null>;
  readonly after: Record<string, number | null>;
  /** The whole `embedtune train` process. */
  readonly wall_seconds: number;
  /** Optimizer steps alone: the time between events that ends in an evaluation or a checkpoint is left out. */
  readonly train_seconds: number;
  readonly seconds_per_step: number;
  readonly peak_rss_mib: number;
  /** The trainer's own RSS in its progress events, after the first and after the last step. */
  readonly rss_first_step_mib: number;
  readonly rss_last_step_mib: number;
  readonly final_loss: number | null;
  /** Relative to the repository root. */
  readonly run_dir: string;
  readonly finished_at: string;
}

export interface FailedCase {
  readonly case: string;
  readonly error: string;
  readonly failed_at: string;
}

export interface RealDataResults {
  readonly machine: string;
  readonly cases: Record<string, CaseResult>;
  readonly failed: Record<string, FailedCase>;
}
