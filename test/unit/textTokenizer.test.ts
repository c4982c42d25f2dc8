import assert from 'node:assert/strict';
import { TEST_PYTHON } from '../helpers/pythonPeer';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TextTokenizer } from '../../src/trainer/model/textTokenizer';
import { TempWorkspace } from '../helpers/tempWorkspace';
import { buildTinyBert, tinyVocabulary } from '../helpers/tinyBert';

const workspace = new TempWorkspace();
after(() => workspace.dispose());

const tiny = buildTinyBert(workspace.path('tiny'), { vocabWords: [...tinyVocabulary().slice(5), '你', '好', 'é'] });
const tokenizer = TextTokenizer.fromFolder(tiny.folder);
const id = (token: string): number => {
  const found = tiny.vocab.indexOf(token);
  assert.notEqual(found, -1, `"${token}" is in the tiny vocabulary`);
  return found;
};
const ids = (tokens: string): number[] => tokens.split(' ').map(id);

/** A folder holding only the tiny model's vocab.txt (and, when given, a tokenizer_config.json). */
function vocabOnlyFolder(name: string, tokenizerConfig?: object): string {
  const folder = workspace.path(name);
  mkdirSync(folder, { recursive: true });
  copyFileSync(join(tiny.folder, 'vocab.txt'), join(folder, 'vocab.txt'));
  if (tokenizerConfig) writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  return folder;
}

describe('TextTokenizer encodes like a BERT WordPiece tokenizer', () => {
  it('gives the ids worked out by hand for known sentences', () => {
    assert.deepEqual(tokenizer.encode('Hello, World!', 64).ids, ids('[CLS] hello , world ! [SEP]'));
    assert.deepEqual(
      tokenizer.encode('The quick brown fox jumps over the lazy dog.', 64).ids,
      ids('[CLS] the quick brown fox jump ##s over the lazy dog . [SEP]'),
    );
    assert.deepEqual(tokenizer.encode('playing quickly', 64).ids, ids('[CLS] play ##ing quick ##ly [SEP]'));
    assert.deepEqual(tokenizer.encode('', 64).ids, ids('[CLS] [SEP]'));
    assert.deepEqual(tokenizer.encode('hello 😀', 64).ids, ids('[CLS] hello [UNK] [SEP]'));
  });

  it('lowercases and strips accents, splits punctuation and spaces CJK ideographs', () => {
    assert.deepEqual(tokenizer.tokenize('Café NAÏVE', 64), ['[CLS]', 'cafe', 'naive', '[SEP]']);
    assert.deepEqual(tokenizer.tokenize('say:"hello"—你好', 64), ['[CLS]', 'say', ':', '"', 'hello', '"', '[UNK]', '你', '好', '[SEP]']);
    assert.deepEqual(tokenizer.tokenize('\tmany   spaces\n\n', 64), ['[CLS]', 'many', 'space', '##s', '[SEP]']);
  });

  it('treats special tokens written in the text as those tokens', () => {
    assert.deepEqual(tokenizer.encode('hello [SEP] world', 64).ids, ids('[CLS] hello [SEP] world [SEP]'));
  });

  it('follows tokenizer_config.json when it turns lowercasing off, as transformers does', () => {
    const folder = workspace.path('cased');
    mkdirSync(folder, { recursive: true });
    copyFileSync(join(tiny.folder, 'tokenizer.json'), join(folder, 'tokenizer.json'));
    writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false }));
    const cased = TextTokenizer.fromFolder(folder);
    // Without lowercasing, accents stay too (strip_accents follows do_lower_case), so "café" is not "cafe".
    assert.deepEqual(cased.tokenize('Hello hello café', 64), ['[CLS]', '[UNK]', 'hello', '[UNK]', '[SEP]']);
    assert.deepEqual(tokenizer.tokenize('Hello hello café', 64), ['[CLS]', 'hello', 'hello', 'cafe', '[SEP]']);
  });

  it('pads to the longest text in the batch, not to maxLength', () => {
    const batch = tokenizer.encodeBatch(['hello world', 'the', ''], 64);
    assert.equal(batch.batchSize, 3);
    assert.equal(batch.seqLength, 4);
    const pad = tokenizer.padTokenId;
    assert.deepEqual(Array.from(batch.inputIds), [
      ...ids('[CLS] hello world [SEP]'),
      ...ids('[CLS] the [SEP]'),
      pad,
      ...ids('[CLS] [SEP]'),
      pad,
      pad,
    ]);
    assert.deepEqual(Array.from(batch.attentionMask), [1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0]);
    assert.deepEqual(Array.from(batch.tokenTypeIds), new Array(12).fill(0));
  });

  it('truncates at maxLength counting [CLS] and [SEP], keeping [SEP] last', () => {
    const long = 'the quick brown fox '.repeat(30);
    const batch = tokenizer.encodeBatch([long, 'hello'], 8);
    assert.equal(batch.seqLength, 8);
    assert.deepEqual(Array.from(batch.inputIds.subarray(0, 8)), ids('[CLS] the quick brown fox the quick [SEP]'));
    assert.deepEqual(Array.from(batch.attentionMask.subarray(8)), [1, 1, 1, 0, 0, 0, 0, 0]);
    assert.equal(tokenizer.encode(long, 3).ids.length, 3);
  });

  it('encodes an empty batch as empty arrays', () => {
    const batch = tokenizer.encodeBatch([], 16);
    assert.deepEqual([batch.batchSize, batch.seqLength, batch.inputIds.length], [0, 0, 0]);
  });

  it('refuses a maxLength that leaves no room for text', () => {
    assert.throws(() => tokenizer.encodeBatch(['hello'], 2), /maxLength must be an integer above 2/);
  });

  it('reports its vocabulary size, padding id and length limit', () => {
    assert.equal(tokenizer.vocabSize, tiny.vocab.length);
    assert.equal(tokenizer.padTokenId, 0);
    assert.equal(tokenizer.modelMaxLength, 64);
  });

  it('says which folder lacks a tokenizer', () => {
    const empty = workspace.path('no-tokenizer');
    mkdirSync(empty, { recursive: true });
    assert.throws(() => TextTokenizer.fromFolder(empty), /no-tokenizer has neither tokenizer\.json nor vocab\.txt/);
  });

  it('says which pad token is missing from the vocabulary', () => {
    const folder = vocabOnlyFolder('bad-pad', { pad_token: '<pad>' });
    assert.throws(() => TextTokenizer.fromFolder(folder), /names "<pad>" as its padding token, but its vocabulary has no such token/);
  });
});

describe('a folder with only vocab.txt', () => {
  const sentences = [
    'Hello, World!',
    'Café NAÏVE 你好',
    'the quick brown foxes jumped',
    '',
    'x'.repeat(120),
    'hello [SEP] [MASK]',
    '  spaced\tout\n',
  ];

  it('gives the same ids as the tokenizer.json beside it', () => {
    const fromVocab = TextTokenizer.fromFolder(vocabOnlyFolder('vocab-only'));
    for (const text of sentences) assert.deepEqual(fromVocab.encode(text, 32), tokenizer.encode(text, 32), text);
    assert.equal(fromVocab.padTokenId, 0);
    assert.equal(fromVocab.vocabSize, tokenizer.vocabSize);
  });

  it('honours do_lower_case: false from tokenizer_config.json', () => {
    const cased = TextTokenizer.fromFolder(vocabOnlyFolder('vocab-cased', { do_lower_case: false }));
    assert.deepEqual(cased.tokenize('Hello hello', 16), ['[CLS]', '[UNK]', 'hello', '[SEP]']);
  });
});

describe('saving a tokenizer', () => {
  it('writes files that load back to the same tokenizer, with the training length recorded', () => {
    const folder = workspace.path('saved');
    tokenizer.saveTo(folder, { modelMaxLength: 48 });
    for (const file of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.txt'])
      assert.ok(existsSync(join(folder, file)), file);
    assert.deepEqual(readFileSync(join(folder, 'vocab.txt'), 'utf8').split('\n').slice(0, -1), tiny.vocab);
    const config = JSON.parse(readFileSync(join(folder, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config['model_max_length'], 48);
    assert.equal(config['tokenizer_class'], 'BertTokenizer');
    assert.equal(config['do_lower_case'], true);
    assert.deepEqual(JSON.parse(readFileSync(join(folder, 'special_tokens_map.json'), 'utf8')), {
      cls_token: '[CLS]',
      mask_token: '[MASK]',
      pad_token: '[PAD]',
      sep_token: '[SEP]',
      unk_token: '[UNK]',
    });
    const reloaded = TextTokenizer.fromFolder(folder);
    for (const text of ['Hello, World!', 'Café 你好 😀']) assert.deepEqual(reloaded.encode(text, 64), tokenizer.encode(text, 64));
    assert.equal(reloaded.modelMaxLength, 48);
  });

  it('saves a vocab.txt-only tokenizer as a complete tokenizer.json', () => {
    const folder = workspace.path('saved-from-vocab');
    TextTokenizer.fromFolder(vocabOnlyFolder('vocab-for-save', { do_lower_case: true })).saveTo(folder);
    const json = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')) as {
      model: { type: string; vocab: Record<string, number> };
      normalizer: { type: string };
    };
    assert.equal(json.model.type, 'WordPiece');
    assert.equal(json.model.vocab['hello'], id('hello'));
    assert.equal(json.normalizer.type, 'BertNormalizer');
  });
});

const pythonProblem = pythonLacks('import tokenizers');

describe('agreement with the Python tokenizers library', () => {
  const texts = variedTexts();

  it(
    'gives the same ids as Python on ~200 varied texts, from tokenizer.json and from vocab.txt',
    { skip: pythonProblem && `Python check skipped: ${pythonProblem}` },
    () => {
      // A vocabulary holding every character of the texts, so that a normalization difference changes ids instead of hiding in [UNK].
      const characters = new Set<string>();
      for (const text of texts)
        for (const char of text)
          for (const variant of [char, char.toLowerCase(), char.normalize('NFD').replace(/\p{Mn}/gu, '')])
            for (const c of variant.toLowerCase()) characters.add(c);
      const extra = [...characters].filter((c) => c.trim() !== '');
      const rich = buildTinyBert(workspace.path('rich'), {
        vocabWords: [...tinyVocabulary().slice(5), ...extra, ...extra.map((c) => `##${c}`)],
      });
      const maxLength = 40;
      const script = `
import json, sys
from tokenizers import Tokenizer
from tokenizers.implementations import BertWordPieceTokenizer
texts = json.load(sys.stdin)
from_json = Tokenizer.from_file(sys.argv[1] + "/tokenizer.json")
from_json.enable_truncation(int(sys.argv[2]))
from_vocab = BertWordPieceTokenizer(sys.argv[1] + "/vocab.txt", lowercase=True)
from_vocab.enable_truncation(int(sys.argv[2]))
print(json.dumps({"json": [e.ids for e in from_json.encode_batch(texts)], "vocab": [e.ids for e in from_vocab.encode_batch(texts)]}))
`;
      const run = spawnSync(TEST_PYTHON, ['-c', script, rich.folder, String(maxLength)], {
        input: JSON.stringify(texts),
        encoding: 'utf8',
      });
      assert.equal(run.status, 0, run.stderr);
      const python = JSON.parse(run.stdout) as { json: number[][]; vocab: number[][] };

      const ours = TextTokenizer.fromFolder(rich.folder);
      const oursFromVocab = TextTokenizer.fromFolder(vocabOnlyCopy(rich.folder));
      const show = (tokenIds: readonly number[]): string => tokenIds.map((t) => rich.vocab[t]).join(' ');
      texts.forEach((text, i) => {
        const expected = python.json[i]!;
        assert.equal(show(ours.encode(text, maxLength).ids), show(expected), `tokenizer.json, text ${i}: ${JSON.stringify(text)}`);
        assert.equal(
          show(oursFromVocab.encode(text, maxLength).ids),
          show(python.vocab[i]!),
          `vocab.txt, text ${i}: ${JSON.stringify(text)}`,
        );
      });
      const batch = ours.encodeBatch(texts, maxLength);
      assert.equal(batch.seqLength, Math.max(...python.json.map((row) => row.length)));
    },
  );
});

const transformersProblem = pythonLacks('import transformers');

describe('agreement with transformers’ tokenizer(texts, padding=True, truncation=True, max_length=n)', () => {
  it(
    'gives the same input_ids, attention_mask and token_type_ids for tokenizer.json, vocab.txt, cased and re-saved folders',
    {
      skip: transformersProblem && `Python check skipped: ${transformersProblem}`,
    },
    () => {
      const cased = workspace.path('transformers-cased');
      mkdirSync(cased, { recursive: true });
      copyFileSync(join(tiny.folder, 'tokenizer.json'), join(cased, 'tokenizer.json'));
      writeFileSync(join(cased, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: false, tokenizer_class: 'BertTokenizer' }));
      const vocabOnly = vocabOnlyFolder('transformers-vocab', {});
      // AutoTokenizer needs a config.json to know a folder without tokenizer_config.json holds a BERT tokenizer.
      copyFileSync(join(tiny.folder, 'config.json'), join(vocabOnly, 'config.json'));
      const saved = workspace.path('transformers-saved');
      tokenizer.saveTo(saved, { modelMaxLength: 32 });
      const texts = [
        'Hello, World!',
        'Café NAÏVE 你好 ΟΔΟΣ',
        'the quick brown fox '.repeat(20),
        '',
        '𠀀x hello [SEP] there',
        'UPPER lower',
      ];
      const script = `
import json, sys
from transformers import AutoTokenizer
texts = json.load(sys.stdin)
out = {}
for folder in sys.argv[2:]:
    encoded = AutoTokenizer.from_pretrained(folder)(texts, padding=True, truncation=True, max_length=int(sys.argv[1]))
    out[folder] = {key: [x for row in encoded[key] for x in row] for key in ("input_ids", "attention_mask", "token_type_ids")}
print(json.dumps(out))
`;
      const folders = [tiny.folder, vocabOnly, cased, saved];
      const run = spawnSync(TEST_PYTHON, ['-c', script, '16', ...folders], { input: JSON.stringify(texts), encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const python = JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<
        string,
        { input_ids: number[]; attention_mask: number[]; token_type_ids: number[] }
      >;
      for (const folder of folders) {
        const ours = TextTokenizer.fromFolder(folder).encodeBatch(texts, 16);
        const expected = python[folder]!;
        assert.deepEqual(Array.from(ours.inputIds), expected.input_ids, folder);
        assert.deepEqual(Array.from(ours.attentionMask), expected.attention_mask, folder);
        assert.deepEqual(Array.from(ours.tokenTypeIds), expected.token_type_ids, folder);
      }
      assert.notDeepEqual(python[cased]!.input_ids, python[tiny.folder]!.input_ids, 'the cased folder really tokenizes differently');
    },
  );
});

function vocabOnlyCopy(folder: string): string {
  const copy = `${folder}-vocab-only`;
  mkdirSync(copy, { recursive: true });
  copyFileSync(join(folder, 'vocab.txt'), join(copy, 'vocab.txt'));
  return copy;
}

/** Texts that stress normalization and splitting: accents, scripts, CJK inside and outside the BMP, emoji, controls, odd spaces, long runs. */
function variedTexts(): string[] {
  const fixed = [
    '',
    ' ',
    '\t\n\r ',
    'Hello, World!',
    'ΟΔΟΣ ΟΔΟΣ. Σ ΣΑ σς',
    'İstanbul ISTANBUL',
    'Straße STRASSE ẞ',
    'ﬁne ﬂow ﬃ',
    'Ångström résumé Über ñandú ça',
    'e\u0301 a\u0308\u0323b \u0301start',
    'a\u0000b a\u0007b a\u001bb',
    'zero\u200bwidth \ufeffbom soft\u00adhyphen',
    'nbsp\u00a0here em\u2003space ideo\u3000space',
    'nel\u0085line line\u2028sep para\u2029sep',
    '“quoted” — dash… «fr» ¿qué? ¡sí!',
    '∑ ± × ÷ € £ ¥ © ® ™ °',
    '你好世界',
    '日本語のテキストです。',
    '한국어 텍스트',
    '𠀀𠀁 ext-b \u{2B820}x\u{2B920} \u{2F800}',
    '😀 👍🏽 👨‍👩‍👧 🇫🇷',
    '[CLS] literal [SEP] [MASK] [mask] [PAD]',
    'x'.repeat(150),
    'https://example.com/a?b=c&d=e#frag',
    'def f(x): return x**2 # comment',
    '3.14159 1,000,000 -42 1e-5',
    '\ufffdreplacement',
    'Ⅻ ① ½ ² ₃',
    'ǅ ǈ ǲ Ǆ',
    'Ａｂｃ ｆｕｌｌ ｗｉｄｔｈ',
    'ⓐⓑ Ⓐ',
    'Ωmega ω KELVIN \u212a',
    '\u{e000}private \u0378unassigned',
    'ǰ ΐ ŉ',
    'ﾊﾝｶｸ ｶﾀｶﾅ',
    'Ѐ Й й ё Москва',
    'Ελληνικά',
    'עברית العربية',
    'हिन्दी ไทย',
    '\u{1d400}\u{1d401} bold math',
    '_under_score_ `~!@#$%^&*()-_=+[]{}\\|;:\'",.<>/?',
    'mixed 中文 and English 混合',
    'CamelCaseWordsTogether',
    'UPPER lower MiXeD',
    'tabs\tand\nnewlines\r\nwindows',
  ];
  const fragments = [
    'the',
    'quick',
    'Brown',
    'FOX',
    'jumped',
    'unbelievable',
    'models',
    'training',
    'embeddings',
    'search',
    'query',
    'documents',
    'café',
    'naïve',
    '中文',
    '😀',
    'Σ',
    'über',
    ',',
    '.',
    '!',
    '?',
    '—',
    '(',
    ')',
    '"',
    "'",
    'é',
    'ß',
    '東京',
    '123',
    '4.5',
  ];
  let state = 12345;
  const next = (): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
  const generated: string[] = [];
  while (fixed.length + generated.length < 200) {
    const words = 1 + Math.floor(next() * (next() < 0.2 ? 80 : 15));
    const parts: string[] = [];
    for (let i = 0; i < words; i++) parts.push(fragments[Math.floor(next() * fragments.length)]!);
    generated.push(parts.join(next() < 0.3 ? '' : ' '));
  }
  return [...fixed, ...generated];
}

/** Why Python cannot run `code`, or undefined when it can. */
function pythonLacks(code: string): string | undefined {
  const probe = spawnSync(TEST_PYTHON, ['-c', code], { encoding: 'utf8' });
  if (probe.error) return `${TEST_PYTHON} is not available (${probe.error.message})`;
  if (probe.status !== 0) return `${TEST_PYTHON} -c '${code}' failed: ${probe.stderr.trim().split('\n').pop()}`;
  return undefined;
}
