import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig, type CleanConfig, type EmbedTuneConfig } from '../../src/shared/config/configTypes';
import { exampleCleaner } from '../../src/trainer/data/cleanExample';
import { DataRowError } from '../../src/trainer/data/dataErrors';
import { loadTrainingData } from '../../src/trainer/data/loadTrainingData';
import type { ExampleByKind, PairExample } from '../../src/trainer/data/trainingExamples';
import { htmlToText } from '../../src/trainer/preprocess/htmlToText';
import { textCleaner } from '../../src/trainer/preprocess/textCleaner';
import { TempWorkspace } from '../helpers/tempWorkspace';

type ConfigOverrides = Omit<Partial<EmbedTuneConfig>, 'data'> & { data: EmbedTuneConfig['data'] };

function config(overrides: ConfigOverrides) {
  return resolveConfig({ model: { base: 'sentence-transformers/all-MiniLM-L6-v2' }, ...overrides });
}

/** `preprocess.clean` with everything off except what `on` turns on, so each test sees one step at a time. */
function cleanWith(on: CleanConfig): (text: string) => string {
  return textCleaner({
    ...config({ data: { train: 'x.jsonl' }, preprocess: { clean: { unicode_normalization: 'none', collapse_whitespace: false, ...on } } })
      .preprocess.clean,
  });
}

function withWorkspace(t: { after: (fn: () => void) => void }): TempWorkspace {
  const workspace = new TempWorkspace();
  t.after(() => workspace.dispose());
  return workspace;
}

const collapse = (text: string) => text.replace(/\s+/g, ' ').trim();

test('strip_html keeps what a reader sees of a real page: no scripts, styles, comments or head, with entities decoded', () => {
  const page = `<!DOCTYPE html>
<html><head><title>Help centre</title><meta charset="utf-8"><style>p { color: red; } /* <b>not text</b> */</style>
<script type="text/javascript">if (a < b && c > d) { document.write("<p>injected</p>"); }</script></head>
<body><!-- tracking pixel --><h1>Reset&nbsp;your password</h1><p>Open <b>Settings</b> &gt; <i>Account</i> &amp; choose &quot;Reset&quot;.</p>
<ul><li>Caf&eacute; &#233;t&#xE9;</li><li>5 &lt; 7 &euro;</li></ul><noscript>Enable JavaScript</noscript><template><p>hidden</p></template></body></html>`;
  assert.equal(collapse(htmlToText(page)), 'Reset your password Open Settings > Account & choose "Reset". Café été 5 < 7 €');
  assert.match(htmlToText(page), /Reset\u00a0your/, '&nbsp; decodes to a no-break space, which collapse_whitespace then folds');
});

test('strip_html separates block elements and line breaks but not inline ones', () => {
  assert.equal(collapse(htmlToText('<p>one</p><p>two</p><div>three<br>four</div><td>a</td><td>b</td>')), 'one two three four a b');
  assert.equal(htmlToText('un<b>believ</b><i>able</i>'), 'unbelievable');
});

test('strip_html reads malformed markup the forgiving way: unclosed and stray tags, bare < and &, unterminated comments', () => {
  assert.equal(htmlToText('<b>unclosed <i>tags'), 'unclosed tags');
  assert.equal(htmlToText('stray </div>close</span>'), 'stray close');
  assert.equal(htmlToText('a < b and c > d'), 'a < b and c > d');
  assert.equal(htmlToText('AT&T & co &unknownentity;'), 'AT&T & co &unknownentity;');
  assert.equal(htmlToText('before <!-- never closed'), 'before ');
  assert.equal(collapse(htmlToText('<p class="x>broken attr</p>after')), '');
  assert.equal(collapse(htmlToText('<SCRIPT>var s = "</p>";</SCRIPT><P>Visible</P>')), 'Visible');
  assert.equal(htmlToText('<script>unterminated script eats the rest'), '');
});

test('text without markup is returned as it is, untouched by the parser', () => {
  const plain = 'no markup here, just   spaces\tand "quotes"';
  assert.equal(htmlToText(plain), plain);
});

test('unicode_normalization NFC composes accents, NFKC also folds compatibility forms, none leaves text alone', () => {
  const decomposed = 'Cafe\u0301 \ufb01le \uff21\uff22\uff23 \u2460 x\u00b2';
  assert.equal(cleanWith({ unicode_normalization: 'NFC' })(decomposed), 'Caf\u00e9 \ufb01le \uff21\uff22\uff23 \u2460 x\u00b2');
  assert.equal(cleanWith({ unicode_normalization: 'NFKC' })(decomposed), 'Caf\u00e9 file ABC 1 x2');
  assert.equal(cleanWith({ unicode_normalization: 'none' })(decomposed), decomposed);
});

test('lowercase lowers every script, and NFKC runs first so folded full-width letters are lowered too', () => {
  assert.equal(cleanWith({ lowercase: true })('ÀÉÎ ΣΟΦΙΑ Straße'), 'àéî σοφια straße');
  assert.equal(cleanWith({ lowercase: true, unicode_normalization: 'NFKC' })('\uff21\uff22\uff23'), 'abc');
});

test('remove_special_characters drops emoji, pictographs, control and invisible characters but keeps letters of any script, digits and punctuation', () => {
  const clean = cleanWith({ remove_special_characters: true });
  assert.equal(clean('Great job 👍🏽! 👨‍👩‍👧 family 1️⃣ ❤️ 🇫🇷'), 'Great job !  family 1  ');
  assert.equal(clean('zero\u200bwidth\u0007bell\ufeffbom'), 'zerowidthbellbom');
  assert.equal(
    clean('Preis: 5 € (≈ $5.40), 50% off — «ok» ¿sí? 東京 مرحبا Ελλάδα'),
    'Preis: 5 € (≈ $5.40), 50% off — «ok» ¿sí? 東京 مرحبا Ελλάδα',
  );
  assert.equal(clean('tab\tnew\nline'), 'tab\tnew\nline');
});

test('collapse_whitespace turns every run of spaces, tabs, newlines and no-break spaces into one space and trims', () => {
  assert.equal(cleanWith({ collapse_whitespace: true })('  one\t\ttwo\n\nthree\u00a0\u2003four \r\n'), 'one two three four');
});

test('all steps together, in order: markup, normalization, lowercase, special characters, whitespace', () => {
  const clean = cleanWith({
    strip_html: true,
    unicode_normalization: 'NFKC',
    lowercase: true,
    remove_special_characters: true,
    collapse_whitespace: true,
  });
  assert.equal(clean('<p>&#xFF28;ELLO 😀</p>\n<script>x()</script><p>Wo&shy;rld&nbsp;!</p>'), 'hello world !');
});

test('cleaning reaches every text column of each task and leaves scores, labels and tags alone', () => {
  const options = config({ data: { train: 'x.jsonl' }, preprocess: { clean: { strip_html: true, lowercase: true } } });
  const { columns } = options.data;
  const triplet = exampleCleaner('triplet', options.preprocess.clean, columns)!({
    anchor: '<b>A</b>',
    positive: ' P  p ',
    negative: 'N&amp;n',
  });
  assert.deepEqual(triplet, { example: { anchor: 'a', positive: 'p p', negative: 'n&n' }, changed: true });
  const scored = exampleCleaner('scored-pair', options.preprocess.clean, columns)!({ anchor: 'Q', positive: 'R', score: 0.5 });
  assert.deepEqual(scored, { example: { anchor: 'q', positive: 'r', score: 0.5 }, changed: true });
  const labelled = exampleCleaner('text-label', options.preprocess.clean, columns)!({ text: '<i>Refund</i> please', label: 'Billing' });
  assert.deepEqual(labelled, { example: { text: 'refund please', label: 'Billing' }, changed: true });
  const unchanged = exampleCleaner('pair', options.preprocess.clean, columns)!({ anchor: 'already clean', positive: 'yes' });
  assert.deepEqual(unchanged, { example: { anchor: 'already clean', positive: 'yes' }, changed: false });
});

test('a token that cleaning empties is dropped together with its tag, so tokens and tags stay aligned', () => {
  const options = config({
    data: { train: 'x.jsonl' },
    task: 'token-classification',
    preprocess: { clean: { remove_special_characters: true, lowercase: true } },
  });
  const cleaned = exampleCleaner('token-tags', options.preprocess.clean, options.data.columns)!({
    tokens: ['Aspirin', '💊', 'for', 'Headache'],
    tags: ['B-DRUG', 'O', 'O', 'B-SYMPTOM'],
  } satisfies ExampleByKind['token-tags']);
  assert.deepEqual(cleaned, { example: { tokens: ['aspirin', 'for', 'headache'], tags: ['B-DRUG', 'O', 'B-SYMPTOM'] }, changed: true });
});

test('no cleaner is built when every cleaning option is off', () => {
  const options = config({
    data: { train: 'x.jsonl' },
    preprocess: { clean: { unicode_normalization: 'none', collapse_whitespace: false } },
  });
  assert.equal(exampleCleaner('pair', options.preprocess.clean, options.data.columns), undefined);
});

test('a row that cleaning empties is a bad row: it stops loading under on_bad_row: error and is counted under skip', async (t) => {
  const workspace = withWorkspace(t);
  workspace.write(
    'train.jsonl',
    [
      { anchor: 'first question', positive: 'first answer' },
      { anchor: '<script>track()</script>', positive: 'an answer' },
      { anchor: 'second question', positive: 'second answer' },
    ]
      .map((row) => JSON.stringify(row))
      .join('\n'),
  );
  const clean = { strip_html: true };
  await assert.rejects(
    loadTrainingData(config({ data: { train: 'train.jsonl', validation_split: 0.34 }, preprocess: { clean } }), workspace.root),
    (error: unknown) => {
      assert.ok(error instanceof DataRowError);
      assert.equal(error.line, 2);
      assert.equal(error.reason, 'empty_after_cleaning');
      assert.match(
        error.message,
        /train\.jsonl:2: column "anchor" \(data\.columns\.anchor\) is empty after preprocess\.clean \(it was "<script>track\(\)<\/script>"\)/,
      );
      return true;
    },
  );
  const data = await loadTrainingData(
    config({ data: { train: 'train.jsonl', validation_split: 0.34, on_bad_row: 'skip' }, preprocess: { clean } }),
    workspace.root,
  );
  assert.equal(data.train.length + data.validation.length, 2);
  assert.deepEqual(data.summary.train.skippedByReason, { empty_after_cleaning: 1 });
  assert.equal(data.summary.preprocess.rows_read, 3);
  assert.equal(data.summary.preprocess.rows_skipped, 1);
  assert.equal(data.summary.preprocess.rows_emptied_by_cleaning, 1);
});

test('dedupe compares rows after cleaning: rows that differ only in markup, case, accents or spacing are one row', async (t) => {
  const workspace = withWorkspace(t);
  const rows = [
    { anchor: 'How do I reset my password?', positive: 'Open Settings.' },
    { anchor: '<p>How do I <b>reset</b> my password?</p>', positive: 'Open   Settings.' },
    { anchor: 'HOW DO I RESET MY PASSWORD?', positive: 'open settings.' },
    { anchor: 'Cafe\u0301 hours', positive: 'Nine to five.' },
    { anchor: 'Caf\u00e9 hours', positive: 'Nine to five.' },
    { anchor: 'How do I reset my password?', positive: 'Ask the help desk.' },
  ];
  workspace.write('train.jsonl', rows.map((row) => JSON.stringify(row)).join('\n'));
  workspace.write('validation.jsonl', JSON.stringify({ anchor: 'v', positive: 'w' }));
  const load = (clean: CleanConfig, dedupe = true) =>
    loadTrainingData(
      config({ data: { train: 'train.jsonl', validation: 'validation.jsonl' }, preprocess: { clean, dedupe } }),
      workspace.root,
    );

  const cleaned = await load({ strip_html: true, lowercase: true });
  assert.deepEqual(
    (cleaned.train as PairExample[]).map((pair) => [pair.anchor, pair.positive]),
    [
      ['how do i reset my password?', 'open settings.'],
      ['café hours', 'nine to five.'],
      ['how do i reset my password?', 'ask the help desk.'],
    ],
  );
  assert.equal(cleaned.summary.preprocess.rows_deduplicated, 3);
  assert.equal(cleaned.summary.preprocess.rows_cleaned, 6);

  // Without lowercasing, only the markup and spacing variant (and the NFC one, by default) collapse.
  const htmlOnly = await load({ strip_html: true });
  assert.equal(htmlOnly.train.length, 4);
  const notDeduplicated = await load({ strip_html: true, lowercase: true }, false);
  assert.equal(notDeduplicated.train.length, 6);
  assert.equal(notDeduplicated.summary.preprocess.rows_deduplicated, 0);
});

test('pairs are deduplicated on (anchor, positive): a different score or label does not make a row distinct', async (t) => {
  const workspace = withWorkspace(t);
  workspace.write('train.csv', 'anchor,positive,score\n<b>a</b>,b,0.1\na,b,0.9\na,c,0.5\nb,a,0.5\n');
  workspace.write('validation.csv', 'anchor,positive,score\nx,y,1\n');
  const data = await loadTrainingData(
    config({
      data: { train: 'train.csv', validation: 'validation.csv' },
      loss: { type: 'cosent' },
      preprocess: { clean: { strip_html: true } },
    }),
    workspace.root,
  );
  assert.deepEqual(data.train, [
    { anchor: 'a', positive: 'b', score: 0.1 },
    { anchor: 'a', positive: 'c', score: 0.5 },
    { anchor: 'b', positive: 'a', score: 0.5 },
  ]);
});
