/**
 * The "mine hard negatives" quick fix over a real LSP connection (the built dist/server.js): offered for mnrl and
 * cached_mnrl on pairs only, with the command the extension runs and the config's URI; not offered for rows that
 * already have negatives, for other losses, for a config with errors, in an untrusted workspace, or when only
 * refactorings are asked for.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { CodeAction } from 'vscode-languageserver-protocol';
import { MINE_HARD_NEGATIVES_COMMAND } from '../../src/shared/protocol/mineHardNegatives';
import { LspTestClient, SERVER_PATH } from '../helpers/lspTestClient';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';

const configWith = (train: string, loss: string, extra = '') =>
  `model:\n  base: x\ndata:\n  train: ${train}\n${extra}loss:\n  type: ${loss}\ntraining:\n  batch_size: 32\n`;

const TRAIN_LINE = 3;

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

describe('the mine-hard-negatives quick fix over a real LSP connection', () => {
  const workspace = new TempWorkspace();
  let trusted: LspTestClient;
  let untrusted: LspTestClient;
  let counter = 0;

  before(async () => {
    assert.ok(existsSync(SERVER_PATH), 'dist/server.js is built (npm run build)');
    workspace.write('data/pairs.jsonl', pairsJsonl(40));
    workspace.write('data/qa.jsonl', pairsJsonl(40, ['question', 'answer']));
    workspace.write(
      'data/triplets.jsonl',
      [0, 1, 2].map((i) => JSON.stringify({ anchor: `q ${i}`, positive: `a ${i}`, negative: `n ${i}` })).join('\n') + '\n',
    );
    workspace.write(
      'data/scored.jsonl',
      [0, 1, 2].map((i) => JSON.stringify({ anchor: `q ${i}`, positive: `a ${i}`, score: 0.5 })).join('\n') + '\n',
    );
    trusted = await startServer(workspace.root, true);
    untrusted = await startServer(workspace.root, false);
  });

  after(async () => {
    await trusted.dispose();
    await untrusted.dispose();
    workspace.dispose();
  });

  /** Opens the config and asks for code actions on one line (data.train's unless told), as the editor does for the cursor's. */
  async function actionsFor(
    client: LspTestClient,
    text: string,
    only?: string[],
    line = TRAIN_LINE,
  ): Promise<{ uri: string; actions: CodeAction[] }> {
    const uri = pathToFileURL(workspace.path(`c${counter++}.embedtune.yaml`)).toString();
    const published = await client.open(uri, text);
    const range = { start: { line, character: 2 }, end: { line, character: 2 } };
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range,
      context: { diagnostics: published.diagnostics, ...(only ? { only } : {}) },
    });
    return { uri, actions };
  }

  const mining = (actions: CodeAction[]) => actions.filter((action) => action.command?.command === MINE_HARD_NEGATIVES_COMMAND);

  for (const loss of ['mnrl', 'cached_mnrl']) {
    it(`offers it for ${loss} on pairs, carrying the command and the config's URI`, async () => {
      const { uri, actions } = await actionsFor(trusted, configWith('data/pairs.jsonl', loss));
      const [action, ...more] = mining(actions);
      assert.equal(more.length, 0);
      assert.equal(action?.kind, 'quickfix');
      assert.equal(action?.title, 'Mine hard negatives for these pairs');
      assert.deepEqual(action?.command?.arguments, [uri]);
      assert.equal(action?.edit, undefined, 'the server edits nothing itself: the extension mines, then edits');
    });
  }

  it('offers it on the loss.type line too, but not on lines it is not about', async () => {
    const text = configWith('data/pairs.jsonl', 'mnrl');
    const lines = text.split('\n');
    assert.equal(mining((await actionsFor(trusted, text, undefined, lines.indexOf('  type: mnrl'))).actions).length, 1);
    assert.deepEqual(mining((await actionsFor(trusted, text, undefined, lines.indexOf('  base: x'))).actions), []);
    assert.deepEqual(mining((await actionsFor(trusted, text, undefined, lines.indexOf('  batch_size: 32'))).actions), []);
  });

  it('offers it for pairs under other column names that data.columns maps', async () => {
    const { actions } = await actionsFor(
      trusted,
      configWith('data/qa.jsonl', 'mnrl', '  columns:\n    anchor: question\n    positive: answer\n'),
    );
    assert.equal(mining(actions).length, 1);
  });

  it('does not offer it when the rows already have negatives, or the config maps a negative column', async () => {
    assert.deepEqual(mining((await actionsFor(trusted, configWith('data/triplets.jsonl', 'mnrl'))).actions), []);
    const mapped = configWith('data/pairs.jsonl', 'mnrl', '  columns:\n    negative: hard\n');
    assert.deepEqual(mining((await actionsFor(trusted, mapped)).actions), []);
  });

  it('does not offer it for losses without in-batch negatives', async () => {
    assert.deepEqual(mining((await actionsFor(trusted, configWith('data/scored.jsonl', 'cosent'))).actions), []);
  });

  it('does not offer it for a config with errors, which the miner would refuse', async () => {
    assert.deepEqual(mining((await actionsFor(trusted, configWith('data/missing.jsonl', 'mnrl'))).actions), []);
  });

  it('does not offer it in an untrusted workspace, nor when only refactorings are asked for', async () => {
    assert.deepEqual(mining((await actionsFor(untrusted, configWith('data/pairs.jsonl', 'mnrl'))).actions), []);
    assert.deepEqual(mining((await actionsFor(trusted, configWith('data/pairs.jsonl', 'mnrl'), ['refactor'])).actions), []);
    assert.equal(mining((await actionsFor(trusted, configWith('data/pairs.jsonl', 'mnrl'), ['quickfix'])).actions).length, 1);
  });
});
