import assert from 'node:assert/strict';
import { existsSync, symlinkSync } from 'node:fs';
import { relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  CompletionItemKind,
  type CompletionList,
  type Hover,
  type MarkupContent,
  type PublishDiagnosticsParams,
} from 'vscode-languageserver-protocol';
import { LspTestClient, SERVER_PATH } from '../helpers/lspTestClient';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';

/** A server told, as the extension tells it, whether VS Code trusts the workspace. */
async function startServer(root: string, workspaceTrusted: boolean): Promise<LspTestClient> {
  const client = new LspTestClient();
  await client.connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(root).toString(),
    capabilities: { workspace: { configuration: true }, textDocument: {} },
    workspaceFolders: [{ uri: pathToFileURL(root).toString(), name: 'workspace' }],
    initializationOptions: { workspaceTrusted },
  });
  await client.connection.sendNotification('initialized', {});
  return client;
}

const CONFIG = (train: string) => `model:\n  base: x\ndata:\n  train: ${train}\nstrategy:\n  type: lora\n`;

describe('an untrusted workspace', () => {
  const outside = new TempWorkspace();
  const workspace = new TempWorkspace();
  let untrusted: LspTestClient;
  let trusted: LspTestClient;

  before(async () => {
    assert.ok(existsSync(SERVER_PATH), 'dist/server.js is built (npm run build)');
    outside.write('secret/rows.jsonl', '{"anchor":"outside secret","positive":"not for an untrusted config"}\n');
    outside.write('model/config.json', 'root:x:0:0:root:/root:/bin/bash\n');
    workspace.write('project/own-model/config.json', 'root:x:0:0:inside\n');
    workspace.write('project/linked-model/tokenizer.json', '{}');
    symlinkSync(outside.path('model/config.json'), workspace.path('project/linked-model/config.json'));
    workspace.write('project/data/own.jsonl', pairsJsonl(3));
    symlinkSync(outside.path('secret/rows.jsonl'), workspace.path('project/data/link.jsonl'));
    untrusted = await startServer(workspace.path('project'), false);
    trusted = await startServer(workspace.path('project'), true);
  });

  after(async () => {
    await Promise.all([untrusted.dispose(), trusted.dispose()]);
    outside.dispose();
    workspace.dispose();
  });

  const outsidePath = () => outside.path('secret/rows.jsonl');

  async function hoverData(
    client: LspTestClient,
    name: string,
    train: string,
  ): Promise<{ hover: string; published: PublishDiagnosticsParams }> {
    const uri = pathToFileURL(workspace.path(`project/${name}`)).toString();
    const published = await client.open(uri, CONFIG(train));
    const hover = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 3, character: 4 } });
    return { hover: (hover?.contents as MarkupContent | undefined)?.value ?? '', published };
  }

  it('shows no rows of a data file outside the workspace, by absolute path, by ../ or through a link, and says why', async () => {
    const relativeOut = relative(workspace.path('project'), outsidePath());
    assert.match(relativeOut, /^\.\.\//);
    for (const [index, train] of [outsidePath(), relativeOut, 'data/link.jsonl'].entries()) {
      const { hover, published } = await hoverData(untrusted, `untrusted${index}.embedtune.yaml`, train);
      assert.ok(!hover.includes('outside secret'), `the hover on ${train} shows the file's rows:\n${hover}`);
      const unreadable = published.diagnostics.find((d) => d.code === 'data-file-unreadable');
      assert.match(
        unreadable?.message ?? '',
        /is not read: it is outside the workspace, and an untrusted workspace reads no file outside its folders/,
        train,
      );
    }
  });

  it('still reads the data inside the workspace', async () => {
    const { hover, published } = await hoverData(untrusted, 'own.embedtune.yaml', 'data/own.jsonl');
    assert.match(hover, /`data\/own\.jsonl` · jsonl · 3 rows/);
    assert.deepEqual(
      published.diagnostics.filter((d) => String(d.code).startsWith('data-file')),
      [],
    );
  });

  it('reads the same file outside the workspace when the workspace is trusted', async () => {
    const { hover } = await hoverData(trusted, 'trusted.embedtune.yaml', outsidePath());
    assert.match(hover, /outside secret/);
  });

  async function modelDiagnostics(client: LspTestClient, name: string, base: string): Promise<string[]> {
    const uri = pathToFileURL(workspace.path(`project/${name}`)).toString();
    const published = await client.open(uri, `model:\n  base: ${base}\ndata:\n  train: data/own.jsonl\nstrategy:\n  type: lora\n`);
    return published.diagnostics.filter((d) => String(d.code).startsWith('model-')).map((d) => `${d.code}: ${d.message}`);
  }

  it('reads no model config.json outside the workspace, and does not tell which folders exist there', async () => {
    const relativeModel = relative(workspace.path('project'), outside.path('model'));
    const relativeMissing = relative(workspace.path('project'), outside.path('no-such-folder'));
    const bases = [relativeModel, outside.path('model'), relativeMissing, outside.path('no-such-folder'), './linked-model'];
    for (const [index, base] of bases.entries()) {
      assert.deepEqual(await modelDiagnostics(untrusted, `model-untrusted${index}.embedtune.yaml`, base), [], base);
    }
    // Inside the workspace the check still runs, and a trusted workspace still checks the folder outside.
    assert.match((await modelDiagnostics(untrusted, 'model-own.embedtune.yaml', './own-model')).join('\n'), /model-config-invalid/);
    assert.match(
      (await modelDiagnostics(trusted, 'model-trusted.embedtune.yaml', relativeModel)).join('\n'),
      /model-config-invalid: .*root:x/,
    );
    assert.match((await modelDiagnostics(trusted, 'model-trusted-missing.embedtune.yaml', relativeMissing)).join('\n'), /model-not-found/);
  });

  /** The files and folders offered, leaving out the schema's example values. */
  async function completePath(client: LspTestClient, name: string, typed: string): Promise<string[]> {
    const uri = pathToFileURL(workspace.path(`project/${name}`)).toString();
    const text = `model:\n  base: x\ndata:\n  train: ${typed}\n`;
    await client.open(uri, text);
    const list = await client.request<CompletionList>('textDocument/completion', {
      textDocument: { uri },
      position: { line: 3, character: 9 + typed.length },
    });
    return list.items
      .filter((item) => item.kind === CompletionItemKind.File || item.kind === CompletionItemKind.Folder)
      .map((item) => item.label);
  }

  it('completes data paths only inside the workspace', async () => {
    assert.deepEqual(await completePath(untrusted, 'complete-root.embedtune.yaml', '/'), []);
    assert.deepEqual(await completePath(untrusted, 'complete-up.embedtune.yaml', '../../'), []);
    assert.ok((await completePath(untrusted, 'complete-own.embedtune.yaml', 'data/')).includes('data/own.jsonl'));
    assert.ok((await completePath(trusted, 'complete-trusted.embedtune.yaml', '/')).length > 0, 'a trusted workspace lists /');
  });
});
