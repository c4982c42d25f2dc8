import type { TextRange } from '../textRange';
import type { DiagnosticCode } from './diagnosticCodes';

export type Severity = 'error' | 'warning' | 'information' | 'hint';

/** A key path into the config, as the user wrote it: `['training', 'batch_size']`. */
export type ConfigPath = readonly (string | number)[];

/** What a quick fix needs, carried with the diagnostic so that code actions can dispatch on its code alone. */
export interface DiagnosticData {
  /** The path the diagnostic is about. */
  readonly path?: ConfigPath;
  /** A replacement key or value, for "did you mean". */
  readonly suggestion?: string;
  /** Where a key of another section belongs (its full path there), for the fix that moves it with its value. */
  readonly moveTo?: ConfigPath;
  /** Values to set, one quick fix each; every entry is a list of path/value assignments applied together. */
  readonly fixes?: readonly ConfigFix[];
}

export interface ConfigFix {
  readonly title: string;
  readonly set: readonly { readonly path: ConfigPath; readonly value: unknown }[];
  /** Marks the fix VS Code offers first (Ctrl+.). */
  readonly preferred?: boolean;
}

export interface ConfigDiagnostic {
  readonly range: TextRange;
  readonly severity: Severity;
  readonly code: DiagnosticCode;
  readonly message: string;
  readonly data?: DiagnosticData;
}

export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out || '(root)';
}
