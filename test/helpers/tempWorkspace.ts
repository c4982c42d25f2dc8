import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A throwaway folder with files, for tests that need real data files next to a config. */
export class TempWorkspace {
  readonly root = mkdtempSync(join(tmpdir(), 'embedtune-test-'));

  write(relativePath: string, content: string): string {
    const path = join(this.root, relativePath);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    return path;
  }

  path(relativePath: string): string {
    return join(this.root, relativePath);
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** JSONL of anchor/positive pairs with distinct text, `count` rows long. */
export function pairsJsonl(count: number, columns: [string, string] = ['anchor', 'positive']): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(JSON.stringify({ [columns[0]]: `question number ${i}`, [columns[1]]: `answer text ${i}` }));
  return `${lines.join('\n')}\n`;
}
