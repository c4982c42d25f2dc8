/**
 * The extension's Preview Training Data command without VS Code: the handler runs the built CLI's preview-data as a
 * child process, opens the contact sheet of an image config in the editor, and shows a text config's preview in the
 * output; an untrusted workspace runs nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import type { CancellableProgress } from '../../src/extension/backend/cancellableProgress';
import {
  PREVIEW_DATA_COMMAND,
  PREVIEW_UNTRUSTED_MESSAGE,
  registerPreviewDataCommand,
} from '../../src/extension/preview/previewDataCommand';
import type { EngineCommand } from '../../src/extension/runs/engineProcess';
import { writeImageFolder } from '../helpers/imageFolderFixture';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert } from '../helpers/tinyBert';
import { RecordingEditorHost } from '../unit/support/recordingEditorHost';

const engine: EngineCommand = { nodePath: process.execPath, cliPath: resolve(__dirname, '../../dist/cli.js') };
const progress: CancellableProgress = (_title, task) => task(() => undefined, new AbortController().signal);

const IMAGE_CONFIG = `task: image-classification
model:
  base: microsoft/resnet-50
data:
  train: ./images/train
preprocess:
  image: { size: 32, crop: 24, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] }
  augment: { rotation: 30 }
`;

describe('the Preview Training Data command', () => {
  const workspace = new TempWorkspace();
  let host: RecordingEditorHost;
  let opened: string[];

  before(() => {
    assert.ok(existsSync(engine.cliPath), 'dist/cli.js is built (npm run build)');
    writeImageFolder(workspace.path('images/train'), { dent: 2, ok: 2 });
    workspace.write('images.embedtune.yaml', IMAGE_CONFIG);
    buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 32, heads: 4, intermediate: 64 });
    workspace.write('data/pairs.jsonl', pairsJsonl(12));
    workspace.write('pairs.embedtune.yaml', 'model:\n  base: ./tiny\ndata:\n  train: data/pairs.jsonl\n');
  });
  beforeEach(() => {
    host = new RecordingEditorHost();
    opened = [];
    registerPreviewDataCommand({ host, engine, progress, openInEditor: async (path) => void opened.push(path) });
  });
  after(() => workspace.dispose());

  it('opens the contact sheet of an image config in the editor', async () => {
    const outcome = await host.executeCommand(PREVIEW_DATA_COMMAND, workspace.path('images.embedtune.yaml'));
    assert.equal(outcome, 'sheet-opened', JSON.stringify({ messages: host.messages, output: host.output }));
    assert.equal(opened.length, 1);
    assert.match(opened[0]!, /images-[0-9a-f]{8}\.contact-sheet\.png$/);
    const sheet = PNG.sync.read(readFileSync(opened[0]!));
    assert.ok(sheet.width > 0 && sheet.height > 0);
    assert.ok(host.output.some((line) => line.startsWith('Contact sheet: ')));
  });

  it("shows a text config's preview in the output and opens no file", async () => {
    assert.equal(await host.executeCommand(PREVIEW_DATA_COMMAND, workspace.path('pairs.embedtune.yaml')), 'text-shown');
    assert.ok(host.output.includes('First 5 row(s) of data/pairs.jsonl:'), host.output.join('\n'));
    assert.equal(host.outputShown, 1);
    assert.deepEqual(opened, []);
  });

  it('refuses in an untrusted workspace without running the engine', async () => {
    host.trusted = false;
    assert.equal(await host.executeCommand(PREVIEW_DATA_COMMAND, workspace.path('images.embedtune.yaml')), 'untrusted');
    assert.deepEqual(
      host.messages.map((m) => m.message),
      [PREVIEW_UNTRUSTED_MESSAGE],
    );
    assert.deepEqual(opened, []);
  });

  it('shows the failure when the data is missing, and opens nothing', async () => {
    workspace.write('missing.embedtune.yaml', IMAGE_CONFIG.replace('./images/train', './images/absent'));
    assert.equal(await host.executeCommand(PREVIEW_DATA_COMMAND, workspace.path('missing.embedtune.yaml')), 'failed');
    assert.match(host.messages[0]?.message ?? '', /^Preview training data failed: /);
    assert.deepEqual(opened, []);
  });
});
