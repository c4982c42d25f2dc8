import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { CodeLens } from 'vscode-languageserver-protocol';
import { LspTestClient, SERVER_PATH } from '../helpers/lspTestClient';
import { writePastRun } from '../helpers/pastRuns';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';

const CONFIG = `name: faq
model:
  base: x
data:
  train: data/train.jsonl
  validation_split: 0.25
strategy:
  type: lora
training:
  epochs: 3
  batch_size: 32
  learning_rate: 0.00002
`;
const LEARNING_RATE_LINE = CONFIG.split('\n').indexOf('  learning_rate: 0.00002');

async function startServer(root: string, workspaceTrusted: boolean, history = true): Promise<LspTestClient> {
  const client = new LspTestClient({ validation: { debounceMs: 0 }, codeLens: { dryRun: true, history } });
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

async function lensesOf(client: LspTestClient, uri: string): Promise<CodeLens[]> {
  return client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
}

describe('the hyperparameter history code lens over a real LSP connection', () => {
  const workspace = new TempWorkspace();
  const configPath = workspace.path('faq.embedtune.yaml');
  const uri = pathToFileURL(configPath).toString();
  const clients: LspTestClient[] = [];

  before(() => {
    assert.ok(existsSync(SERVER_PATH), 'dist/server.js is built (npm run build)');
    workspace.write('data/train.jsonl', pairsJsonl(40));
    workspace.write('faq.embedtune.yaml', CONFIG);
    // output_dir defaults to runs/ beside the config.
    const runs = workspace.path('runs');
    writePastRun(configPath, CONFIG, runs, {
      overrides: { training: { learning_rate: 5e-5 } },
      evals: [0.7, 0.79],
      startedAt: new Date('2026-12-02T10:00:00Z'),
    });
    writePastRun(configPath, CONFIG, runs, { evals: [0.8, 0.82], startedAt: new Date('2026-12-03T09:00:00Z') });
  });

  after(async () => {
    for (const client of clients) await client.dispose();
    workspace.dispose();
  });

  it('puts the earlier runs beside the learning_rate line, beside the dry-run lens', async () => {
    const client = await startServer(workspace.root, true);
    clients.push(client);
    await client.open(uri, CONFIG);
    const lenses = await lensesOf(client, uri);
    assert.match(lenses[0]?.command?.title ?? '', /^Dry run: /);
    const learningRate = lenses.find((lens) => lens.range.start.line === LEARNING_RATE_LINE);
    assert.equal(learningRate?.command?.title, '2e-5 → ndcg@10 0.82 (Dec 3) · 5e-5 → 0.79 (Dec 2)');
    assert.equal(learningRate?.command?.command, 'embedtune.compareRuns');

    // A run that finishes later shows up on the next request: its folder is new, so it is read.
    writePastRun(configPath, CONFIG, workspace.path('runs'), {
      overrides: { training: { learning_rate: 1e-4 } },
      evals: [0.9],
      startedAt: new Date('2026-12-03T12:00:00Z'),
    });
    const again = (await lensesOf(client, uri)).find((lens) => lens.range.start.line === LEARNING_RATE_LINE);
    assert.equal(again?.command?.title, '1e-4 → ndcg@10 0.9 (Dec 3) · 2e-5 → 0.82 (Dec 3) · 5e-5 → 0.79 (Dec 2)');
  });

  it('shows none when embedtune.codeLens.history is off', async () => {
    const client = await startServer(workspace.root, true, false);
    clients.push(client);
    await client.open(uri, CONFIG);
    // The server pulls its settings right after initialized, before this first publish of diagnostics.
    const lenses = await lensesOf(client, uri);
    assert.deepEqual(
      lenses.map((lens) => lens.command?.command),
      ['embedtune.showDryRun'],
    );
  });

  it('reads no run folder in an untrusted workspace', async () => {
    const client = await startServer(workspace.root, false);
    clients.push(client);
    await client.open(uri, CONFIG);
    const lenses = await lensesOf(client, uri);
    assert.deepEqual(
      lenses.map((lens) => lens.command?.command),
      ['embedtune.showDryRun'],
    );
  });
});

describe('the hyperparameter history code lens with 200 past runs', () => {
  const workspace = new TempWorkspace();
  const configPath = workspace.path('faq.embedtune.yaml');
  const uri = pathToFileURL(configPath).toString();
  const runDirs: string[] = [];
  let client: LspTestClient | undefined;
  const LEARNING_RATES = [1e-5, 2e-5, 3e-5, 5e-5];
  // Every run reaches at most 0.59, except these: the best of three learning rates and of both batch sizes.
  const STANDOUT: Record<number, { evals: number[]; finished?: boolean }> = {
    17: { evals: [0.7, 0.91] }, // 2e-5, batch 32, Nov 3
    42: { evals: [0.88] }, // 3e-5, batch 16, Nov 6
    60: { evals: [0.87, 0.5], finished: false }, // 1e-5, batch 16, Nov 8: still running, its best evaluation counts
    100: { evals: [0.86] }, // 1e-5, batch 16, Nov 13: below run 60
  };

  before(() => {
    assert.ok(existsSync(SERVER_PATH), 'dist/server.js is built (npm run build)');
    workspace.write('data/train.jsonl', pairsJsonl(40));
    workspace.write('faq.embedtune.yaml', CONFIG);
    const runs = workspace.path('runs');
    for (let i = 0; i < 200; i++) {
      const run = writePastRun(configPath, CONFIG, runs, {
        overrides: { training: { learning_rate: LEARNING_RATES[i % 4], batch_size: [16, 32][i % 2] } },
        evals: STANDOUT[i]?.evals ?? [0.5, 0.5 + (i % 10) / 100],
        finished: STANDOUT[i]?.finished,
        startedAt: new Date(Date.UTC(2026, 10, 1) + i * 3 * 3_600_000),
      });
      runDirs.push(run.path);
    }
    // Another config's run in the same output_dir is not this config's history, however good.
    writePastRun(workspace.write('other.embedtune.yaml', CONFIG), CONFIG, runs, {
      overrides: { training: { learning_rate: 1e-3 } },
      evals: [0.99],
      startedAt: new Date('2026-12-03T11:00:00Z'),
    });
  });

  after(async () => {
    await client?.dispose();
    workspace.dispose();
  });

  it('answers completions while the first code lens reads the runs, then shows each value’s best run and date', async () => {
    client = await startServer(workspace.root, true);
    await client.open(uri, CONFIG);
    const order: string[] = [];
    let lensDone = false;
    const firstLens = lensesOf(client, uri).then((lenses) => {
      order.push('lens');
      lensDone = true;
      return lenses;
    });
    // Completions sent one after another from the moment the lens is asked for: the lens reads 200 folders, and
    // each completion must be answered without waiting for that read to end.
    let answered = 0;
    while (!lensDone && answered < 50) {
      const result = await client.request<{ items: unknown[] } | unknown[] | null>('textDocument/completion', {
        textDocument: { uri },
        position: { line: LEARNING_RATE_LINE, character: 2 },
      });
      const items = Array.isArray(result) ? result : (result?.items ?? []);
      assert.ok(items.length > 0, 'completion offers training keys');
      if (!lensDone) order.push('completion');
      answered++;
    }
    const lenses = await firstLens;
    assert.ok(order.indexOf('lens') >= 3, `at least three completions answered before the lens: ${order.join(' ')}`);

    const byLine = new Map(lenses.map((lens) => [lens.range.start.line, lens.command]));
    const learningRate = byLine.get(LEARNING_RATE_LINE);
    assert.equal(learningRate?.title, '2e-5 → ndcg@10 0.91 (Nov 3) · 3e-5 → 0.88 (Nov 6) · 1e-5 → 0.87 (Nov 8)');
    assert.equal(learningRate?.command, 'embedtune.compareRuns');
    assert.deepEqual(learningRate?.arguments, [[runDirs[17], runDirs[42], runDirs[60]]]);
    const batchSize = byLine.get(CONFIG.split('\n').indexOf('  batch_size: 32'));
    assert.equal(batchSize?.title, '32 → ndcg@10 0.91 (Nov 3) · 16 → 0.88 (Nov 6)');
    assert.deepEqual(batchSize?.arguments, [[runDirs[17], runDirs[42]]]);
    // The cached second look gives the same lenses.
    assert.deepEqual(await lensesOf(client, uri), lenses);
  });
});
