import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressFraction } from '../../src/extension/lab/labProgressRelay';
import { parseFromLab, parseToLab } from '../../src/shared/protocol/labMessages';
import { isFromLabTools, isToLabTools } from '../../src/shared/protocol/labToolMessages';

describe('the Lab tools’ messages', () => {
  it('accepts what the webview may ask and refuses anything else', () => {
    assert.deepEqual(parseFromLab({ command: 'wins', k: 10 }), { command: 'wins', k: 10 });
    for (const k of [0, 101, 2.5, '3']) assert.equal(parseFromLab({ command: 'wins', k }), undefined, String(k));
    for (const command of ['mine', 'writeMined', 'discardMined', 'cancel'])
      assert.deepEqual(parseFromLab({ command, path: '/etc/passwd' }), { command }, 'extra fields are dropped');
    assert.equal(parseFromLab({ command: 'writeFile' }), undefined);
    assert.ok(isFromLabTools({ command: 'cancel' }) && !isFromLabTools({ command: 'search' }));
  });

  it('checks progress and mined previews before the page sees them', () => {
    const progress = { command: 'progress', title: 't', message: 'encoding 1 of 4', fraction: 0.25 };
    assert.deepEqual(parseToLab(progress), progress);
    assert.equal(parseToLab({ ...progress, fraction: 1.5 }), undefined);
    assert.equal(parseToLab({ ...progress, message: 3 }), undefined);
    const preview = {
      target: 'd.jsonl',
      rows: 1,
      pairs: 1,
      shown: [{ anchor: 'a', positive: 'p', positiveScore: 0.5, negatives: [{ text: 'n', score: null }] }],
    };
    assert.deepEqual(parseToLab({ command: 'mined', preview }), { command: 'mined', preview });
    assert.equal(
      parseToLab({ command: 'mined', preview: { ...preview, shown: [{ ...preview.shown[0], positiveScore: 'x' }] } }),
      undefined,
    );
    assert.equal(parseToLab({ command: 'toolBusy', tool: 'rm' }), undefined);
    assert.ok(isToLabTools({ command: 'progress' }) && !isToLabTools({ command: 'results' }));
  });

  it('reads a fraction from a progress line that gives a count', () => {
    assert.equal(progressFraction('encoding the corpus with ./base: 500 of 2000 texts'), 0.25);
    assert.equal(progressFraction('Encoding: 30/60 (50%, 1.2 s)'), 0.5);
    assert.equal(progressFraction('loading the model'), null);
    assert.equal(progressFraction('0 of 0'), null);
  });
});
