import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type {
  CodeAction,
  CodeLens,
  CompletionList,
  Diagnostic,
  DocumentSymbol,
  Hover,
  MarkupContent,
  TextEdit,
} from 'vscode-languageserver-protocol';
import { LspTestClient, SERVER_PATH } from '../helpers/lspTestClient';
import { pairsJsonl, TempWorkspace } from '../helpers/tempWorkspace';

const EXAMPLES = resolve(__dirname, '../../examples');

function applyEdits(text: string, edits: TextEdit[]): string {
  const lines = text.split('\n');
  const offsetAt = (p: { line: number; character: number }) =>
    lines.slice(0, p.line).reduce((sum, l) => sum + l.length + 1, 0) + p.character;
  return [...edits]
    .sort((a, b) => offsetAt(b.range.start) - offsetAt(a.range.start))
    .reduce((acc, edit) => acc.slice(0, offsetAt(edit.range.start)) + edit.newText + acc.slice(offsetAt(edit.range.end)), text);
}

describe('the language server over a real LSP connection', () => {
  const workspace = new TempWorkspace();
  let client: LspTestClient;

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

  const uriOf = (name: string) => pathToFileURL(workspace.path(name)).toString();

  it('publishes no diagnostics for every bundled example', async () => {
    for (const example of ['retrieval/retrieval', 'similarity/similarity', 'classification/classification', 'ner/ner']) {
      const path = resolve(EXAMPLES, `${example}.embedtune.yaml`);
      const published = await client.open(pathToFileURL(path).toString(), readFileSync(path, 'utf8'));
      assert.deepEqual(
        published.diagnostics.map((d) => `${d.code}: ${d.message}`),
        [],
        example,
      );
    }
  });

  it('reports a typo on the right line and fixes it with the quick fix', async () => {
    const uri = uriOf('typo.embedtune.yaml');
    const text = 'model:\n  base: x\ndata:\n  train: data/train.jsonl\nstrategy:\n  type: lora\ntraining:\n  lerning_rate: 0.0001\n';
    const published = await client.open(uri, text);
    assert.equal(published.diagnostics.length, 1, JSON.stringify(published.diagnostics));
    const diagnostic = published.diagnostics[0]!;
    assert.equal(diagnostic.code, 'unknown-key');
    assert.equal(diagnostic.source, 'embedtune');
    assert.deepEqual(diagnostic.range, { start: { line: 7, character: 2 }, end: { line: 7, character: 14 } });

    const actions = await client.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: diagnostic.range,
      context: { diagnostics: [diagnostic] },
    });
    const fix = actions.find((action) => action.isPreferred);
    assert.equal(fix?.title, 'Change to "learning_rate"');
    const fixed = applyEdits(text, fix!.edit!.changes![uri]!);
    assert.match(fixed, /\n  learning_rate: 0\.0001\n/);
    const after = await client.change(uri, fixed);
    assert.deepEqual(after.diagnostics, []);
  });

  it('applies advice fixes that change several keys at once', async () => {
    const uri = uriOf('accumulate.embedtune.yaml');
    const text =
      'model:\n  base: x\ndata:\n  train: data/train.jsonl\nstrategy:\n  type: lora\ntraining:\n  batch_size: 32\n  gradient_accumulation_steps: 4\n';
    const published = await client.open(uri, text);
    const diagnostic = published.diagnostics.find((d) => d.code === 'mnrl-gradient-accumulation');
    assert.ok(diagnostic, JSON.stringify(published.diagnostics));
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: diagnostic.range,
      context: { diagnostics: [diagnostic] },
    });
    assert.equal(actions[0]?.title, 'Switch to cached_mnrl with batch_size 128');
    const fixed = applyEdits(text, actions[0]!.edit!.changes![uri]!);
    assert.equal(
      fixed,
      'model:\n  base: x\ndata:\n  train: data/train.jsonl\nstrategy:\n  type: lora\ntraining:\n  batch_size: 128\n  gradient_accumulation_steps: 1\nloss:\n  type: cached_mnrl\n',
    );
    assert.deepEqual((await client.change(uri, fixed)).diagnostics, []);
  });

  it('offers dataset-size quick fixes that switch the strategy', async () => {
    const uri = uriOf('small.embedtune.yaml');
    const text = 'model:\n  base: x\ndata:\n  train: data/train.jsonl\n';
    const published = await client.open(uri, text);
    const diagnostic = published.diagnostics.find((d: Diagnostic) => d.code === 'small-dataset-full-finetune');
    assert.ok(diagnostic);
    const actions = await client.request<CodeAction[]>('textDocument/codeAction', {
      textDocument: { uri },
      range: diagnostic.range,
      context: { diagnostics: [diagnostic] },
    });
    // The data.train line of an mnrl config on pairs also offers mining hard negatives (mineHardNegativesAction.test.ts).
    assert.deepEqual(
      actions.map((a) => a.title),
      ['Switch to strategy freeze', 'Switch to strategy adapter', 'Switch to strategy lora', 'Mine hard negatives for these pairs'],
    );
    const lora = actions.find((a) => a.isPreferred)!;
    assert.equal(applyEdits(text, lora.edit!.changes![uri]!), `${text}strategy:\n  type: lora\n`);
  });

  it('answers completion with schema keys and documentation', async () => {
    const uri = uriOf('complete.embedtune.yaml');
    const text = 'model:\n  base: x\ntraining:\n  epochs: 2\n  \n';
    await client.open(uri, text);
    const list = await client.request<CompletionList>('textDocument/completion', {
      textDocument: { uri },
      position: { line: 4, character: 2 },
    });
    const labels = list.items.map((item) => item.label);
    assert.ok(labels.includes('learning_rate'));
    assert.ok(!labels.includes('epochs'));
    const warmup = list.items.find((item) => item.label === 'warmup');
    assert.match((warmup?.documentation as MarkupContent).value, /warmup/i);
  });

  it('answers hover from the schema description', async () => {
    const uri = uriOf('hover.embedtune.yaml');
    await client.open(uri, 'model:\n  base: x\n  pooling: mean\n');
    const result = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 2, character: 4 } });
    assert.match((result?.contents as MarkupContent).value, /\*\*model\.pooling\*\*/);
    assert.deepEqual(result?.range, { start: { line: 2, character: 2 }, end: { line: 2, character: 9 } });
  });

  it("shows the data file's columns, row count and first rows when hovering data.train, with markup escaped", async () => {
    workspace.write(
      'data/hover.jsonl',
      '{"anchor":"<img src=x onerror=alert(1)>","positive":"**bold** | pipe"}\n{"anchor":"second","positive":"row"}\n{"anchor":"third","positive":"row"}\n',
    );
    const uri = uriOf('datahover.embedtune.yaml');
    await client.open(uri, 'model:\n  base: x\ndata:\n  train: data/hover.jsonl\nstrategy:\n  type: lora\n');
    const result = await client.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 3, character: 4 } });
    const text = (result?.contents as MarkupContent).value;
    assert.match(text, /`data\/hover\.jsonl` · jsonl · 3 rows/);
    assert.match(text, /Columns: `anchor`, `positive`/);
    assert.ok(text.includes('\\<img src=x onerror=alert\\(1\\)\\>'), text);
    assert.ok(text.includes('\\*\\*bold\\*\\* \\| pipe'), text);
    assert.ok(!text.includes('third'), 'only the first two rows are shown');
  });

  it('gives an outline of the config', async () => {
    const uri = uriOf('outline.embedtune.yaml');
    await client.open(uri, 'model:\n  base: x\ntraining:\n  epochs: 3\n  batch_size: 64\n');
    const symbols = await client.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.deepEqual(
      symbols.map((s) => s.name),
      ['model', 'training'],
    );
    assert.deepEqual(
      symbols[1]!.children?.map((s) => `${s.name}=${s.detail}`),
      ['epochs=3', 'batch_size=64'],
    );
  });

  it('shows the dry-run summary as a code lens and answers the dry-run request', async () => {
    const uri = uriOf('plan.embedtune.yaml');
    await client.open(
      uri,
      'model:\n  base: x\ndata:\n  train: data/train.jsonl\n  validation_split: 0.25\nstrategy:\n  type: lora\ntraining:\n  epochs: 3\n  batch_size: 32\n  warmup: 0.1\n',
    );
    const lenses = await client.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    // 120 rows, 30 held out: 90 rows → 3 steps an epoch, 9 in all, ceil(0.9) = 1 warmup step.
    assert.equal(lenses[0]?.command?.title, 'Dry run: 90 rows · batch 32 · 3 steps/epoch · 9 total · 1 warmup');
    const plan = await client.request<{ plan: { validationRows: number; totalSteps: number }; errors: number }>('embedtune/dryRun', {
      uri,
    });
    assert.equal(plan.plan.validationRows, 30);
    assert.equal(plan.plan.totalSteps, 9);
    assert.equal(plan.errors, 0);
  });

  it('reports only checks beyond the schema for JSON configs, which VS Code validates through jsonValidation', async () => {
    const uri = uriOf('run.embedtune.json');
    const text =
      '{\n  "model": {"base": "x"},\n  "data": {"train": "data/train.jsonl"},\n  "strategy": {"type": "lora"},\n  "training": {"lerning_rate": 1, "mixed_precision": "fp16"}\n}\n';
    const published = await client.open(uri, text, 'json');
    assert.deepEqual(
      published.diagnostics.map((d) => d.code),
      ['mixed-precision-unsupported'],
    );
    assert.deepEqual(published.diagnostics[0]!.range.start, { line: 4, character: 53 });
  });

  it('never crashes on broken YAML and keeps answering', async () => {
    const uri = uriOf('broken.embedtune.yaml');
    const published = await client.open(uri, 'model:\n  base: [x\n: : :\n\t- - {');
    assert.ok(published.diagnostics.some((d) => d.code === 'yaml-syntax'));
    const list = await client.request<CompletionList | null>('textDocument/completion', {
      textDocument: { uri },
      position: { line: 3, character: 3 },
    });
    assert.ok(list === null || Array.isArray(list.items), 'completion answers with a list or nothing');
    const fixed = await client.change(uri, 'model:\n  base: x\n');
    assert.deepEqual(
      fixed.diagnostics.map((d) => d.code),
      ['missing-key'],
      'the server still validates after the broken text',
    );
    assert.ok(client.alive);
  });
});
