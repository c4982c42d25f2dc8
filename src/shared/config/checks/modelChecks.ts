import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { valueRangeOf } from '../parsedConfig';
import type { ConfigCheck } from './checkContext';

/** A base that reads as a path (not a hub id like `org/name`) must be a folder holding a Hugging Face config.json. */
export function makeModelCheck(configDir: string | undefined): ConfigCheck {
  return ({ parsed, view }) => {
    const base = view.raw(['model', 'base']);
    if (typeof base !== 'string' || !configDir || !looksLikeLocalPath(base, configDir)) return [];
    // As the trainer's model locator does: ~/ is the home folder, anything else relative is relative to the config.
    const folder = base.startsWith('~/') ? join(homedir(), base.slice(2)) : isAbsolute(base) ? base : resolve(configDir, base);
    const range = valueRangeOf(parsed, ['model', 'base']);
    if (!existsSync(folder) || !statSync(folder).isDirectory()) {
      return [
        {
          range,
          severity: 'error',
          code: 'model-not-found',
          message: `model.base: no folder at "${base}" (resolved to ${folder}). Give a local Hugging Face model folder or a hub id such as sentence-transformers/all-MiniLM-L6-v2.`,
          data: { path: ['model', 'base'] },
        },
      ];
    }
    if (!existsSync(join(folder, 'config.json'))) {
      return [
        {
          range,
          severity: 'error',
          code: 'model-not-found',
          message: `model.base: "${base}" has no config.json, so it is not a Hugging Face model folder.`,
          data: { path: ['model', 'base'] },
        },
      ];
    }
    return [];
  };
}

function looksLikeLocalPath(base: string, configDir: string): boolean {
  if (base.startsWith('./') || base.startsWith('../') || base.startsWith('~') || isAbsolute(base)) return true;
  if (base.startsWith('.\\') || base.startsWith('..\\')) return true;
  // A hub id is `name` or `org/name`; anything deeper, or an existing relative folder, is local.
  return base.split('/').length > 2 || existsSync(resolve(configDir, base));
}
