import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { valueRangeOf } from '../parsedConfig';
import type { ConfigCheck } from './checkContext';

const PROTECT_FILE = ['preprocess', 'clean', 'spelling', 'protect_file'];

/**
 * `preprocess.clean.spelling.protect_file` must name a file (relative to the config), as the trainer stops on one it
 * cannot read. As with the model check, a path outside `mayRead` (an untrusted workspace) is not looked at at all.
 */
export function makeSpellingProtectFileCheck(
  configDir: string | undefined,
  mayRead: (absolutePath: string) => boolean = () => true,
): ConfigCheck {
  return ({ parsed, view }) => {
    const written = view.raw(PROTECT_FILE);
    if (typeof written !== 'string' || written === '' || !configDir) return [];
    const file = isAbsolute(written) ? written : resolve(configDir, written);
    if (!mayRead(file) || (existsSync(file) && statSync(file).isFile())) return [];
    return [
      {
        range: valueRangeOf(parsed, PROTECT_FILE),
        severity: 'error',
        code: 'spelling-protect-file-missing',
        message: `preprocess.clean.spelling.protect_file: no file at "${written}" (resolved to ${file}). Give a text file of words never to correct, one per line, or remove the key.`,
        data: { path: PROTECT_FILE },
      },
    ];
  };
}
