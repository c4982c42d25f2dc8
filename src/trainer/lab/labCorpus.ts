import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolveDataFormat } from '../../shared/data/dataFormat';
import { describeRowProblem } from '../../shared/data/rowProblem';
import { InputFileError } from '../cli/cliIo';
import { readDataRows } from '../data/dataRowReader';

/** The texts the Lab searches, each once, and a hash of what they were read from (for the embedding cache). */
export interface LabCorpus {
  readonly file: string;
  readonly texts: readonly string[];
  /** sha256 of the file's bytes and the column read: the same file read by another column is another corpus. */
  readonly sha256: string;
}

/** Tried in this order when no column is named: a plain corpus, then the documents of (anchor, positive) pairs. */
export const DEFAULT_COLUMNS = ['text', 'positive', 'sentence', 'document', 'passage'];

/**
 * Reads a corpus: a text file gives one entry per non-blank line; a JSONL, CSV or TSV file gives the values of
 * `column` (or the first of DEFAULT_COLUMNS its first row has). Repeated texts are kept once, so that a text never
 * fills two places of a top-k.
 */
export async function readLabCorpus(file: string, column?: string): Promise<LabCorpus> {
  const bytes = readFileSync(file);
  const format = resolveDataFormat(file, undefined);
  const read = format ? await columnValues(file, format, column) : { texts: lines(bytes.toString('utf8')), column: '' };
  const texts = [...new Set(read.texts)];
  if (texts.length === 0) throw new InputFileError(`The corpus ${file} has no texts${read.column ? ` in column "${read.column}"` : ''}.`);
  const sha256 = createHash('sha256').update(bytes).update(`\0column=${read.column}`).digest('hex');
  return { file, texts, sha256 };
}

function lines(text: string): string[] {
  return text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '');
}

async function columnValues(
  file: string,
  format: 'jsonl' | 'csv' | 'tsv',
  named: string | undefined,
): Promise<{ texts: string[]; column: string }> {
  const texts: string[] = [];
  let column = named;
  for await (const row of readDataRows(file, format)) {
    if (row.kind === 'unreadable') throw new InputFileError(`${describeRowProblem(file, row.line, row.problem)}.`);
    const keys = row.kind === 'header' ? row.columns : Object.keys(row.record);
    column ??= chooseColumn(keys, file, row.line);
    if (!keys.includes(column)) {
      throw new InputFileError(`${file}:${row.line}: has no column "${column}" (it has ${keys.join(', ')}); pick one with --column.`);
    }
    if (row.kind === 'header') continue;
    const value = row.record[column];
    if (typeof value !== 'string') {
      throw new InputFileError(`${file}:${row.line}: column "${column}" is ${JSON.stringify(value)}, not text.`);
    }
    if (value.trim() !== '') texts.push(value);
  }
  return { texts, column: column ?? '' };
}

function chooseColumn(keys: readonly string[], file: string, line: number): string {
  const found = DEFAULT_COLUMNS.find((name) => keys.includes(name));
  if (!found) {
    throw new InputFileError(
      `${file}:${line}: has none of the columns ${DEFAULT_COLUMNS.join(', ')} (it has ${keys.join(', ')}); name the text column with --column.`,
    );
  }
  return found;
}
