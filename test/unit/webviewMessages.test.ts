import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFromCheckpoints, parseToCheckpoints } from '../../src/shared/protocol/checkpointsMessages';
import { parseFromDashboard, parseToDashboard } from '../../src/shared/protocol/dashboardMessages';
import { contentSecurityPolicy, createNonce, webviewHtml } from '../../src/extension/panels/webviewHtml';

const run = { key: '/w/runs/a', runId: 'a', configPath: null, startedAt: null, lifecycle: 'running', live: true };

describe('messages from the webviews are checked before the extension acts on them', () => {
  it('accepts each dashboard command in its documented shape', () => {
    assert.deepEqual(parseFromDashboard({ command: 'ready', key: null, compare: [] }), { command: 'ready', key: null, compare: [] });
    assert.deepEqual(parseFromDashboard({ command: 'compare', keys: ['/w/runs/b'] }), { command: 'compare', keys: ['/w/runs/b'] });
    for (const command of ['selectRun', 'stop', 'showCheckpoints', 'openConfig'])
      assert.deepEqual(parseFromDashboard({ command, key: '/w/runs/a', extra: 1 }), { command, key: '/w/runs/a' });
  });
  it('rejects unknown commands, missing or mistyped fields, and oversized compare lists', () => {
    for (const bad of [
      null,
      'stop',
      [],
      { command: 'eval' },
      { command: 'stop' },
      { command: 'stop', key: 3 },
      { command: 'stop', key: '' },
      { command: 'ready', key: null },
      { command: 'compare', keys: Array(9).fill('k') },
    ]) {
      assert.equal(parseFromDashboard(bad), undefined, JSON.stringify(bad));
    }
  });
  it('accepts checkpoint actions only on a checkpoint folder name, never on a path', () => {
    assert.deepEqual(parseFromCheckpoints({ command: 'delete', key: '/w/runs/a', checkpoint: 'step-40' }), {
      command: 'delete',
      key: '/w/runs/a',
      checkpoint: 'step-40',
    });
    for (const checkpoint of ['../../etc', 'step-40/..', '/tmp/step-1', 'step-', 'best', 'step-1\n']) {
      assert.equal(parseFromCheckpoints({ command: 'delete', key: '/w/runs/a', checkpoint }), undefined, checkpoint);
    }
    assert.equal(parseFromCheckpoints({ command: 'format', key: '/w', checkpoint: 'step-1' }), undefined);
  });
});

describe('messages to the webviews are checked by the webviews', () => {
  it('accepts what the extension sends and rejects malformed events and rows', () => {
    const event = { type: 'log', time: '2026-01-01T00:00:00Z', run_id: 'a', seq: 0, level: 'info', message: 'hi' };
    assert.ok(parseToDashboard({ command: 'show', run, events: [event], config: null, engineLog: [] }));
    assert.equal(parseToDashboard({ command: 'show', run, events: [{ ...event, seq: 'x' }], config: null, engineLog: [] }), undefined);
    assert.equal(
      parseToDashboard({ command: 'append', key: 'a', events: [{ type: 'progress', time: 't', run_id: 'a', seq: 1 }] }),
      undefined,
    );
    assert.equal(parseToDashboard({ command: 'runs', runs: [{ ...run, lifecycle: 'exploded' }] }), undefined);
    const row = {
      name: 'step-1',
      step: 1,
      epoch: null,
      time: null,
      sizeBytes: 1,
      metrics: { a: null },
      isBest: false,
      reason: null,
      evaluation: null,
    };
    assert.ok(parseToCheckpoints({ command: 'checkpoints', run, rows: [row], primary: null }));
    assert.equal(parseToCheckpoints({ command: 'checkpoints', run, rows: [{ ...row, metrics: { a: 'x' } }], primary: null }), undefined);
  });
});

describe('the webview HTML shell', () => {
  it('has a strict CSP: nothing by default, scripts only with this load’s nonce, styles and images only from media', () => {
    const csp = contentSecurityPolicy('https://webview.test', 'abc123');
    assert.equal(
      csp,
      "default-src 'none'; script-src 'nonce-abc123'; style-src https://webview.test 'nonce-abc123'; img-src https://webview.test data:; font-src https://webview.test",
    );
    assert.doesNotMatch(csp, /unsafe|\*/);
  });
  it('loads only its own script, carrying the nonce, and a new nonce each time', () => {
    const nonce = createNonce();
    assert.match(nonce, /^[A-Za-z0-9]{20,}$/);
    assert.notEqual(createNonce(), nonce);
    const html = webviewHtml({
      title: 'A <b>',
      cspSource: 'https://webview.test',
      nonce,
      scriptUri: 'https://webview.test/media/dist/dashboard.js',
      styleUris: ['https://webview.test/media/dist/dashboard.css'],
    });
    assert.equal([...html.matchAll(/<script/g)].length, 1);
    assert.ok(html.includes(`<script nonce="${nonce}" src="https://webview.test/media/dist/dashboard.js"></script>`));
    assert.ok(html.includes('<title>A &lt;b&gt;</title>'));
    assert.ok(html.includes(`content="default-src 'none'`.replace(/'/g, '&#39;')));
  });
});
