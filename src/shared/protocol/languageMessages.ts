import type { RunPlan } from '../config/runPlan';

/**
 * Custom messages between the extension and the language server, declared once and imported by both sides.
 * Plain method names and param shapes keep this module free of any protocol library.
 */
export namespace DryRunRequest {
  export const method = 'embedtune/dryRun';
  export interface Params {
    readonly uri: string;
  }
  export interface Result {
    readonly plan: RunPlan;
    readonly errors: number;
    readonly warnings: number;
  }
}

/** The settings the server reads from the `embedtune` configuration section. */
export interface ServerSettings {
  readonly validation: { readonly debounceMs: number };
  readonly codeLens: { readonly dryRun: boolean; readonly history: boolean };
}

export const DEFAULT_SERVER_SETTINGS: ServerSettings = {
  validation: { debounceMs: 200 },
  codeLens: { dryRun: true, history: true },
};
