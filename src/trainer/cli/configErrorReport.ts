import { LineIndex } from '../../shared/textRange';
import { ConfigErrors } from '../run/configErrors';
import { readRunConfig, type RunConfig } from '../run/prepareRun';
import type { CliIo } from './cliIo';

/**
 * Prints a config's errors the same way for every command: one `file:line:col severity code message` line each (the
 * format editors and `embedtune validate` use), then a closing line. `command` names the command in that line;
 * without it the error's own message closes (what `train` prints, and what its setup_error event carries).
 * Always exit code 1.
 */
export function reportConfigErrors(error: ConfigErrors, io: CliIo, command?: string): number {
  // The text that was validated: reading the file again could find it changed.
  const lines = new LineIndex(error.text);
  for (const d of error.diagnostics.filter((diagnostic) => diagnostic.severity === 'error')) {
    const at = lines.positionAt(d.range.start);
    io.err(`${error.file}:${at.line + 1}:${at.character + 1} ${d.severity} ${d.code} ${d.message}`);
  }
  io.err(
    command === undefined
      ? error.message
      : `embedtune ${command}: ${error.file} has errors; fix them first (embedtune validate ${error.file}).`,
  );
  return 1;
}

/**
 * The config at `configPath`, read once with readRunConfig (validated, defaults filled in); undefined after printing
 * its errors as `embedtune <command>` does. Other failures (an unreadable file) are thrown on.
 */
export function readConfigOrReport(configPath: string, io: CliIo, command: string): RunConfig | undefined {
  try {
    return readRunConfig(configPath);
  } catch (error) {
    if (!(error instanceof ConfigErrors)) throw error;
    reportConfigErrors(error, io, command);
    return undefined;
  }
}
