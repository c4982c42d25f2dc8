import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder next to dist/cli.js that scripts/build.mjs copies dictionary-en's files into; the .vsix ships no node_modules. */
export const BUNDLED_DICTIONARY_FOLDER = 'spelling';

/** The en_US Hunspell dictionary: its affix rules and its word list. */
export interface HunspellDictionary {
  readonly aff: Buffer;
  readonly dic: Buffer;
}

/**
 * Reads the English dictionary: first the copy beside the bundled CLI (the installed extension), then the
 * `dictionary-en` package in a node_modules above this file (a checkout). The package is ESM-only and reads its files
 * with top-level await, which a CommonJS bundle cannot do, so its two files are read here by path instead.
 */
export function readEnglishDictionary(): HunspellDictionary {
  const folder = dictionaryFolder();
  if (!folder) {
    throw new Error(
      `preprocess.clean.spelling needs the English dictionary (index.aff, index.dic), but it is neither in ` +
        `${join(__dirname, BUNDLED_DICTIONARY_FOLDER)} nor in a node_modules/dictionary-en package; rebuild the ` +
        `extension (npm ci && npm run build), or turn spelling off.`,
    );
  }
  return { aff: readFileSync(join(folder, 'index.aff')), dic: readFileSync(join(folder, 'index.dic')) };
}

function dictionaryFolder(): string | undefined {
  const bundled = join(__dirname, BUNDLED_DICTIONARY_FOLDER);
  if (hasDictionary(bundled)) return bundled;
  // The package's `exports` hides its data files from require.resolve, so look for the folder itself.
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', 'dictionary-en');
    if (hasDictionary(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

function hasDictionary(dir: string): boolean {
  return existsSync(join(dir, 'index.aff')) && existsSync(join(dir, 'index.dic'));
}
