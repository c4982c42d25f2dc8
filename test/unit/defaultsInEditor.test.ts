import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { MarkupContent } from 'vscode-languageserver';
import { embedtuneSchemaNavigator } from '../../src/shared/config/embedtuneSchema';
import { CompletionService } from '../../src/server/service/completionService';
import { HoverService } from '../../src/server/service/hoverService';
import { withCursor } from '../helpers/markedText';

const completion = new CompletionService(embedtuneSchemaNavigator);
const hover = new HoverService(embedtuneSchemaNavigator);

function documentOf(marked: string): { document: TextDocument; offset: number } {
  const { text, offset } = withCursor(marked);
  return { document: TextDocument.create('file:///x.embedtune.yaml', 'embedtune', 1, text), offset };
}

function hoverText(marked: string): string {
  const { document, offset } = documentOf(marked);
  return ((hover.hover(document, offset)?.contents ?? { value: '' }) as MarkupContent).value;
}

describe('the editor states the defaults the engines run', () => {
  it('hover on loss.type gives the per-task default, never mnrl for every task', () => {
    const text = hoverText('task: classification\nloss:\n  ty|pe: softmax\n');
    assert.match(text, /When left out, it follows the task: mnrl for embedding, softmax for classification and for token-classification\./);
    assert.doesNotMatch(text, /Default:/);
  });

  it('completion marks no loss as the default, since the default depends on the task', () => {
    const { document, offset } = documentOf('task: classification\nloss:\n  type: |\n');
    const items = completion.complete(document, offset, undefined).items;
    assert.ok(items.some((item) => item.label === 'softmax'));
    assert.deepEqual(
      items.filter((item) => item.detail === 'default').map((item) => item.label),
      [],
    );
  });

  it('hover on the metrics and primary metric names the task defaults', () => {
    assert.match(hoverText('evaluation:\n  met|rics: [f1]\n'), /\[f1, precision, recall\] \(entity level\) for token-classification/);
    const primary = hoverText('evaluation:\n  prim|ary: f1\n');
    assert.match(primary, /spearman for scored pairs, f1 for classification/);
    assert.doesNotMatch(primary, /Default:/);
  });

  it('hover on evaluation.enabled and early_stopping.enabled says they are on without their sections', () => {
    const evaluation = hoverText('evaluation:\n  ena|bled: false\n');
    assert.match(evaluation, /true \(the default\) evaluates whenever there are validation rows, with or without an evaluation section/);
    assert.match(evaluation, /Default: `true`/);
    const stopping = hoverText('early_stopping:\n  ena|bled: false\n');
    assert.match(stopping, /applies whenever the run evaluates \(see evaluation\.enabled\), with or without an early_stopping section/);
    assert.match(stopping, /Default: `true`/);
  });

  it('offers evaluation.enabled among the evaluation keys', () => {
    const { document, offset } = documentOf('evaluation:\n  |\n');
    assert.ok(completion.complete(document, offset, undefined).items.some((item) => item.label === 'enabled'));
  });
});
