import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LabClassificationWins, LabRetrievalWins } from '../../src/shared/lab/labWinsResult';
import type { MinedPreview } from '../../src/shared/lab/minedPreview';
import type { ToLab } from '../../src/shared/protocol/labMessages';
import { browserMissing, WebviewBrowser, type WebviewPage } from './webviewHarness';

const skip = browserMissing();

const XSS = '<img src=x onerror="window.__pwned=1">';
const SCRIPT = '<script>window.__pwned=2</script>';
const MODELS: LabRetrievalWins['models'] = [
  { model: '/work/base', description: 'base', cache: 'hit' },
  { model: '/work/runs/r1/model', description: 'tuned', cache: 'miss' },
];

function retrievalWins(): LabRetrievalWins {
  return {
    task: 'retrieval',
    k: 3,
    queries: 12,
    documents: 12,
    models: MODELS,
    improved: 2,
    worsened: 1,
    unchanged: 9,
    wins: [
      { query: XSS, positive: 'the river runs', firstRank: 9, secondRank: 1 },
      { query: 'who can sing', positive: SCRIPT, firstRank: 4, secondRank: 3 },
    ],
    losses: [{ query: 'where is the sea', positive: 'the school is near the sea', firstRank: 2, secondRank: 7 }],
    fellOut: [{ query: 'where is the sea', positive: 'the school is near the sea', firstRank: 2, secondRank: 7 }],
  };
}

const SETUP: ToLab = { command: 'setup', first: '/work/base', second: '/work/runs/r1/model', corpus: '/work/val.jsonl', runId: 'r1' };

async function assertNothingInjected(page: WebviewPage): Promise<void> {
  assert.equal(await page.page.locator('#app img, #app script').count(), 0);
  assert.equal(await page.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
  assert.deepEqual(await page.cspViolations(), []);
  assert.deepEqual(page.errors, []);
}

describe('the Embedding Lab’s wins, losses and mined negatives in headless Chromium', { skip }, () => {
  let browser: WebviewBrowser;
  before(async () => {
    browser = await WebviewBrowser.launch();
  });
  after(async () => browser?.close());

  async function openLab(): Promise<WebviewPage> {
    const page = await browser.open('lab');
    await page.send(SETUP);
    return page;
  }

  it('asks for wins and losses with the search’s k, lists them, and opens a win in Search', async () => {
    const page = await openLab();
    await page.page.fill('#top-k', '3');
    await page.page.fill('#query', 'anything');
    await page.page.click('#search');
    await page.page.click('#wins-run');
    await page.waitForPosted('wins');
    assert.deepEqual(
      (await page.posted()).filter((message) => message.command === 'wins'),
      [{ command: 'wins', k: 3 }],
    );
    await page.send({ command: 'toolBusy', tool: 'wins' } satisfies ToLab);
    assert.equal(await page.page.isDisabled('#wins-run'), true);
    await page.send({ command: 'wins', result: retrievalWins() } satisfies ToLab);
    await page.send({ command: 'toolBusy', tool: null } satisfies ToLab);
    assert.equal(await page.page.isDisabled('#wins-run'), false);
    assert.deepEqual(await page.page.locator('#wins-list .query').allTextContents(), [XSS, 'who can sing']);
    assert.deepEqual(await page.page.locator('#wins-list .ranks').allTextContents(), ['9 → 1', '4 → 3']);
    assert.deepEqual(await page.page.locator('#wins-list .positive').allTextContents(), ['the river runs', SCRIPT]);
    assert.deepEqual(await page.page.locator('#losses-list .ranks').allTextContents(), ['2 → 7']);
    assert.deepEqual(await page.page.locator('#fellout-list .query').allTextContents(), ['where is the sea']);
    assert.match(await page.text('#wins-summary'), /rose for 2, fell for 1, kept its rank for 9/);
    await page.screenshot('lab-wins');
    // Clicking a win types its query into Search and runs it.
    await page.page.click('#wins-list li:first-child .move');
    await page.waitForPosted('search', 2);
    const searches = (await page.posted()).filter((message) => message.command === 'search');
    assert.deepEqual(searches.at(-1), { command: 'search', query: XSS, k: 3 });
    assert.equal(await page.page.inputValue('#query'), XSS);
    await assertNothingInjected(page);
  });

  it('brings the last wins and losses back after a reload without asking for them again, still opening in Search', async () => {
    const page = await openLab();
    await page.page.fill('#top-k', '3');
    await page.page.fill('#query', 'anything');
    await page.page.click('#search');
    await page.send({ command: 'wins', result: retrievalWins() } satisfies ToLab);
    const shown = async () => ({
      wins: await page.page.locator('#wins-list .query').allTextContents(),
      positives: await page.page.locator('#wins-list .positive').allTextContents(),
      losses: await page.page.locator('#losses-list .ranks').allTextContents(),
      summary: await page.text('#wins-summary'),
    });
    const before = await shown();
    assert.deepEqual(before.wins, [XSS, 'who can sing']);
    // The panel hidden and shown again: VS Code reloads the page and hands it the state it kept.
    await page.page.reload();
    await page.waitForPosted('ready');
    assert.deepEqual(await shown(), before);
    assert.deepEqual(
      (await page.posted()).map((message) => message.command),
      ['ready'],
      'the evaluation is not replayed',
    );
    await page.send(SETUP);
    await page.page.click('#losses-list li:first-child .move');
    await page.waitForPosted('search');
    assert.deepEqual((await page.posted()).at(-1), { command: 'search', query: 'where is the sea', k: 3 });
    // A newer result replaces the kept one.
    const classification: LabClassificationWins = {
      task: 'classification',
      examples: 5,
      models: MODELS,
      fixed: [{ text: SCRIPT, pair: null, label: 'bug', first: 'billing', second: 'bug' }],
      broken: [],
      otherChanges: [],
    };
    await page.send({ command: 'wins', result: classification } satisfies ToLab);
    await page.page.reload();
    await page.waitForPosted('ready');
    assert.deepEqual(await page.page.locator('#fixed-list .text').allTextContents(), [SCRIPT]);
    assert.equal(await page.page.locator('#wins-list').count(), 0);
    await assertNothingInjected(page);
  });

  it('checks kept wins and losses as a fresh result after a reload, and shows none that fail', async () => {
    const page = await openLab();
    const bad = retrievalWins() as unknown as { wins: { firstRank: unknown; query: unknown }[] };
    bad.wins[0]!.firstRank = '<b>9</b>';
    const notText = retrievalWins() as unknown as { wins: { query: unknown }[] };
    notText.wins[0]!.query = { toString: null };
    for (const wins of [bad, notText, '<img src=x onerror="window.__pwned=1">', 42]) {
      await page.page.evaluate(
        (kept) => sessionStorage.setItem('vscodeState', JSON.stringify({ query: 'kept query', k: 4, wins: kept })),
        wins as object,
      );
      await page.page.reload();
      await page.waitForPosted('ready');
      assert.equal(await page.text('#wins'), '', JSON.stringify(wins));
      assert.equal(await page.page.inputValue('#query'), 'kept query', 'the rest of the state is kept');
      assert.equal(await page.page.inputValue('#top-k'), '4');
    }
    await assertNothingInjected(page);
  });

  it('lists fixed and broken predictions of a classifier, labels and texts as text', async () => {
    const page = await openLab();
    const result: LabClassificationWins = {
      task: 'classification',
      examples: 55,
      models: MODELS,
      fixed: [{ text: XSS, pair: null, label: 'bug', first: 'billing', second: 'bug' }],
      broken: [{ text: 'cannot log in', pair: SCRIPT, label: XSS, first: XSS, second: 'bug' }],
      otherChanges: [],
    };
    await page.send({ command: 'wins', result } satisfies ToLab);
    assert.deepEqual(await page.page.locator('#fixed-list .labels').allTextContents(), ['billing → bug']);
    assert.deepEqual(await page.page.locator('#fixed-list .text').allTextContents(), [XSS]);
    assert.deepEqual(await page.page.locator('#broken-list .labels').allTextContents(), [`${XSS} → bug`]);
    assert.deepEqual(await page.page.locator('#broken-list .gold').allTextContents(), [`gold: ${XSS}`]);
    assert.deepEqual(await page.page.locator('#broken-list .text').allTextContents(), [`cannot log in ‖ ${SCRIPT}`]);
    assert.equal(await page.text('#other-list .empty'), 'None.');
    assert.match(await page.text('#wins-summary'), /55 validation examples: 1 fixed, 1 broken/);
    await assertNothingInjected(page);
  });

  it('previews mined triplets with their scores, then asks to write them', async () => {
    const page = await openLab();
    await page.page.click('#mine-run');
    await page.waitForPosted('mine');
    const preview: MinedPreview = {
      target: 'data/train.hard-negatives.jsonl',
      rows: 2,
      pairs: 1,
      shown: [
        {
          anchor: XSS,
          positive: 'a bird can sing',
          positiveScore: 0.8123,
          negatives: [
            { text: SCRIPT, score: 0.61 },
            { text: 'the sea', score: null },
          ],
        },
      ],
    };
    await page.send({ command: 'mined', preview } satisfies ToLab);
    assert.equal(await page.text('#mined .mined-pair .anchor .text'), XSS);
    assert.deepEqual(await page.page.locator('#mined .negative .text').allTextContents(), [SCRIPT, 'the sea']);
    assert.deepEqual(await page.page.locator('#mined .negative .score').allTextContents(), ['0.6100', '–']);
    assert.equal(await page.text('#mined .positive .score'), '0.8123');
    assert.match(await page.text('#mined-summary'), /2 triplets for 1 pairs.*data\/train\.hard-negatives\.jsonl/);
    await page.screenshot('lab-mined');
    await page.page.click('#mined-write');
    await page.waitForPosted('writeMined');
    await page.send({ command: 'minedWritten', file: 'data/train.hard-negatives.jsonl' } satisfies ToLab);
    assert.equal(await page.text('#mined'), 'Wrote data/train.hard-negatives.jsonl; data.train now points at it.');
    await assertNothingInjected(page);
  });

  it('shows a bar per long encode with one Cancel, and takes it down when the task ends', async () => {
    const page = await openLab();
    assert.equal(await page.page.isVisible('#lab-progress'), false);
    const search = 'EmbedTune: searching in the Embedding Lab';
    const wins = 'EmbedTune: wins and losses in the Embedding Lab';
    await page.send({
      command: 'progress',
      title: search,
      message: `encoding the corpus with ${XSS}: 500 of 2000 texts`,
      fraction: 0.25,
    } satisfies ToLab);
    await page.send({ command: 'progress', title: wins, message: 'starting…', fraction: null } satisfies ToLab);
    assert.equal(await page.page.isVisible('#lab-progress'), true);
    assert.deepEqual(await page.page.locator('#lab-progress .progress-title').allTextContents(), [
      'searching in the Embedding Lab',
      'wins and losses in the Embedding Lab',
    ]);
    assert.deepEqual(
      await page.page.locator('#lab-progress progress').evaluateAll((bars) => bars.map((bar) => (bar as HTMLProgressElement).position)),
      [0.25, -1],
      'a count gives a determinate bar, no count an indeterminate one',
    );
    assert.equal(await page.text('#lab-progress .progress-message'), `encoding the corpus with ${XSS}: 500 of 2000 texts`);
    await page.page.click('#lab-cancel');
    await page.waitForPosted('cancel');
    await page.send({ command: 'progress', title: search, message: null, fraction: null } satisfies ToLab);
    assert.equal(await page.page.locator('#lab-progress .progress-row').count(), 1);
    await page.send({ command: 'progress', title: wins, message: null, fraction: null } satisfies ToLab);
    assert.equal(await page.page.isVisible('#lab-progress'), false);
    await page.send({ command: 'progress', title: wins, message: 'x', fraction: 7 });
    assert.equal(await page.page.isVisible('#lab-progress'), false, 'a fraction above 1 is refused');
    await assertNothingInjected(page);
  });

  it('ignores malformed tool results', async () => {
    const page = await openLab();
    page.page.on('console', () => undefined);
    const bad = retrievalWins() as unknown as { wins: { firstRank: unknown }[] };
    bad.wins[0]!.firstRank = '<b>9</b>';
    await page.send({ command: 'wins', result: bad });
    await page.send({ command: 'mined', preview: { target: 'x', rows: -1, pairs: 0, shown: [] } });
    assert.equal(await page.page.locator('#wins li, #mined li').count(), 0);
    assert.equal(await page.text('#wins'), '');
  });
});
