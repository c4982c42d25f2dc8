import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const PYTHON_MODULE = 'embedtune_accelerate';

/**
 * The folder that holds the `embedtune_accelerate` package: `python/` beside `dist/` in the installed extension,
 * and at the top of the repository when the CLI runs from source. Python finds the package through PYTHONPATH.
 */
export function pythonPackageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'python', PYTHON_MODULE, 'train.py'))) return join(dir, 'python');
    if (dirname(dir) === dir) {
      throw new Error(`Cannot find python/${PYTHON_MODULE}/train.py above ${from}; the EmbedTune installation is incomplete.`);
    }
  }
}

/** The requirements file that "EmbedTune: Check Python Environment" installs. */
export function pythonRequirementsFile(root: string = pythonPackageRoot()): string {
  return join(root, PYTHON_MODULE, 'requirements.txt');
}
