import type { ConfigDiagnostic } from '../../shared/config/configDiagnostic';

/**
 * The config has errors; training never starts on one. It carries the text that was validated, so that the CLI
 * can point at lines and columns without reading the file a second time (which could by then say something else).
 */
export class ConfigErrors extends Error {
  constructor(
    readonly file: string,
    readonly diagnostics: readonly ConfigDiagnostic[],
    readonly text: string,
  ) {
    super(
      `${file} has ${diagnostics.filter((d) => d.severity === 'error').length} error(s); fix them before training (embedtune validate ${file}).`,
    );
  }
}
