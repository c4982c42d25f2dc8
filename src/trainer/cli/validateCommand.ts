import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ConfigDiagnostic } from '../../shared/config/configDiagnostic';
import { formatRunPlan, type RunPlan } from '../../shared/config/runPlan';
import { planFromValidation, validateConfigText } from '../../shared/config/validateConfig';
import { DataFileProbe } from '../../shared/data/dataFileProbe';
import { LineIndex } from '../../shared/textRange';
import { escapeControlCharacters, UsageError, type CliIo } from './cliIo';

export const VALIDATE_USAGE = `embedtune validate FILE... [--format text|json] [--summary]

Checks each config against the schema and the checks beyond it (data files, loss and task, metrics, engine).
Prints one line per problem as file:line:col severity code message, and exits 1 when any file has an error.
  --format json   print a JSON array instead, one object per problem
  --summary       also print the dry-run plan: rows, effective batch size, steps per epoch, total and warmup steps`;

interface FileReport {
  readonly file: string;
  readonly diagnostics: readonly LocatedDiagnostic[];
  readonly plan?: RunPlan;
}

interface LocatedDiagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly severity: ConfigDiagnostic['severity'];
  readonly code: string;
  readonly message: string;
}

export function runValidate(args: string[], io: CliIo): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: 'string', default: 'text' }, summary: { type: 'boolean', default: false } },
  });
  if (positionals.length === 0) throw new UsageError('validate needs at least one config file.', VALIDATE_USAGE);
  if (values.format !== 'text' && values.format !== 'json')
    throw new UsageError(`--format must be text or json, not "${values.format}".`, VALIDATE_USAGE);

  // Every row of every data file is read, however large: validate must refuse what train would refuse.
  const probe = new DataFileProbe(undefined, 'read-whole');
  const reports = positionals.map((file) => validateFile(file, values.summary === true, probe));
  if (values.format === 'json') {
    io.out(JSON.stringify(values.summary ? reports : reports.flatMap((report) => report.diagnostics), null, 2));
  } else {
    for (const report of reports) {
      for (const d of report.diagnostics) io.out(`${d.file}:${d.line}:${d.column} ${d.severity} ${d.code} ${d.message}`);
      if (report.plan) for (const line of formatRunPlan(report.plan)) io.out(`${report.file}: ${line}`);
    }
    const all = reports.flatMap((report) => report.diagnostics);
    const errors = all.filter((d) => d.severity === 'error').length;
    const warnings = all.filter((d) => d.severity === 'warning').length;
    io.err(`${reports.length} file(s) checked: ${errors} error(s), ${warnings} warning(s), ${all.length - errors - warnings} note(s).`);
  }
  return reports.some((report) => report.diagnostics.some((d) => d.severity === 'error')) ? 1 : 0;
}

function validateFile(file: string, withPlan: boolean, probe: DataFileProbe): FileReport {
  let text: string;
  const unreadable = (message: string): FileReport => ({
    file,
    diagnostics: [{ file, line: 1, column: 1, endLine: 1, endColumn: 1, severity: 'error', code: 'config-unreadable', message }],
  });
  try {
    // A FIFO would block the read forever, and a device would never end.
    if (!statSync(file).isFile()) return unreadable('The config file is not a regular file, so it is not read.');
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
    return unreadable(code === 'ENOENT' ? 'The config file does not exist.' : `The config file cannot be read (${code}).`);
  }
  const result = validateConfigText(text, {
    configPath: resolve(file),
    probe,
    onInternalError: (error, check) => {
      process.stderr.write(escapeControlCharacters(`embedtune: internal error in the "${check}" check: ${String(error)}\n`));
    },
  });
  const lines = new LineIndex(text);
  const diagnostics = [...result.diagnostics]
    .sort((a, b) => a.range.start - b.range.start)
    .map((diagnostic) => {
      const start = lines.positionAt(diagnostic.range.start);
      const end = lines.positionAt(diagnostic.range.end);
      return {
        file,
        line: start.line + 1,
        column: start.character + 1,
        endLine: end.line + 1,
        endColumn: end.character + 1,
        severity: diagnostic.severity,
        code: diagnostic.code,
        message: diagnostic.message,
      };
    });
  return { file, diagnostics, ...(withPlan ? { plan: planFromValidation(result) } : {}) };
}
