/** What bench/realImages/realImagesReport.ts records per case and imagesResultsDoc.ts reads back. */
export type Loss = 'softmax' | 'focal';
export type Engine = 'tfjs' | 'accelerate';
/** training.seed of the main table; runs with other seeds are keyed `loss@engine/seed-N`. */
export const PRIMARY_SEED = 42;

/** The settings the run actually trained with, read from its config.resolved.yaml. */
export interface ImageRunSettings {
  readonly batch_size: number;
  readonly epochs: number;
  readonly learning_rate: number;
  readonly warmup: number;
  readonly scheduler: string;
  readonly weight_decay: number;
  readonly seed: number;
  /** The loss section as resolved (type, gamma, class_weights, …). */
  readonly loss: Record<string, unknown>;
  readonly augment: Record<string, unknown>;
}

export interface ImageCaseResult {
  /** loss@engine. */
  readonly case: string;
  readonly loss: Loss;
  readonly engine: Engine;
  /** The backend as run_started names it (tfjs-node's TensorFlow, wasm, or the accelerate engine's device). */
  readonly backend: string;
  readonly settings: ImageRunSettings;
  readonly train_rows: number;
  readonly validation_rows: number;
  readonly steps: number;
  readonly trainable_parameters: number;
  readonly total_parameters: number;
  /** The step-0 evaluation: the random backbone with a new random head. */
  readonly before: Record<string, number | null>;
  /** The evaluation after the last step. */
  readonly after: Record<string, number | null>;
  /** Per-class average precision after training, by class name. */
  readonly after_per_class_ap: Record<string, number | null>;
  /** The whole `embedtune train` process, Python included for accelerate. */
  readonly wall_seconds: number;
  /** Optimizer steps alone: gaps that end in an evaluation or a checkpoint are left out. */
  readonly train_seconds: number;
  readonly final_loss: number | null;
  /** The 1-minute load average when the run started and when it ended. */
  readonly load_before: number;
  readonly load_after: number;
  /** The CLI bundle that ran it, relative to the repository: dist/cli.js unless --cli named another. */
  readonly cli: string;
  readonly run_dir: string;
  readonly finished_at: string;
}

export interface ImageFailedCase {
  readonly case: string;
  readonly error: string;
  readonly failed_at: string;
}

export interface RealImagesResults {
  readonly machine: string;
  /** The data: classes with their training and validation counts, and how the images were made. */
  readonly data: {
    readonly classes: Record<string, { train: number; validation: number }>;
    readonly image_side: number;
    readonly seed: number;
  };
  /** The initial model folder every run starts from: its shape and the SHA-256 of its model.safetensors. */
  readonly model: { readonly description: string; readonly config: Record<string, unknown>; readonly sha256: string };
  readonly cases: Record<string, ImageCaseResult>;
  readonly failed: Record<string, ImageFailedCase>;
}
