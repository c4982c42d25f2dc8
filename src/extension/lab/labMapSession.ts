import { dirname } from 'node:path';
import { isLabMapResult, isLabNeighboursResult } from '../../shared/lab/labMapResult';
import type { FromLabMap } from '../../shared/protocol/labMapMessages';
import type { LabSetup, ToLab } from '../../shared/protocol/labMessages';
import { progressWithoutCancel } from '../backend/cancellableProgress';
import { lastLines, runEngineCommand, type EngineOutcome } from '../runs/engineProcess';
import { encodingProgress } from './encodingProgress';
import type { LabProgressRelay } from './labProgressRelay';
import { LAB_UNTRUSTED_MESSAGE, type LabSessionServices } from './labSession';

/** What the map needs from the Lab's session: the two models and the corpus, and the corpus's text column if known. */
export interface LabMapContext {
  readonly setup: LabSetup | undefined;
  readonly column: string | undefined;
}

/** "projecting 40/200 with ./base" (UMAP's epochs) → what the progress notification says. */
export function projectingProgress(line: string): string | undefined {
  const match = /^projecting (\d+)\/(\d+) with (.+)$/.exec(line);
  return match ? `laying out the map for ${match[3]}: epoch ${match[1]} of ${match[2]}` : encodingProgress(line);
}

/**
 * The Lab's map in the extension host: `embedtune lab-map` (the projection, under a progress bar in the page and a
 * notification, whose Cancels both kill it) and `embedtune lab-neighbours` (a clicked point's neighbours), each a child process with an
 * argument array, posting only what the guards accept. One runs at a time; a request made meanwhile waits, and
 * only the newest waits.
 */
export class LabMapSession {
  private running = false;
  private pending: FromLabMap | undefined;

  constructor(
    private readonly services: LabSessionServices,
    private readonly post: (message: ToLab) => void,
    private readonly context: () => LabMapContext,
    /** Progress in the page, with its Cancel, shared with the searches and the tools. */
    private readonly relay: LabProgressRelay,
  ) {}

  async handle(message: FromLabMap): Promise<void> {
    this.pending = message;
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending) {
        const next = this.pending;
        this.pending = undefined;
        await this.run(next);
      }
    } finally {
      this.running = false;
    }
  }

  dispose(): void {
    this.pending = undefined;
  }

  private async run(message: FromLabMap): Promise<void> {
    if (!this.services.host.isWorkspaceTrusted()) return this.post({ command: 'error', message: LAB_UNTRUSTED_MESSAGE });
    const { setup, column } = this.context();
    if (!setup)
      return this.post({ command: 'error', message: 'Pick two models and a corpus first: run EmbedTune: Open Embedding Lab again.' });
    // --flag=value: a path that starts with "-" stays a value, never an option.
    const common = [
      `--model=${setup.first}`,
      `--compare=${setup.second}`,
      `--corpus=${setup.corpus}`,
      ...(column ? [`--column=${column}`] : []),
      '--json',
    ];
    this.post({ command: 'mapBusy', busy: message.command === 'map' ? message.method : 'neighbours' });
    try {
      if (message.command === 'map') await this.map(setup, [`lab-map`, `--method=${message.method}`, ...common]);
      else await this.neighbours(setup, ['lab-neighbours', `--index=${message.index}`, `--top-k=${message.k}`, ...common]);
    } finally {
      this.post({ command: 'mapBusy', busy: null });
    }
  }

  private async map(setup: LabSetup, args: string[]): Promise<void> {
    const { engine, host } = this.services;
    const progress = this.relay.wrap(this.services.progress ?? progressWithoutCancel(host));
    // A first map encodes the corpus under both models (as a first search does) and UMAP takes a while: both show in
    // the page and the notification. A killed lab-map stores nothing: each projection is written whole, then renamed.
    const outcome = await progress('EmbedTune: drawing the Embedding Lab map', (report, signal) =>
      runEngineCommand(engine, args, dirname(setup.corpus), {
        signal,
        onStderrLine: (line) => {
          const message = projectingProgress(line);
          if (message) report(message);
        },
      }),
    );
    if (outcome.cancelled) return this.post({ command: 'error', message: 'The map was cancelled; nothing half-computed was stored.' });
    const result = parsed(outcome);
    if (isLabMapResult(result)) this.post({ command: 'map', result });
    else this.post({ command: 'error', message: failure(outcome) });
  }

  private async neighbours(setup: LabSetup, args: string[]): Promise<void> {
    // The map came first, so the corpus is cached: this reads it and ranks, with no model loaded.
    const outcome = await runEngineCommand(this.services.engine, args, dirname(setup.corpus));
    const result = parsed(outcome);
    if (isLabNeighboursResult(result)) this.post({ command: 'neighbours', result });
    else this.post({ command: 'error', message: failure(outcome) });
  }
}

function parsed(outcome: EngineOutcome): unknown {
  if (outcome.code !== 0) return undefined;
  try {
    return JSON.parse(outcome.stdout);
  } catch {
    return undefined;
  }
}

function failure(outcome: EngineOutcome): string {
  return lastLines(outcome.stderr || outcome.stdout, 6).join('\n') || `the map's engine command exited with ${outcome.code}`;
}
