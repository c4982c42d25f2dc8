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
