/**
 * What preprocessing costs: the time and memory to open WordNet for synonym replacement (in a fresh process, so
 * the memory is WordNet's alone), and the throughput of cleaning and of each augmentation operation on the
 * bundled examples' texts. Run with `node --import tsx bench/preprocessCost.ts [--no-save]`; it writes
 * bench/results/preprocess.json.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { resolveConfig } from '../src/shared/config/configTypes';
import { augmentExamples } from '../src/trainer/data/augmentExamples';
import type { TextLabelExample } from '../src/trainer/data/trainingExamples';
import { SynonymFinder } from '../src/trainer/preprocess/synonymFinder';
import { textCleaner } from '../src/trainer/preprocess/textCleaner';
import { WordNetDatabase } from '../src/trainer/preprocess/wordnet/wordNetDatabase';
import { locateWordNet } from '../src/trainer/preprocess/wordnet/wordNetLocation';

const ROOT = resolve(__dirname, '..');
const MB = 1024 * 1024;

/** Runs in the child: opens WordNet once and prints the time and the memory it added. */
function measureOpen(): void {
  global.gc?.();
  const before = process.memoryUsage();
  const started = performance.now();
  const wordnet = new WordNetDatabase(locateWordNet());
  const openMs = performance.now() - started;
  global.gc?.();
  const after = process.memoryUsage();
  wordnet.close();
  const delta = (key: 'rss' | 'heapUsed' | 'external') => Math.round(((after[key] - before[key]) / MB) * 10) / 10;
  process.stdout.write(
    JSON.stringify({
      open_ms: Math.round(openMs * 10) / 10,
      rss_mb: delta('rss'),
      heap_mb: delta('heapUsed'),
      external_mb: delta('external'),
    }),
  );
}

function texts(): string[] {
  const read = (path: string) =>
    readFileSync(join(ROOT, path), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, string>);
  return [
    ...read('examples/retrieval/data/train.jsonl').flatMap((row) => [row['query']!, row['passage']!]),
    ...read('examples/retrieval/data/validation.jsonl').flatMap((row) => [row['query']!, row['passage']!]),
  ];
}

function rowsPerSecond(rows: number, run: () => void): number {
  run();
  const started = performance.now();
  const repeats = 5;
  for (let i = 0; i < repeats; i++) run();
  return Math.round((rows * repeats) / ((performance.now() - started) / 1000));
}

function main(): void {
  if (process.argv.includes('--measure-open')) return measureOpen();
  const opens = [0, 1, 2].map(() => {
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, '--measure-open'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (child.status !== 0) throw new Error(child.stderr);
    return JSON.parse(child.stdout) as { open_ms: number; rss_mb: number; heap_mb: number; external_mb: number };
  });
  const median = <T>(values: T[], key: (value: T) => number) => values.map(key).sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

  const all = texts();
  const html = all.map((text, i) => `<div class="q${i}"><p>${text.replace(/&/g, '&amp;')}</p><script>track(${i})</script></div>`);
  const config = resolveConfig({ model: { base: 'x' }, data: { train: 'x.jsonl' } });
  const clean = textCleaner({
    ...config.preprocess.clean,
    strip_html: true,
    lowercase: true,
    unicode_normalization: 'NFKC',
    remove_special_characters: true,
  });
  const rows: TextLabelExample[] = all.map((text, i) => ({ text, label: String(i % 4) }));
  const wordnet = new WordNetDatabase(locateWordNet());
  const operation = (name: 'synonym_replacement' | 'random_swap' | 'random_deletion') => {
    const options = { ...config.preprocess.augment, [name]: { count: 1, probability: 0.1 } };
    // A fresh finder each time, so that its cache does not hide the cost of the WordNet lookups.
    return rowsPerSecond(rows.length, () =>
      augmentExamples('text-label', rows, options, { dedupe: true, synonyms: new SynonymFinder(wordnet) }),
    );
  };
  const results = {
    node: process.version,
    texts: all.length,
    wordnet_open: { runs: opens, median_ms: median(opens, (o) => o.open_ms), median_rss_mb: median(opens, (o) => o.rss_mb) },
    rows_per_second: {
      clean_plain_text: rowsPerSecond(all.length, () => all.forEach(clean)),
      clean_html: rowsPerSecond(html.length, () => html.forEach(clean)),
      synonym_replacement: operation('synonym_replacement'),
      random_swap: operation('random_swap'),
      random_deletion: operation('random_deletion'),
    },
  };
  wordnet.close();
  console.log(JSON.stringify(results, null, 2));
  if (!process.argv.includes('--no-save'))
    writeFileSync(join(ROOT, 'bench', 'results', 'preprocess.json'), `${JSON.stringify(results, null, 2)}\n`);
}

main();
