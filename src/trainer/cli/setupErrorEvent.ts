import { formatPath } from '../../shared/config/configDiagnostic';
import { NO_RUN_FOLDER_ID, type ErrorEvent, type ErrorLocation, type ErrorProblem } from '../../shared/events/runEvents';
import { runFolderOfProcess } from '../../shared/run/runFolderReader';
import { LineIndex } from '../../shared/textRange';
import { DataFileError, DataRowError } from '../data/dataErrors';
import { ConfigErrors } from '../run/configErrors';
import { InputFileError } from './cliIo';
import { CheckpointNotFound } from '../training/checkpointStore';

/**
 * The error event for a failure that stopped `embedtune train` before it had a run folder, so that a front end
 * reading `--events stdout` learns the file, line and key at fault without parsing the human-readable lines.
 */
export function setupErrorEvent(error: unknown, now = new Date()): ErrorEvent {
  const message = error instanceof Error ? error.message : String(error);
  const event: ErrorEvent = { type: 'error', time: now.toISOString(), run_id: NO_RUN_FOLDER_ID, seq: 0, message, where: locationOf(error) };
  if (error instanceof ConfigErrors) event.problems = configProblems(error);
  // A failure of no known kind is a bug or an environment problem; its stack helps a report.
  else if (event.where?.phase === 'setup' && error instanceof Error && error.stack) event.stack = error.stack;
  return event;
}

/** Each error of the config, with its line, column (1-based), key and diagnostic code. */
export function configProblems(error: ConfigErrors): ErrorProblem[] {
  const lines = new LineIndex(error.text);
  return error.diagnostics
    .filter((diagnostic) => diagnostic.severity === 'error')
    .map((diagnostic) => {
      const at = lines.positionAt(diagnostic.range.start);
      const path = diagnostic.data?.path;
      return {
        message: diagnostic.message,
        file: error.file,
        line: at.line + 1,
        column: at.character + 1,
        ...(path && path.length > 0 ? { key: formatPath(path) } : {}),
        code: diagnostic.code,
      };
    });
}

function locationOf(error: unknown): ErrorLocation {
  if (error instanceof ConfigErrors) return { file: error.file, phase: 'config' };
  if (error instanceof InputFileError) return { phase: 'config' };
  if (error instanceof DataRowError)
    return {
      file: error.file,
      line: error.line,
      ...(error.problem.role ? { key: `data.columns.${error.problem.role}` } : {}),
      phase: 'data',
    };
  if (error instanceof DataFileError)
    return {
      file: error.file,
      ...(error.line !== undefined ? { line: error.line } : {}),
      ...(error.key ? { key: error.key } : {}),
      phase: 'data',
    };
  if (error instanceof CheckpointNotFound) return { phase: 'resume' };
  return { phase: 'setup' };
}

/**
 * Whether this process has made or reopened a run folder (its run.json names our pid). Once it has, the engine
 * reports a failure in the run's own events.
 */
export function openedRunFolder(outputDir: string | undefined, resume: string | undefined): boolean {
  const startedAt = Date.now() - process.uptime() * 1000;
  return runFolderOfProcess(process.pid, startedAt, outputDir, resume) !== undefined;
}
