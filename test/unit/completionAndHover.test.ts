import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { CompletionItem, MarkupContent } from 'vscode-languageserver';
import { embedtuneSchemaNavigator } from '../../src/shared/config/embedtuneSchema';
import { CompletionService } from '../../src/server/service/completionService';
import { HoverService } from '../../src/server/service/hoverService';
import { withCursor } from '../helpers/markedText';
import { TempWorkspace } from '../helpers/tempWorkspace';

const completion = new CompletionService(embedtuneSchemaNavigator);
const hover = new HoverService(embedtuneSchemaNavigator);
const workspace = new TempWorkspace();
after(() => workspace.dispose());

function complete(marked: string, documentPath?: string): CompletionItem[] {
  const { text, offset } = withCursor(marked);
  const document = TextDocument.create('file:///x.embedtune.yaml', 'embedtune', 1, text);
  return completion.complete(document, offset, documentPath).items;
}

function labels(marked: string): string[] {
  return complete(marked).map((item) => item.label);
}

function newText(item: CompletionItem | undefined): string {
  assert.ok(item?.textEdit && 'range' in item.textEdit, 'item has a text edit');
  return item.textEdit.newText;
}

describe('key completion', () => {
  it('offers the keys of the section under the cursor, at any depth', () => {
    assert.ok(labels('training:\n  lear|').includes('learning_rate'));
    assert.ok(labels('strategy:\n  lora:\n    |').includes('targets'));
    assert.ok(labels('preprocess:\n  augment:\n    synonym_replacement:\n      |').includes('probability'));
    const top = labels('|');
    for (const key of ['model', 'data', 'training', 'evaluation', 'engine']) assert.ok(top.includes(key), key);
  });

  it('leaves out keys already present in the same mapping, wherever they are', () => {
    const offered = labels('training:\n  epochs: 3\n  |\n  batch_size: 32\nevaluation:\n  every: epoch\n');
    assert.ok(!offered.includes('epochs'));
    assert.ok(!offered.includes('batch_size'));
    assert.ok(offered.includes('learning_rate'));
    assert.ok(!offered.includes('every'), 'keys of another section are not siblings');
  });

  it('documents each key from the schema', () => {
    const item = complete('training:\n  |').find((i) => i.label === 'warmup');
    const docs = (item?.documentation as MarkupContent).value;
    assert.match(docs, /\*\*training\.warmup\*\*/);
    assert.match(docs, /Default: `0\.1`/);
  });

  it('inserts default-valued snippets: a choice for enums, the default for scalars, a nested block for sections', () => {
    const items = complete('training:\n  |');
    assert.equal(newText(items.find((i) => i.label === 'scheduler')), 'scheduler: ${1|linear,cosine,constant|}');
    assert.equal(newText(items.find((i) => i.label === 'learning_rate')), 'learning_rate: ${1:0.00002}');
    assert.equal(newText(complete('|').find((i) => i.label === 'model')), 'model:\n  base: ${1:sentence-transformers/all-MiniLM-L6-v2}');
    assert.equal(newText(complete('|').find((i) => i.label === 'training')), 'training:\n  $0');
  });

  it('replaces only the partial key typed so far', () => {
    const item = complete('training:\n  lear|').find((i) => i.label === 'learning_rate');
    assert.ok(item?.textEdit && 'range' in item.textEdit);
    assert.deepEqual(item.textEdit.range, { start: { line: 1, character: 2 }, end: { line: 1, character: 6 } });
  });
});

describe('value completion', () => {
  it('offers enum values with the default first', () => {
    const items = complete('training:\n  scheduler: |');
    assert.deepEqual(items.map((i) => i.label).sort(), ['constant', 'cosine', 'linear']);
    assert.equal(items.find((i) => i.label === 'linear')?.detail, 'default');
  });

  it('offers booleans and examples', () => {
    assert.deepEqual(labels('model:\n  normalize: |').sort(), ['false', 'true']);
    assert.ok(labels('model:\n  base: |').includes('sentence-transformers/all-MiniLM-L6-v2'));
  });

  it('offers the metrics the task can compute, in block and flow lists, without those already listed', () => {
    const block = labels('evaluation:\n  metrics:\n    - ndcg@10\n    - |');
    assert.deepEqual(block.slice(0, 5), ['mrr@10', 'recall@1', 'recall@5', 'recall@10', 'map@100']);
    assert.ok(!block.includes('ndcg@10'));
    const flow = labels('task: classification\nevaluation:\n  metrics: [accuracy, |');
    assert.deepEqual(flow, ['f1', 'precision', 'recall']);
    assert.ok(labels('loss:\n  type: cosent\nevaluation:\n  primary: |').includes('spearman'));
  });

  it('offers metrics for an existing list item after `- `, even when every suggested metric is listed already', () => {
    const listed = ['ndcg@10', 'mrr@10', 'recall@1', 'recall@5', 'recall@10', 'map@100', 'ndcg@5'];
    const text = `evaluation:\n  metrics:\n${listed.map((metric) => `    - ${metric}\n`).join('')}`;
    const items = complete(text.replace('    - ndcg@5', '    - |ndcg@5'));
    const offered = items.map((item) => item.label);
    assert.ok(offered.includes('ndcg@5'), 'the item being edited is no reason to leave itself out');
    assert.ok(offered.includes('ndcg@20') && offered.includes('recall@100'), offered.join(', '));
    assert.ok(!offered.some((metric) => listed.includes(metric) && metric !== 'ndcg@5'), offered.join(', '));
    assert.equal(newText(items.find((item) => item.label === 'ndcg@20')), 'ndcg@20');
  });

  it('offers data files and folders relative to the config for data paths', () => {
    workspace.write('data/train.jsonl', '{}\n');
    workspace.write('data/notes.txt', 'not data');
    workspace.write('pairs.csv', 'a,b\n');
    const configPath = workspace.path('run.embedtune.yaml');
    const top = complete('data:\n  train: |', configPath).map((i) => i.label);
    assert.ok(top.includes('data/'));
    assert.ok(top.includes('pairs.csv'));
    const nested = complete('data:\n  train: data/|', configPath).map((i) => i.label);
    assert.ok(nested.includes('data/train.jsonl'));
    assert.ok(!nested.includes('data/notes.txt'), 'only data formats are offered');
  });

  it('offers nothing inside a comment', () => {
    assert.deepEqual(labels('training:\n  # lear|'), []);
  });
});

describe('hover', () => {
  function hoverAt(marked: string): string | undefined {
    const { text, offset } = withCursor(marked);
    const document = TextDocument.create('file:///x.embedtune.yaml', 'embedtune', 1, text);
    const result = hover.hover(document, offset);
    return result ? (result.contents as MarkupContent).value : undefined;
  }

  it('shows the schema description of the key under the cursor, with its default and examples', () => {
    const text = hoverAt('training:\n  grad|ient_accumulation_steps: 4\n');
    assert.match(text ?? '', /\*\*training\.gradient_accumulation_steps\*\*/);
    assert.match(text ?? '', /Default: `1`/);
  });

  it('shows the key documentation when hovering its value, and allowed values for enums', () => {
    const text = hoverAt('loss:\n  type: mn|rl\n');
    assert.match(text ?? '', /\*\*loss\.type\*\*/);
    assert.match(text ?? '', /Allowed: `mnrl`, `cached_mnrl`/);
  });

  it('shows nothing for unknown keys', () => {
    assert.equal(hoverAt('training:\n  lern|ing: 1\n'), undefined);
  });
});

describe('completion edits the word under the cursor', () => {
  function applied(marked: string, label: string): string {
    const { text, offset } = withCursor(marked);
    const document = TextDocument.create('file:///x.embedtune.yaml', 'embedtune', 1, text);
    const item = completion.complete(document, offset, undefined).items.find((i) => i.label === label);
    assert.ok(item?.textEdit && 'range' in item.textEdit, `${label} offered`);
    const { range, newText } = item.textEdit;
    return text.slice(0, document.offsetAt(range.start)) + newText + text.slice(document.offsetAt(range.end));
  }

  it('replaces the whole key and keeps an existing colon and value', () => {
    assert.equal(applied('training:\n  lear|ning_rat: 1\n', 'learning_rate'), 'training:\n  learning_rate: 1\n');
  });

  it('replaces the whole value, not just what precedes the cursor', () => {
    assert.equal(applied('training:\n  scheduler: |linear\n', 'cosine'), 'training:\n  scheduler: cosine\n');
  });

  it('inserts a value inside quotes without adding quotes', () => {
    assert.equal(applied('training:\n  mixed_precision: "|"\n', 'no'), 'training:\n  mixed_precision: "no"\n');
  });

  it('follows quoted parent keys', () => {
    assert.ok(labels('"training":\n  lear|').includes('learning_rate'));
    assert.ok(!labels('"training":\n  lear|').includes('model'));
  });
});
