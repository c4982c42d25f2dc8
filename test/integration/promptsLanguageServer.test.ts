import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { CodeAction, CompletionList, Hover, MarkupContent, TextEdit } from 'vscode-languageserver-protocol';
import { LspTestClient, SERVER_PATH } from '../helpers/lspTestClient';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';

/** model.prompts, column_prompts and loss.matryoshka in the editor: diagnostics, the quick fix, completion and hover. */

function applyEdits(text: string, edits: TextEdit[]): string {
  const lines = text.split('\n');
  const offsetAt = (p: { line: number; character: number }) =>
    lines.slice(0, p.line).reduce((sum, l) => sum + l.length + 1, 0) + p.character;
  return [...edits]
    .sort((a, b) => offsetAt(b.range.start) - offsetAt(a.range.start))
    .reduce((acc, edit) => acc.slice(0, offsetAt(edit.range.start)) + edit.newText + acc.slice(offsetAt(edit.range.end)), text);
}

describe('prompts and Matryoshka over a real LSP connection', () => {
  const workspace = new TempWorkspace();
  let client: LspTestClient;
  const uriOf = (name: string) => pathToFileURL(workspace.path(name)).toString();
  const header = 'model:\n  base: x\n';
  const rest = 'data:\n  train: data/train.jsonl\nstrategy:\n  type: lora\n';

  before(async () => {
    assert.ok(existsSync(SERVER_PATH), 'dist/server.js is built (npm run build)');
    workspace.write('data/train.jsonl', pairsJsonl(120));
    client = new LspTestClient();
    await client.initialize(workspace.root);
  });
  after(async () => {
    await client.dispose();
    workspace.dispose();
  });

  it('marks a column prompt that model.prompts lacks and fixes it to the closest name', async () => {
    const uri = uriOf('prompts.embedtune.yaml');
    const text = `${header}  prompts:\n    query: "query: "\n    document: "passage: "\n  column_prompts:\n    positive: documnet\n${rest}`;
    const published = await client.open(uri, text);
    assert.deepEqual(
      published.diagnostics.map((d) => d.code),
      ['prompt-unknown'],
    );
    const diagnostic = published.diagnostics[0]!;
    assert.deepEqual(diagnostic.range, { start: { line: 6, character: 14 }, end: { line: 6, character: 22 } });
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: diagnostic.range,
      context: { diagnostics: [diagnostic] },
    });
    const fix = actions.find((action) => action.isPreferred);
    assert.equal(fix?.title, 'Use prompt document');
    const fixed = applyEdits(text, fix!.edit!.changes![uri]!);
    assert.match(fixed, /\n {4}positive: document\n/);
    assert.deepEqual((await client.change(uri, fixed)).diagnostics, []);
  });

  it('reports Matryoshka weights that are not one per dim', async () => {
    const published = await client.open(
      uriOf('matryoshka.embedtune.yaml'),
      `${header}${rest}loss:\n  matryoshka:\n    dims: [384, 64]\n    weights: [1]\n`,
    );
    assert.deepEqual(
      published.diagnostics.map((d) => [d.code, d.range.start.line]),
      [['matryoshka-weights-length', 9]],
    );
  });

  it('completes the new keys and explains them on hover, from the schema', async () => {
    const uri = uriOf('complete.embedtune.yaml');
    const text = `${header}  \n${rest}loss:\n  matryoshka:\n    dims: [64]\n`;
    await client.open(uri, text);
    const model = await client.request<CompletionList>('textDocument/completion', {
      textDocument: { uri },
      position: { line: 2, character: 2 },
    });
    const labels = model.items.map((item) => item.label);
    for (const key of ['prompts', 'column_prompts', 'default_prompt_name'])
      assert.ok(labels.includes(key), `${key} in ${labels.join(', ')}`);
    const hover = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line: 8, character: 4 } });
    assert.match((hover.contents as MarkupContent).value, /MatryoshkaLoss/);
  });
});
