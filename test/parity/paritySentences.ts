/**
 * About 1,000 varied sentences for the tokenizer and forward parity tests, the same on every machine: real text from
 * the example datasets in examples/ (questions, passages, support tickets, captions, clinical notes), hand-written
 * texts that stress normalization (accents, other scripts, CJK inside and outside the BMP, emoji, control and odd
 * space characters, special-token look-alikes, empty and blank strings), and seeded variations of the real text
 * (casing, inserted emoji and CJK, accents, long texts that must be truncated at max_seq_length).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { createRandom } from '../../src/trainer/data/seededRandom';

const ROOT = join(__dirname, '..', '..');

function jsonLines(path: string): Record<string, unknown>[] {
  return readFileSync(join(ROOT, path), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function delimited(path: string, delimiter: string): Record<string, string>[] {
  return parse(readFileSync(join(ROOT, path), 'utf8'), { columns: true, delimiter, skip_empty_lines: true }) as Record<string, string>[];
}

/** Every distinct text of the example datasets, in file order. */
export function exampleTexts(): string[] {
  const texts = [
    ...jsonLines('examples/retrieval/data/train.jsonl').flatMap((row) => [row['query'], row['passage']]),
    ...jsonLines('examples/retrieval/data/validation.jsonl').flatMap((row) => [row['query'], row['passage']]),
    ...delimited('examples/classification/data/tickets.tsv', '\t').map((row) => row['text']),
    ...delimited('examples/similarity/data/pairs.csv', ',').flatMap((row) => [row['sentence1'], row['sentence2']]),
    ...[...jsonLines('examples/ner/data/train.jsonl'), ...jsonLines('examples/ner/data/validation.jsonl')].map((row) =>
      (row['tokens'] as string[]).join(' '),
    ),
  ];
  return [...new Set(texts.filter((text): text is string => typeof text === 'string'))];
}

const HAND_WRITTEN = [
  '',
  ' ',
  '\t\n\r ',
  'a',
  '?',
  '😀',
  'Hello, World!',
  "Don't panic: it's only a test, isn't it?",
  'Wait... what?! (Really.) [Yes] {no} <maybe>',
  'Café au lait, naïve résumé, façade and jalapeño.',
  'Ångström, Øresund, straße, Æsir, œuvre, ẞ.',
  'e\u0301 a\u0308\u0323b \u0301start (combining marks)',
  'ﬁne ﬂow ﬃ ligatures',
  'İstanbul ISTANBUL ı',
  'ΟΔΟΣ ΟΔΟΣ. Σ ΣΑ σς, Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.',
  'Москва — столица России. Ёлка, йод.',
  'القاهرة هي عاصمة مصر',
  'עברית היא שפה שמית',
  'हिन्दी भारत की एक भाषा है',
  'ภาษาไทยไม่มีช่องว่างระหว่างคำ',
  '東京は日本の首都です。',
  '北京是中国的首都。你好世界',
  '서울은 한국의 수도입니다.',
  'ﾊﾝｶｸ ｶﾀｶﾅ and Ｆｕｌｌ ｗｉｄｔｈ',
  'mixed 中文 and English 混合 text',
  '𠀀𠀁 ext-b \u{2B820}x\u{2B920} \u{2F800} (CJK outside the BMP)',
  'I love pizza 🍕 and tacos 🌮!',
  '👍🏽 👨‍👩‍👧 🇫🇷 ❤️ 🏳️‍🌈',
  '\u{1d400}\u{1d401} bold math, Ⅻ ① ½ ² ₃, ⓐⓑ Ⓐ, Ωmega KELVIN \u212a',
  'ǅ ǈ ǲ Ǆ ǰ ΐ ŉ',
  'a\u0000b a\u0007b a\u001bb (control characters)',
  'zero\u200bwidth \ufeffbom soft\u00adhyphen',
  'nbsp\u00a0here em\u2003space ideo\u3000space',
  'nel\u0085line line\u2028sep para\u2029sep',
  '\ufffdreplacement \u{e000}private \u0378unassigned',
  '“quoted” — dash… «fr» ¿qué? ¡sí!',
  '∑ ± × ÷ € £ ¥ © ® ™ °',
  '[CLS] literal [SEP] [MASK] [mask] [PAD] [UNK]',
  'Email me at someone@example.com or visit https://example.com/path?q=1&r=2#frag.',
  'def square(x): return x ** 2  # Python',
  'const f = (a, b) => a + b; // JavaScript',
  'SELECT name, COUNT(*) FROM users GROUP BY name;',
  '_under_score_ `~!@#$%^&*()-_=+[]{}\\|;:\'",.<>/?',
  '3.14159 1,000,000 -42 1e-5 0x1F 2026-10-01T09:30:00Z',
  'supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis',
  'x'.repeat(150),
  'CamelCaseWordsTogether and snake_case_words',
  '   leading and trailing spaces   ',
  'tabs\tbetween\twords and\nnew\r\nlines',
];

const INSERTS = ['😀', '🚀', '👍🏽', '中文', '東京', '서울', 'é', 'ü', 'ñ', 'Σ', '…', '—', '€', '𠀀', '\u00a0', 'ß', 'ﬁ', '\u0301'];
const ACCENTED: Record<string, string> = { a: 'á', e: 'é', i: 'ï', o: 'ô', u: 'ü', n: 'ñ', c: 'ç' };

/** Seeded variations of real text: casing, inserted characters from other scripts, accents, and long texts. */
function variations(real: readonly string[], count: number, seed: number): string[] {
  const random = createRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const base = pick(real);
    switch (i % 6) {
      case 0:
        out.push(base.toUpperCase());
        break;
      case 1:
        out.push([...base].map((char) => (random() < 0.5 ? char.toUpperCase() : char.toLowerCase())).join(''));
        break;
      case 2: {
        const words = base.split(' ');
        const at = Math.floor(random() * (words.length + 1));
        words.splice(at, 0, pick(INSERTS) + pick(INSERTS));
        out.push(words.join(random() < 0.2 ? '' : ' '));
        break;
      }
      case 3:
        out.push([...base].map((char) => (random() < 0.3 ? (ACCENTED[char] ?? char) : char)).join(''));
        break;
      case 4:
        // Long enough to pass 256 word pieces, so that truncation at max_seq_length matters.
        out.push(Array.from({ length: 30 }, () => pick(real)).join(' '));
        break;
      default:
        out.push(`${pick(real)} ${pick(INSERTS)} ${pick(real)}`);
    }
  }
  return out;
}

/** `count` sentences (at most the sources allow): hand-written first, then real text, then seeded variations. */
export function paritySentences(count = 1000, seed = 2024): string[] {
  const real = exampleTexts();
  const variationCount = Math.max(0, Math.round(count * 0.2));
  const realCount = Math.max(0, count - HAND_WRITTEN.length - variationCount);
  return [...HAND_WRITTEN, ...real.slice(0, realCount), ...variations(real, variationCount, seed)].slice(0, count);
}
