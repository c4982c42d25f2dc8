/**
 * The extension's side of the mine-hard-negatives quick fix without VS Code: the command handler runs the built CLI's
 * mine-negatives as a child process on a tiny random BERT, writes the mined triplets next to the training file, and
 * edits only data.train and the negative column of the config (comments and layout kept). An untrusted workspace,
 * and a cancelled run, leave everything as it was.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { CancellableProgress } from '../../src/extension/backend/cancellableProgress';
import type { ConfigTextEditor } from '../../src/extension/mining/configTextEditor';
import { MINING_UNTRUSTED_MESSAGE, registerMineHardNegativesCommand } from '../../src/extension/mining/mineHardNegativesCommand';
import type { EngineCommand } from '../../src/extension/runs/engineProcess';
import { MINE_HARD_NEGATIVES_COMMAND } from '../../src/shared/protocol/mineHardNegatives';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';
import { RecordingEditorHost } from '../unit/support/recordingEditorHost';

const engine: EngineCommand = { nodePath: process.execPath, cliPath: resolve(__dirname, '../../dist/cli.js') };
const TOPICS = ['river', 'mountain', 'music', 'bird', 'school', 'ocean', 'paper', 'horse', 'king', 'island'];
const PAIRS = TOPICS.map((topic, i) => ({ question: `what is a ${topic}`, answer: `the ${topic} is by the ${TOPICS[(i + 1) % 10]}` }));
const CONFIG = `# FAQ retrieval
model:
  base: ./base
data:
  train: data/faq.jsonl # the pairs
  columns:
    anchor: question # the user's words
    positive: answer
loss:
  type: mnrl
`;
const MINED_CONFIG = `# FAQ retrieval
model:
  base: ./base
data:
  train: data/faq.hard-negatives.jsonl # the pairs
  columns:
    anchor: question # the user's words
    positive: answer
    negative:
      - negative
loss:
  type: mnrl
`;

/** Edits the file on disk, as VS Code's WorkspaceEdit does the open document. */
const diskEditor: ConfigTextEditor = {
  async edit(configPath, change) {
    const text = readFileSync(configPath, 'utf8');
    const replacement = change(text);
    if (!replacement) return false;
    writeFileSync(configPath, text.slice(0, replacement.range.start) + replacement.newText + text.slice(replacement.range.end));
    return true;
  },
};

describe('the mine-hard-negatives command', () => {
  const workspace = new TempWorkspace();
  const config = workspace.path('faq.embedtune.yaml');
  const mined = workspace.path('data/faq.hard-negatives.jsonl');
  let host: RecordingEditorHost;
  const reported: string[] = [];
  const recordingProgress: CancellableProgress = (_title, task) => task((message) => reported.push(message), new AbortController().signal);

  before(() => {
    assert.ok(existsSync(engine.cliPath), 'dist/cli.js is built (npm run build)');
    buildTinyBert(workspace.path('base'), { withPoolingModules: true, seed: 1 });
    workspace.write('data/faq.jsonl', PAIRS.map((pair) => JSON.stringify(pair)).join('\n') + '\n');
  });
  beforeEach(() => {
    host = new RecordingEditorHost();
    workspace.write('faq.embedtune.yaml', CONFIG);
  });
  after(() => workspace.dispose());

  const run = (progress: CancellableProgress) => {
    registerMineHardNegativesCommand({ host, engine, progress, editor: diskEditor });
    // The argument as the language server's code action carries it: the config's URI.
    return host.executeCommand(MINE_HARD_NEGATIVES_COMMAND, pathToFileURL(config).toString());
  };

  it('refuses in an untrusted workspace: no engine, no file, no edit', async () => {
    host.trusted = false;
    assert.equal(await run(recordingProgress), 'untrusted');
    assert.deepEqual(
      host.messages.map((m) => [m.kind, m.message]),
      [['error', MINING_UNTRUSTED_MESSAGE]],
    );
    assert.equal(existsSync(mined), false);
    assert.equal(readFileSync(config, 'utf8'), CONFIG);
  });

  it('leaves the config as it was when cancelled', async () => {
    const cancelled: CancellableProgress = (_title, task) => task(() => undefined, AbortSignal.abort());
    assert.equal(await run(cancelled), 'cancelled');
    assert.equal(existsSync(mined), false);
    assert.equal(readFileSync(config, 'utf8'), CONFIG);
  });

  it('mines one negative per pair next to the training file and points data.train at it', async () => {
    assert.equal(await run(recordingProgress), 'mined', JSON.stringify(host.messages));
    const rows = readFileSync(mined, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, string>);
    assert.equal(rows.length, PAIRS.length);
    const answers = new Set(PAIRS.map((pair) => pair.answer));
    for (const row of rows) {
      assert.deepEqual(Object.keys(row).sort(), ['answer', 'negative', 'question']);
      const pair = PAIRS.find((p) => p.question === row.question)!;
      assert.equal(row.answer, pair.answer);
      // A negative is another pair's positive, never the anchor's own.
      assert.ok(answers.has(row.negative!) && row.negative !== pair.answer, JSON.stringify(row));
    }
    assert.equal(readFileSync(config, 'utf8'), MINED_CONFIG);
    assert.ok(
      reported.some((line) => /encoding/.test(line)),
      `the miner's progress lines are shown: ${JSON.stringify(reported)}`,
    );
  });

  it('asks before replacing a mined file, and leaves everything as it was when not told to', async () => {
    writeFileSync(mined, 'earlier rows\n');
    host.answers.push(undefined);
    assert.equal(await run(recordingProgress), 'cancelled');
    assert.match(host.messages[0]?.message ?? '', /faq\.hard-negatives\.jsonl exists/);
    assert.equal(readFileSync(mined, 'utf8'), 'earlier rows\n');
    assert.equal(readFileSync(config, 'utf8'), CONFIG);
  });
});
