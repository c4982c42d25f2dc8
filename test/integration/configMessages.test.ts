import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { CodeAction, Diagnostic, TextEdit } from 'vscode-languageserver-protocol';
import { LspTestClient, SERVER_PATH } from '../helpers/lspTestClient';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';

const CLI = resolve(__dirname, '../../dist/cli.js');
const HEADER = 'model:\n  base: x\ndata:\n  train: data/train.jsonl\nstrategy:\n  type: lora\n';

/** Configs whose problem used to be reported as something else, and what each must now be called. */
const CASES: { name: string; bytes: Buffer; code: string; message: RegExp }[] = [
  {
    name: 'nan',
    bytes: Buffer.from(`${HEADER}training:\n  learning_rate: .nan\n`),
    code: 'invalid-value',
    message: /learning_rate must be a finite number: \.nan is "not a number"/,
  },
  {
    name: 'inf',
    bytes: Buffer.from(`${HEADER}training:\n  learning_rate: .inf\n`),
    code: 'out-of-range',
    message: /learning_rate must be a finite number: \.inf is infinity/,
  },
  {
    name: 'huge',
    bytes: Buffer.from(`${HEADER}training:\n  learning_rate: 1e309\n`),
    code: 'out-of-range',
    message: /1e309 is beyond the largest number/,
  },
  { name: 'utf16', bytes: Buffer.from(`\uFEFF${HEADER}`, 'utf16le'), code: 'config-encoding', message: /UTF-16 encoded/ },
  { name: 'bom', bytes: Buffer.from(`\uFEFF\uFEFF${HEADER}`), code: 'config-encoding', message: /more than one byte order mark/ },
  {
    name: 'deep',
    bytes: Buffer.from(`${HEADER}x: ${'['.repeat(10_000)}${']'.repeat(10_000)}\n`),
    code: 'nesting-too-deep',
    message: /nests \d+ levels deep/,
  },
];

describe('configs whose problem hides behind another message', () => {
  const workspace = new TempWorkspace();
  let client: LspTestClient;

  before(async () => {
    assert.ok(existsSync(SERVER_PATH) && existsSync(CLI), 'dist/ is built (npm run build)');
    workspace.write('data/train.jsonl', pairsJsonl(50));
    for (const { name, bytes } of CASES) writeFileSync(workspace.path(`${name}.embedtune.yaml`), bytes);
    client = new LspTestClient();
    await client.initialize(workspace.root);
  });

  after(async () => {
    await client.dispose();
    workspace.dispose();
  });

  it('embedtune validate names the real problem', () => {
    for (const { name, code, message } of CASES) {
      const result = spawnSync(process.execPath, [CLI, 'validate', '--format', 'json', workspace.path(`${name}.embedtune.yaml`)], {
        encoding: 'utf8',
      });
      const found = (JSON.parse(result.stdout) as { code: string; message: string }[]).filter((d) => d.code === code);
      assert.equal(found.length, 1, `${name}: ${result.stdout}${result.stderr}`);
      assert.match(found[0]!.message, message, name);
      assert.doesNotMatch(result.stdout + result.stderr, /Maximum call stack|not null|not-a-mapping|unknown-key/, name);
    }
  });

  it('the language server names the real problem', async () => {
    for (const { name, bytes, code, message } of CASES) {
      const published = await client.open(pathToFileURL(workspace.path(`${name}.embedtune.yaml`)).toString(), bytes.toString('utf8'));
      const found = published.diagnostics.filter((d) => d.code === code);
      assert.equal(found.length, 1, `${name}: ${JSON.stringify(published.diagnostics)}`);
      assert.match(found[0]!.message, message, name);
    }
  });

  it('embedtune validate lists 200 of 20k unknown keys and counts the rest in one line', () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => `  unknown_key_${i}: ${i}\n`).join('');
    const path = workspace.write('many.embedtune.yaml', `${HEADER}training:\n${keys}`);
    const result = spawnSync(process.execPath, [CLI, 'validate', path], { encoding: 'utf8', timeout: 60_000 });
    const lines = result.stdout.trim().split('\n');
    assert.equal(lines.filter((line) => line.includes(' unknown-key ')).length, 200);
    assert.match(
      lines.find((line) => line.includes(' too-many-problems ')) ?? '',
      /19800 more schema problems from here on are not listed/,
    );
  });

  it('moves a key of another section where it belongs with the quick fix', async () => {
    const uri = pathToFileURL(workspace.path('moved.embedtune.yaml')).toString();
    const text = `${HEADER}engine:\n  type: tfjs\n  mixed_precision: "no"\ntraining:\n  epochs: 1\n`;
    const published = await client.open(uri, text);
    const diagnostic = published.diagnostics.find((d: Diagnostic) => d.code === 'unknown-key');
    assert.match(diagnostic?.message ?? '', /"mixed_precision" does not belong in engine: it is a key of `training`/);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: diagnostic!.range,
      context: { diagnostics: [diagnostic] },
    });
    const move = actions.find((action) => action.title === 'Move to training.mixed_precision');
    const edits = move?.edit?.changes?.[uri] as TextEdit[] | undefined;
    assert.equal(edits?.length, 1);
    const lines = text.split('\n');
    const offsetAt = (p: { line: number; character: number }) =>
      lines.slice(0, p.line).reduce((sum, l) => sum + l.length + 1, 0) + p.character;
    const fixed = text.slice(0, offsetAt(edits![0]!.range.start)) + edits![0]!.newText + text.slice(offsetAt(edits![0]!.range.end));
    assert.equal(fixed, `${HEADER}engine:\n  type: tfjs\ntraining:\n  epochs: 1\n  mixed_precision: "no"\n`);
    const after = await client.change(uri, fixed);
    assert.deepEqual(
      after.diagnostics.filter((d) => d.code === 'unknown-key'),
      [],
    );
  });
});
