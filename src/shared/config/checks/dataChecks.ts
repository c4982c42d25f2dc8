import type { ConfigDiagnostic } from '../configDiagnostic';
import type { DataFileSummary } from '../../data/dataFileProbe';
import type { TextRange } from '../../textRange';
import { writtenNegativeColumns, type DataFileFacts } from '../datasetFacts';
import { keyRangeOf, valueRangeOf } from '../parsedConfig';
import { requiredRoles } from '../taskRequirements';
import type { CheckContext, ConfigCheck } from './checkContext';
import { missingNegativeColumns } from './negativeColumnsChecks';

type DataFileSummaryOk = Extract<DataFileSummary, { ok: true }>;

/** Missing or unreadable files, unknown formats, malformed rows, and columns the task and loss need but the data lacks. */
export const checkDataFiles: ConfigCheck = (context) => {
  const diagnostics: ConfigDiagnostic[] = [];
  for (const key of ['train', 'validation'] as const) {
    const facts = context.dataset[key];
    // Image folders have their own checks (checkImageFolders).
    if (facts && !facts.imageFolder) diagnostics.push(...checkOneFile(context, key, facts));
  }
  return diagnostics;
};

function checkOneFile(context: CheckContext, key: 'train' | 'validation', facts: DataFileFacts): ConfigDiagnostic[] {
  const { parsed, view } = context;
  const path = ['data', key];
  const range = valueRangeOf(parsed, path);
  if (!facts.format) {
    return [
      {
        range,
        severity: 'error',
        code: 'data-format-unknown',
        message: `data.${key}: cannot tell the format of "${facts.written}" from its extension. Use .jsonl, .csv or .tsv, or set data.format.`,
        data: { path: ['data', 'format'] },
      },
    ];
  }
  const summary = facts.summary;
  if (!summary) return [];
  if (!summary.ok) {
    return [
      {
        range,
        severity: 'error',
        code: summary.reason === 'missing' ? 'data-file-missing' : 'data-file-unreadable',
        message: `data.${key}: "${facts.written}" ${summary.message} (resolved to ${facts.absolute}).`,
        data: { path },
      },
    ];
  }
  const diagnostics: ConfigDiagnostic[] = [];
  if (summary.badRowCount > 0) {
    const skipping = view.string(['data', 'on_bad_row']) === 'skip';
    const first = summary.badRows.map((row) => `line ${row.line} ${row.message}`).join('; ');
    const scope = summary.sampledRows !== undefined ? ` among the first ${summary.sampledRows + summary.badRowCount} rows` : '';
    diagnostics.push({
      range,
      severity: skipping ? 'information' : 'error',
      code: 'data-bad-row',
      message: skipping
        ? `data.${key}: ${summary.badRowCount} malformed row(s)${scope} in "${facts.written}" will be skipped: ${first}.`
        : `data.${key}: "${facts.written}" has ${summary.badRowCount} malformed row(s)${scope}: ${first}. Fix them, or set data.on_bad_row: skip.`,
      data: {
        path,
        fixes: skipping
          ? []
          : [{ title: 'Skip malformed rows (data.on_bad_row: skip)', set: [{ path: ['data', 'on_bad_row'], value: 'skip' }] }],
      },
    });
  }
  if (summary.rows === 0 && summary.badRowCount === 0) {
    diagnostics.push({
      range,
      severity: 'error',
      code: 'data-file-unreadable',
      message: `data.${key}: "${facts.written}" has no data rows.`,
      data: { path },
    });
    return diagnostics;
  }
  const task = view.task();
  const loss = view.lossType();
  const roles = requiredRoles(task, loss);
  if (!roles) return diagnostics;
  const available = new Set(summary.columns);
  const has = `"${facts.written}" has: ${summary.columns.join(', ') || 'no columns'}.`;
  const unmapped: string[] = [];
  // A list of negative columns is checked item by item (missingNegativeColumns).
  const listed = writtenNegativeColumns(view) ? 'negative' : undefined;
  for (const role of roles) {
    if (role === listed) continue;
    const column = view.string(['data', 'columns', role]) ?? role;
    if (available.has(column)) continue;
    if (!view.isSet(['data', 'columns', role])) {
      unmapped.push(role);
      continue;
    }
    diagnostics.push({
      range: valueRangeOf(parsed, ['data', 'columns', role]),
      severity: 'error',
      code: 'data-missing-column',
      message: `The ${task} task with loss ${loss} needs a "${role}" column (mapped to "${column}"), but ${has}`,
      data: { path: ['data', 'columns', role] },
    });
  }
  diagnostics.push(...missingNegativeColumns(context, available, facts.written));
  const skipping = view.string(['data', 'on_bad_row']) === 'skip';
  for (const role of roles) {
    const column = view.string(['data', 'columns', role]) ?? role;
    const empty = available.has(column) ? summary.emptyValues.get(column) : undefined;
    if (!empty) continue;
    const scope = summary.sampledRows !== undefined ? ` among the first ${summary.sampledRows} rows` : '';
    diagnostics.push({
      range,
      severity: skipping ? 'information' : 'error',
      code: 'data-bad-row',
      message:
        `data.${key}: ${empty.count} row(s)${scope} of "${facts.written}" have no ${column === role ? `"${role}"` : `"${column}" (the ${role})`} value, ` +
        `e.g. line ${empty.lines.join(', ')}.` +
        (skipping ? ' They will be skipped.' : ' Training stops on them unless data.on_bad_row is skip.'),
      data: {
        path,
        fixes: skipping
          ? []
          : [{ title: 'Skip malformed rows (data.on_bad_row: skip)', set: [{ path: ['data', 'on_bad_row'], value: 'skip' }] }],
      },
    });
  }
  diagnostics.push(...checkRejectedRows(key, facts.written, summary, skipping, range));
  if (unmapped.length > 0) {
    const names = unmapped.map((role) => `"${role}"`).join(', ');
    diagnostics.push({
      range: keyRangeOf(parsed, path),
      severity: 'error',
      code: 'data-missing-column',
      message:
        `The ${task} task with loss ${loss} needs ${unmapped.length === 1 ? 'a column' : 'columns'} ${names}, but ${has}` +
        ` Map ${unmapped.length === 1 ? 'it' : 'them'} with data.columns (for example data.columns.${unmapped[0]}: your_column).`,
      data: { path: ['data', 'columns', unmapped[0]!] },
    });
  }
  return diagnostics;
}

/** Rows the trainer's own row rule refuses: a number or list where text belongs, a score such as "NaN", a label contrastive loss cannot use. */
function checkRejectedRows(
  key: 'train' | 'validation',
  written: string,
  summary: DataFileSummaryOk,
  skipping: boolean,
  range: TextRange,
): ConfigDiagnostic[] {
  if (summary.rejectedRowCount === 0) return [];
  const scope = summary.sampledRows !== undefined ? ` among the first ${summary.sampledRows} rows` : '';
  const first = summary.rejectedRows.map((row) => `line ${row.line} ${row.message}`).join('; ');
  const total =
    summary.sampledRows !== undefined
      ? `${summary.unusableRowCount} of the first ${summary.sampledRows}`
      : `${summary.unusableRowCount} of ${summary.rows + summary.badRowCount}`;
  return [
    {
      range,
      severity: skipping ? 'information' : 'error',
      code: 'data-bad-row',
      message: skipping
        ? `data.${key}: ${summary.rejectedRowCount} row(s)${scope} of "${written}" hold values training cannot use and will be skipped (${total} rows skipped in all): ${first}.`
        : `data.${key}: ${summary.rejectedRowCount} row(s)${scope} of "${written}" hold values training cannot use: ${first}. Training stops on them unless data.on_bad_row is skip, which would drop ${total} rows.`,
      data: {
        path: ['data', key],
        fixes: skipping
          ? []
          : [{ title: 'Skip malformed rows (data.on_bad_row: skip)', set: [{ path: ['data', 'on_bad_row'], value: 'skip' }] }],
      },
    },
  ];
}

export const checkValidationSource: ConfigCheck = ({ parsed, view }) => {
  if (!view.isSet(['data', 'validation']) || !view.isSet(['data', 'validation_split'])) return [];
  return [
    {
      range: keyRangeOf(parsed, ['data', 'validation_split']),
      severity: 'warning',
      code: 'validation-conflict',
      message: 'data.validation_split is ignored because data.validation names a validation file. Keep one of them.',
      data: { path: ['data', 'validation_split'] },
    },
  ];
};
