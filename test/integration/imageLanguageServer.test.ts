import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { CodeAction, Diagnostic, Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { pngFile, writeImageFolder } from '../helpers/imageFolderFixture';
import { LspTestClient, SERVER_PATH } from '../helpers/lspTestClient';
import { TempWorkspace } from '../helpers/tempWorkspace';

/** task: image-classification in the editor: the ImageFolder data checks, class counts on hover, small-data advice. */

const imageCodes = (diagnostics: Diagnostic[]) =>
  diagnostics.filter((d) => String(d.code).startsWith('image-') || d.code === 'small-dataset-full-finetune');

describe('image folders over a real LSP connection', () => {
  const workspace = new TempWorkspace();
  let client: LspTestClient;
  const uriOf = (name: string) => pathToFileURL(workspace.path(name)).toString();
  const config = (train: string, extra = '') =>
    `task: image-classification\nmodel:\n  base: microsoft/resnet-50\ndata:\n  train: ${train}\n${extra}`;

  before(async () => {
    assert.ok(existsSync(SERVER_PATH), 'dist/server.js is built (npm run build)');
    // 110 images: a sample of 64 is checked; b's first file (always sampled) is a truncated PNG.
    const root = writeImageFolder(workspace.path('defects/train'), { a: 70, b: 39 });
    const png = pngFile(20, 16);
    writeFileSync(join(root, 'b', '000_cut.png'), png.subarray(0, png.length - 30));
    mkdirSync(join(root, 'empty'));
    writeImageFolder(workspace.path('defects/validation'), { a: 2, b: 2, rust: 1 });
    writeFileSync(
      workspace.path('defects/rows.csv'),
      'file,kind\ntrain/a/a_0.png,a\ntrain/a/a_1.jpg,a\ntrain/b/000_cut.png,b\ngone.png,b\n',
    );
    client = new LspTestClient();
    await client.initialize(workspace.root);
  });
  after(async () => {
    await client.dispose();
    workspace.dispose();
  });

  it('marks a missing image folder on its path', async () => {
    const published = await client.open(uriOf('missing.embedtune.yaml'), config('./nothing/train'));
    const found = imageCodes(published.diagnostics);
    assert.deepEqual(
      found.map((d) => [d.code, d.severity, d.range.start.line, d.range.start.character]),
      [['image-folder-missing', 1, 4, 9]],
    );
    assert.match(found[0]!.message, /data\.train "\.\/nothing\/train": the image folder does not exist/);
  });

  it('says a file of another kind is neither layout, and how to read it as rows', async () => {
    workspace.write('defects/list.txt', 'train/a/a_0.png,a\n');
    const published = await client.open(uriOf('txt.embedtune.yaml'), config('./defects/list.txt'));
    const found = imageCodes(published.diagnostics);
    assert.deepEqual(
      found.map((d) => d.code),
      ['image-folder-unreadable'],
    );
    assert.match(found[0]!.message, /is a file, but neither an image folder .* nor a \.jsonl, \.csv or \.tsv file; set data\.format/);
  });

  it('reports an empty class, names an unreadable file with the sample size, and flags a validation-only class', async () => {
    const published = await client.open(uriOf('defects.embedtune.yaml'), config('./defects/train'));
    const byCode = new Map(imageCodes(published.diagnostics).map((d) => [d.code, d]));
    assert.deepEqual([...byCode.keys()].sort(), [
      'image-class-empty',
      'image-class-mismatch',
      'image-unreadable',
      'small-dataset-full-finetune',
    ]);
    assert.match(byCode.get('image-class-empty')!.message, /class "empty" has no \.png, \.jpg or \.jpeg images/);
    const unreadable = byCode.get('image-unreadable')!;
    assert.equal(unreadable.severity, 1);
    assert.match(unreadable.message, /1 of 64 images checked \(a sample spread over the 3 classes, of 110 images\)/);
    assert.match(unreadable.message, /b\/000_cut\.png is a truncated PNG/);
    assert.match(byCode.get('image-class-mismatch')!.message, /class "rust" has no training folder/);
  });

  it('turns unreadable images into information when bad rows are skipped', async () => {
    const published = await client.open(uriOf('skip.embedtune.yaml'), config('./defects/train', '  on_bad_row: skip\n'));
    const unreadable = published.diagnostics.find((d) => d.code === 'image-unreadable');
    assert.equal(unreadable?.severity, 3);
    assert.match(unreadable!.message, /will be skipped/);
  });

  it('gives the small-data advice for images, with freezing as the fix', async () => {
    const uri = uriOf('small.embedtune.yaml');
    const published = await client.open(uri, config('./defects/train', 'strategy:\n  type: full\n'));
    const advice = published.diagnostics.find((d) => d.code === 'small-dataset-full-finetune');
    assert.match(advice?.message ?? '', /^110 training images is under 10k: fine-tuning the whole backbone tends to overfit/);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: advice!.range,
      context: { diagnostics: [advice!] },
    });
    assert.deepEqual(
      actions.map((action) => action.title),
      ['Switch to strategy freeze'],
    );
    const edits = Object.values(actions[0]!.edit!.changes!)[0]!
      .map((edit) => edit.newText)
      .join('');
    assert.match(edits, /freeze_layers: 3/);
    assert.match(edits, /freeze_embeddings: true/, 'the stem is frozen too, or the advice would still train it');
  });

  it('names the unreadable images of a CSV row file by line, and counts its labels in the hover', async () => {
    const uri = uriOf('rows.embedtune.yaml');
    const published = await client.open(uri, config('./defects/rows.csv', '  columns: { image: file, label: kind }\n'));
    const unreadable = published.diagnostics.filter((d) => d.code === 'image-unreadable');
    assert.equal(unreadable.length, 1, JSON.stringify(published.diagnostics));
    assert.equal(
      unreadable[0]!.message,
      'data.train "./defects/rows.csv": 2 of the 4 images it names cannot be read: line 4 train/b/000_cut.png is a truncated PNG: it does not end with an IEND chunk; line 5 gone.png does not exist. Training stops on them unless data.on_bad_row is skip.',
    );
    const hover = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 4, character: 4 } });
    const text = (hover?.contents as MarkupContent).value;
    assert.match(text, /Images per label: 2 labels, 4 images\n\n\| label \| images \|\n\| --- \| ---: \|\n\| a \| 2 \|\n\| b \| 2 \|/);
    assert.match(text, /Sizes seen in 4 sampled image headers: 20×16 \(2\)/);
  });

  it('shows class counts and the image sizes seen when hovering data.train, and the validation folder beside it', async () => {
    const uri = uriOf('hover.embedtune.yaml');
    await client.open(uri, config('./defects/train'));
    const hover = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 4, character: 4 } });
    const text = (hover?.contents as MarkupContent).value;
    assert.match(text, /`\.\/defects\/train` · image folder · 110 images in 3 classes/);
    assert.match(text, /\| a \| 70 \|\n\| b \| 40 \|\n\| empty \| 0 \|/);
    assert.match(text, /Sizes seen in 64 sampled image headers: 20×16 \(63\)/);
    assert.match(text, /defects\/validation` \(the validation folder beside data\.train\) · image folder · 5 images in 3 classes/);
  });
});
