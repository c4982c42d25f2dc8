import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { resolveConfig, type EmbedTuneConfig } from '../../src/shared/config/configTypes';
import { validateConfigText } from '../../src/shared/config/validateConfig';
import { DataFileError } from '../../src/trainer/data/dataErrors';
import { SpellingCorrector } from '../../src/trainer/preprocess/spellingCorrector';
import { readEnglishDictionary } from '../../src/trainer/preprocess/spellingDictionary';
import { withSpellingCorrection } from '../../src/trainer/preprocess/spellingExampleCleaner';
import { spellingCorrectorFor, spellingVocabulary } from '../../src/trainer/preprocess/spellingSetup';
import type { MarkupContent } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { embedtuneSchemaNavigator } from '../../src/shared/config/embedtuneSchema';
import { HoverService } from '../../src/server/service/hoverService';
import { withCursor } from '../helpers/markedText';
import { TempWorkspace } from '../helpers/tempWorkspace';

/** Real misspellings paired with their corrections (test/fixtures/spelling/commonMisspellings.tsv). */
const PAIRS = readFileSync(resolve(__dirname, '../fixtures/spelling/commonMisspellings.tsv'), 'utf8')
  .split('\n')
  .filter((line) => line !== '' && !line.startsWith('#'))
  .map((line) => line.split('\t') as [string, string]);

const DICTIONARY = readEnglishDictionary();
const corrector = (vocabulary: Iterable<string> = []) => new SpellingCorrector(DICTIONARY, { vocabulary: new Set(vocabulary) });

/**
 * A wrong correction silently changes what the model learns, while a missed one only leaves the text as written, so
 * precision is what must be high: at 0.95 at most one correction in twenty may be wrong (measured: 72 of 73, 0.986).
 * Recall has a floor too, so that a corrector that changes nothing cannot pass (measured: 72 of 103, 0.70; the rest
 * have two or more dictionary words one edit away, like recieve -> receive/relieve, and are left alone on purpose).
 */
const MIN_PRECISION = 0.95;
const MIN_RECALL = 0.6;

describe('spelling correction on real misspellings', () => {
  it(`corrects with precision >= ${MIN_PRECISION} and recall >= ${MIN_RECALL}, each word inside a sentence`, () => {
    assert.ok(PAIRS.length >= 100, `${PAIRS.length} pairs`);
    const spelling = corrector();
    let made = 0;
    let right = 0;
    const wrong: string[] = [];
    for (const [misspelled, correction] of PAIRS) {
      const corrected = spelling.correct(`We wrote ${misspelled} in the report.`);
      if (corrected === `We wrote ${misspelled} in the report.`) continue;
      made++;
      if (corrected === `We wrote ${correction} in the report.`) right++;
      else wrong.push(`${misspelled} -> ${corrected}`);
    }
    const precision = right / made;
    const recall = right / PAIRS.length;
    console.log(
      `spelling: ${made} corrections made, ${right} right; precision ${precision.toFixed(3)}, recall ${recall.toFixed(3)}; wrong: ${wrong.join('; ')}`,
    );
    assert.ok(precision >= MIN_PRECISION, `precision ${precision} (${right}/${made}); wrong: ${wrong.join('; ')}`);
    assert.ok(recall >= MIN_RECALL, `recall ${recall} (${right}/${PAIRS.length})`);
    assert.equal(spelling.counts.words_corrected, made);
    assert.equal(spelling.corrections.size, made);
  });

  it('leaves a word with several dictionary words one edit away, and counts it', () => {
    const spelling = corrector();
    // receive and relieve are both one edit from recieve.
    assert.equal(spelling.correct('I recieve mail'), 'I recieve mail');
    assert.equal(spelling.counts.words_left_ambiguous, 1);
    assert.equal(spelling.counts.words_corrected, 0);
  });

  it('keeps the capital of a Capitalized word and never touches acronyms, mixed case, identifiers or short words', () => {
    const spelling = corrector();
    assert.equal(spelling.correct('Seperate rooms.'), 'Separate rooms.');
    const untouched = 'SEPERATE seperateHandler seperate_rooms seperate.txt v2seperate user@seperate ot';
    assert.equal(spelling.correct(untouched), untouched);
  });
});

describe('spelling correction never touches domain terms', () => {
  const texts = ['kubectl apply the seperate manifest', 'kubectl get pods', 'seperate the seperate namespaces', 'enviroment once'];

  it('keeps words that occur min_frequency times or more in the training data, and corrects rarer ones', () => {
    const vocabulary = spellingVocabulary(texts, { min_frequency: 3, protect: [] }, '/');
    assert.ok(vocabulary.has('seperate'), 'three times is vocabulary');
    assert.ok(!vocabulary.has('enviroment'), 'once is not');
    const spelling = new SpellingCorrector(DICTIONARY, { vocabulary });
    assert.equal(spelling.correct('Seperate the enviroment'), 'Seperate the environment');
    assert.equal(spelling.counts.words_kept_as_vocabulary, 1);
    // With a higher bar the same word is no longer vocabulary, and is corrected.
    const stricter = new SpellingCorrector(DICTIONARY, { vocabulary: spellingVocabulary(texts, { min_frequency: 4, protect: [] }, '/') });
    assert.equal(stricter.correct('seperate'), 'separate');
  });

  it('keeps the words of the protect list and of the protect file, whatever their case', () => {
    const workspace = new TempWorkspace();
    try {
      workspace.write('words.txt', '# product names\nAcheive\n\nfreind\n');
      const vocabulary = spellingVocabulary([], { min_frequency: 3, protect: ['Goverment'], protect_file: 'words.txt' }, workspace.root);
      const spelling = new SpellingCorrector(DICTIONARY, { vocabulary });
      assert.equal(spelling.correct('goverment acheive Freind seperate'), 'goverment acheive Freind separate');
      assert.equal(spelling.counts.words_kept_as_vocabulary, 3);
    } finally {
      workspace.dispose();
    }
  });

  it('stops with the key named when the protect file does not exist', () => {
    assert.throws(
      () => spellingCorrectorFor([], { min_frequency: 3, protect: [], protect_file: 'absent.txt' }, '/nowhere'),
      (error: unknown) =>
        error instanceof DataFileError &&
        error.key === 'preprocess.clean.spelling.protect_file' &&
        /\/nowhere\/absent\.txt: .*"absent\.txt" does not exist/.test(error.message),
    );
  });

  it('corrects only the free texts of an example, never its label', () => {
    const clean = withSpellingCorrection<'text-label'>(undefined, corrector());
    assert.deepEqual(clean({ text: 'a seperate room', label: 'seperate' }), {
      example: { text: 'a separate room', label: 'seperate' },
      changed: true,
    });
    assert.deepEqual(clean({ text: 'a room', label: 'x' }), { example: { text: 'a room', label: 'x' }, changed: false });
  });
});

describe('preprocess.clean.spelling in the config', () => {
  it('is off by default, with min_frequency 3 and an empty protect list from the schema', () => {
    const resolved = resolveConfig({ model: { base: 'm' }, data: { train: 't.jsonl' } } as EmbedTuneConfig);
    assert.deepEqual(resolved.preprocess.clean.spelling, { enabled: false, min_frequency: 3, protect: [] });
  });

  it('documents each key on hover, with its default', () => {
    const hoverAt = (marked: string) => {
      const { text, offset } = withCursor(marked);
      const result = new HoverService(embedtuneSchemaNavigator).hover(
        TextDocument.create('file:///x.embedtune.yaml', 'embedtune', 1, text),
        offset,
      );
      return result ? (result.contents as MarkupContent).value : '';
    };
    const prefix = 'preprocess:\n  clean:\n    spelling:\n      ';
    assert.match(
      hoverAt(`${prefix}min_freq|uency: 3\n`),
      /\*\*preprocess\.clean\.spelling\.min_frequency\*\*[\s\S]*vocabulary[\s\S]*Default: `3`/,
    );
    assert.match(hoverAt(`${prefix}ena|bled: true\n`), /Default: `false`/);
    assert.match(hoverAt(`${prefix}protect_fi|le: words.txt\n`), /one per line/);
    assert.match(hoverAt('preprocess:\n  clean:\n    spel|ling: {}\n'), /exactly one dictionary word lies one edit away/);
  });

  it('reports a protect file that does not exist, on its value, and nothing when it exists', () => {
    const workspace = new TempWorkspace();
    try {
      const text =
        'model:\n  base: m\ndata:\n  train: t.jsonl\npreprocess:\n  clean:\n    spelling:\n      enabled: true\n      protect_file: words.txt\n';
      const configPath = workspace.write('run.embedtune.yaml', text);
      const missing = validateConfigText(text, { configPath }).diagnostics.filter((d) => d.code === 'spelling-protect-file-missing');
      assert.equal(missing.length, 1);
      assert.equal(missing[0]!.severity, 'error');
      assert.equal(text.slice(missing[0]!.range.start, missing[0]!.range.end), 'words.txt', 'the range is the value');
      assert.match(missing[0]!.message, /protect_file: no file at "words\.txt"/);
      workspace.write('words.txt', 'kubectl\n');
      assert.equal(
        validateConfigText(text, { configPath }).diagnostics.filter((d) => d.code === 'spelling-protect-file-missing').length,
        0,
      );
    } finally {
      workspace.dispose();
    }
  });
});
