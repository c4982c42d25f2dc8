import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TextTokenizer } from '../../src/trainer/model/textTokenizer';
import { createRandom } from '../../src/trainer/data/seededRandom';
import { buildTinyBert, tinyVocabulary } from '../helpers/tinyBert';
import { TempWorkspace } from '../helpers/tempWorkspace';

const workspace = new TempWorkspace();
after(() => workspace.dispose());
const folder = buildTinyBert(workspace.path('tiny'), { layers: 1, hidden: 16, heads: 2, intermediate: 32, maxPositions: 4096 }).folder;
const tokenizer = TextTokenizer.fromFolder(folder);
const tokenizerJson = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')) as Record<string, unknown>;
const tokenizerConfig = JSON.parse(readFileSync(join(folder, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;

/** Words of the vocabulary, words it lacks, punctuation, accents, CJK and runs of spaces and newlines. */
function mixedText(words: number, seed: number): string {
  const random = createRandom(seed);
  const vocabulary = tinyVocabulary().filter((word) => !word.startsWith('['));
  const extras = ['unheardofword', 'Ünïcödé', '中文', 'x'.repeat(150), '!', '...', 'e.g.', '  ', '\n\n', '\t'];
  const parts: string[] = [];
  for (let i = 0; i < words; i++) {
    const pool = random() < 0.8 ? vocabulary : extras;
    parts.push(pool[Math.floor(random() * pool.length)]!);
  }
  return parts.join(' ');
}

describe('truncation before tokenization', () => {
  it('keeps exactly the tokens that tokenizing the whole text and truncating would keep', () => {
    for (const seed of [1, 2, 3]) {
      const text = mixedText(3000, seed);
      const all = tokenizer.tokenize(text, 1_000_000);
      for (const maxLength of [3, 8, 32, 128, 512, 2048]) {
        const expected = [all[0]!, ...all.slice(1, -1).slice(0, maxLength - 2), all.at(-1)!];
        assert.deepEqual(tokenizer.tokenize(text, maxLength), expected, `seed ${seed}, maxLength ${maxLength}`);
      }
    }
  });

  it('tokenizes only the start of a 20 MB row when 32 tokens are kept', () => {
    const row = mixedText(3_000_000, 7).slice(0, 20 * 2 ** 20);
    const started = performance.now();
    const tokens = tokenizer.tokenize(row, 32);
    const elapsed = performance.now() - started;
    assert.equal(tokens.length, 32);
    assert.deepEqual(tokens, tokenizer.tokenize(row.slice(0, 4000), 32));
    // Tokenizing the whole row took 21 s and 2.36 GB; the start of it takes milliseconds.
    assert.ok(elapsed < 3000, `took ${elapsed.toFixed(0)} ms`);
  });
});

describe('a tokenizer.json pattern that backtracks catastrophically', () => {
  const withSplit = (pattern: string) =>
    TextTokenizer.fromJson(
      { ...tokenizerJson, pre_tokenizer: { type: 'Split', pattern: { Regex: pattern }, behavior: 'Removed', invert: false } },
      tokenizerConfig,
      'hub-model',
    );

  it('stops tokenizing within the time limit and names the pattern', () => {
    const evil = withSplit('(a+)+$');
    const started = performance.now();
    assert.throws(
      () => evil.tokenize(`${'a'.repeat(40)}!`, 32),
      /The tokenizer in hub-model took over 1000 ms .*"\(a\+\)\+\$"; one of them backtracks catastrophically/s,
    );
    assert.ok(performance.now() - started < 5000);
  });

  it('leaves a sound Split pattern working', () => {
    const sound = withSplit('\\s+');
    assert.deepEqual(sound.tokenize('the cat', 16).slice(1, -1), tokenizer.tokenize('the cat', 16).slice(1, -1));
  });
});

/** `tokenize(text, maxLength)` against tokenizing all of it and truncating, as `truncation=True` does. */
function assertSameAsWholeText(subject: TextTokenizer, text: string, maxLengths: readonly number[], what: string): void {
  const all = subject.tokenize(text, 10_000_000);
  assert.equal(all.length < 10_000_000, true);
  for (const maxLength of maxLengths) {
    const expected = [all[0]!, ...all.slice(1, -1).slice(0, maxLength - 2), all.at(-1)!];
    assert.deepEqual(subject.tokenize(text, maxLength), expected, `${what}, maxLength ${maxLength}`);
  }
}

const CJK = '中文字词语句段落篇章书本读写听说学习工作生活时间空间';
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function randomText(alphabet: string, length: number, seed: number): string {
  const random = createRandom(seed);
  const characters = [...alphabet];
  let text = '';
  for (let i = 0; i < length; i++) text += characters[Math.floor(random() * characters.length)]!;
  return text;
}

/** A URL of many path segments and query parameters, with no whitespace anywhere. */
function longUrl(segments: number, seed: number): string {
  const random = createRandom(seed);
  const words = tinyVocabulary().filter((word) => /^[a-z]+$/.test(word));
  const word = () => words[Math.floor(random() * words.length)]!;
  const path = Array.from({ length: segments }, (_, i) => (i % 7 === 0 ? `${word()}-${word()}_${i}` : word())).join('/');
  return `https://example.com/${path}?q=${word()}&page=${segments}&token=${randomText(BASE64, 300, seed)}==`;
}

describe('truncation before tokenization, on text without whitespace', () => {
  const lengths = [3, 8, 31, 32, 33, 128, 512, 2048];

  it('keeps the tokens of CJK text that tokenizing all of it keeps', () => {
    for (const seed of [1, 2]) assertSameAsWholeText(tokenizer, randomText(CJK, 40_000, seed), lengths, `CJK seed ${seed}`);
  });

  it('keeps the tokens of a base64 blob that tokenizing all of it keeps, its words over 100 characters [UNK] either way', () => {
    for (const seed of [1, 2, 3]) {
      const blob = randomText(BASE64, 200_000, seed);
      assert.ok(
        blob.split(/[+/]/).some((word) => word.length > 100),
        'some word is longer than WordPiece takes',
      );
      assertSameAsWholeText(tokenizer, blob, lengths, `base64 seed ${seed}`);
    }
    // One word of 200,000 letters: the library's max_input_chars_per_word makes it one [UNK], cut or not.
    assertSameAsWholeText(tokenizer, 'a'.repeat(200_000), [3, 32], 'one long word');
  });

  it('drops the tokens of a word the cut split, which as a whole is one [UNK] and cut short is letters', () => {
    // Words of 120 letters: one [UNK] each (WordPiece takes 100 characters at most); a prefix that ends 14 letters
    // into one would give 14 letter tokens where the whole text has that [UNK].
    const random = createRandom(5);
    const words = Array.from({ length: 2000 }, () => randomText(BASE64.slice(0, 62), 120, Math.floor(random() * 1e9)));
    assertSameAsWholeText(tokenizer, words.join('/'), [3, 8, 32, 33, 64, 128], 'words of 120 letters');
  });

  it('keeps the tokens of a long URL that tokenizing all of it keeps', () => {
    for (const seed of [1, 2]) assertSameAsWholeText(tokenizer, longUrl(20_000, seed), lengths, `URL seed ${seed}`);
  });

  it('does not cut inside an added token such as [MASK] when it is among the tokens kept', () => {
    // One [UNK] word of 225 letters and 28 CJK characters are 29 tokens in 253 characters: [MASK] spans character
    // 256, where the first cut falls, and is the 30th token, the last that max_length 32 keeps.
    const text = `${'x'.repeat(225)}${randomText(CJK, 28, 3)}[MASK]${randomText(CJK, 3000, 4)}`;
    assert.deepEqual(tokenizer.tokenize(text, 32).slice(-2), ['[MASK]', '[SEP]']);
    assertSameAsWholeText(tokenizer, text, [31, 32, 33], '[MASK] across the cut');
  });

  it('keeps the tokens of text with [MASK], emoji, astral CJK and combining marks wherever the cut falls', () => {
    for (let offset = 240; offset < 262; offset++) {
      const start = randomText(CJK, offset, offset);
      assertSameAsWholeText(tokenizer, `${start}[MASK]${randomText(CJK, 5000, 1)}`, [3, 32, 33], `[MASK] at ${offset}`);
      assertSameAsWholeText(tokenizer, `${start}😀e\u0301\u0301${'𠀀'.repeat(3000)}`, [3, 32, 33], `emoji and marks at ${offset}`);
    }
  });

  it('tokenizes a 20 MB row without whitespace under a Regex pre-tokenizer in milliseconds, without the time limit', () => {
    const splitting = TextTokenizer.fromJson(
      { ...tokenizerJson, pre_tokenizer: { type: 'Split', pattern: { Regex: '\\s+' }, behavior: 'Removed', invert: false } },
      tokenizerConfig,
      'hub-model',
    );
    const row = randomText(CJK, 20 * 2 ** 20, 9);
    const started = performance.now();
    const tokens = splitting.tokenize(row, 128);
    assert.ok(performance.now() - started < 3000, `took ${(performance.now() - started).toFixed(0)} ms`);
    assert.equal(tokens.length, 128);
    assertSameAsWholeText(splitting, row.slice(0, 50_000), [128], 'the start of the same row');
    assert.deepEqual(tokens, splitting.tokenize(row.slice(0, 50_000), 128));
  });
});
