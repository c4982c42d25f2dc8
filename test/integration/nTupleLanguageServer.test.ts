import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { LspTestClient, SERVER_PATH } from '../helpers/lspTestClient';
import { TempWorkspace } from '../helpers/tempWorkspace';

/** `data.columns.negative` as a list (n-tuples) in the editor: diagnostics on the list items, and hover. */

function ntuples(count: number): string {
  const rows = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ anchor: `question ${i}`, positive: `answer ${i}`, negative_1: `wrong ${i}`, negative_2: `also wrong ${i}` }),
  );
  return `${rows.join('\n')}\n`;
}

describe('n-tuple negative columns over a real LSP connection', () => {
  const workspace = new TempWorkspace();
  let client: LspTestClient;
  const uriOf = (name: string) => pathToFileURL(workspace.path(name)).toString();
  const text = (negative: string, loss: string) =>
    `model:\n  base: x\ndata:\n  train: data/mined.jsonl\n  columns:\n    negative: ${negative}\nloss:\n  type: ${loss}\ntraining:\n  batch_size: 32\nstrategy:\n  type: lora\n`;

  before(async () => {
    assert.ok(existsSync(SERVER_PATH), 'dist/server.js is built (npm run build)');
    workspace.write('data/mined.jsonl', ntuples(120));
    client = new LspTestClient();
    await client.initialize(workspace.root);
  });
  after(async () => {
    await client.dispose();
    workspace.dispose();
  });

  it('accepts the columns the file has, and marks the one it lacks on its list item', async () => {
    const uri = uriOf('ok.embedtune.yaml');
    assert.deepEqual((await client.open(uri, text('[negative_1, negative_2]', 'mnrl'))).diagnostics, []);
    const published = await client.change(uri, text('[negative_1, negative_3]', 'cached_mnrl'));
    assert.deepEqual(
      published.diagnostics.map((d) => d.code),
      ['data-missing-column'],
    );
    assert.match(published.diagnostics[0]!.message, /"negative_3"/);
    const start = '    negative: [negative_1, '.length;
    assert.deepEqual(published.diagnostics[0]!.range, { start: { line: 5, character: start }, end: { line: 5, character: start + 10 } });
  });

  it('refuses a list with triplet loss, and hover explains the list form', async () => {
    const uri = uriOf('triplet.embedtune.yaml');
    const published = await client.open(uri, text('[negative_1, negative_2]', 'triplet'));
    assert.deepEqual(
      published.diagnostics.map((d) => d.code),
      ['negative-columns-loss'],
    );
    const hover = await client.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line: 5, character: 6 } });
    assert.match((hover.contents as MarkupContent).value, /list of columns/);
  });
});
