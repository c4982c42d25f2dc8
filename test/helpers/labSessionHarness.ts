import type { LabMemory, SavedLab } from '../../src/extension/lab/labRestore';
import type { LabSession } from '../../src/extension/lab/labSession';
import type { ToLab } from '../../src/shared/protocol/labMessages';

/** workspaceState, as the Lab session sees it: what was saved last, as JSON would keep it. */
export class MemoryInVariable implements LabMemory {
  value: unknown;
  saves = 0;
  load(): unknown {
    return this.value;
  }
  save(saved: SavedLab | undefined): void {
    this.saves++;
    this.value = saved === undefined ? undefined : JSON.parse(JSON.stringify(saved));
  }
}

/** A session and what it sends the page, less progress messages. */
export function openLab(open: (post: (message: ToLab) => void) => LabSession): { session: LabSession; posted: ToLab[] } {
  const posted: ToLab[] = [];
  const session = open((message) => {
    if (message.command !== 'progress') posted.push(message);
  });
  return { session, posted };
}
