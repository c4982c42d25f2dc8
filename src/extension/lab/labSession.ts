import { existsSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { isLabSearchResult } from '../../shared/lab/labSearchResult';
import type { FromLab, LabSetup, ToLab } from '../../shared/protocol/labMessages';
import { isFromLabTools } from '../../shared/protocol/labToolMessages';
import type { EditorHost } from '../host/editorHost';
import { progressWithoutCancel, type CancellableProgress } from '../backend/cancellableProgress';
import { engineEnvironment, lastLines, runEngineCommand, type EngineCommand } from '../runs/engineProcess';
import type { RunLibrary } from '../runs/runLibrary';
import { labDefaultsForRun, labModelsOfRun } from './labDefaults';
import { chooseLabModel, labHubIdProblem, type LabModelRole, type RunWithModels } from './labModelChooser';
import type { ConfigTextEditor } from '../mining/configTextEditor';
import { encodingProgress } from './encodingProgress';
import { LabTools } from './labTools';
import { LabMapSession } from './labMapSession';
import { LabProgressRelay } from './labProgressRelay';
import { isMapMessage } from '../../shared/protocol/labMapMessages';
import { checkSavedLab, parseSavedLab, type LabMemory } from './labRestore';

export const LAB_UNTRUSTED_MESSAGE =
  'EmbedTune: the Embedding Lab is disabled in an untrusted workspace. It loads the models and reads the files this workspace names; trust the workspace to use it.';

export interface LabSessionServices {
  readonly host: EditorHost;
  readonly engine: EngineCommand;
  readonly library: RunLibrary;
  /** A notification with a Cancel button that kills the search; without one, a plain progress notification. */
  readonly progress?: CancellableProgress;
  /** Edits the config where its text lives, for the Lab's mining to point data.train at what it wrote. */
  readonly editor?: ConfigTextEditor;
  /** Keeps what the Lab compares, so that a window reload reopens it (workspaceState in VS Code). */
  readonly memory?: LabMemory;
}

/**
 * The Lab's side in the extension host: it settles what to compare (the run's defaults, or what the user picks) and
 * runs each search as `embedtune lab-search`, a child process with an argument array, posting only the result the
 * guard accepts. Searches never overlap: one typed while another runs waits, and only the newest waits.
 */
export class LabSession {
  private setup: LabSetup | undefined;
  /** The text column of the run's validation file; a corpus the user picks is read by lab-search's defaults. */
  private column: string | undefined;
  /** The run's config, whose validation queries get their known positives marked. */
  private config: string | undefined;
  private running = false;
  private pending: { query: string; k: number } | undefined;
  /** Wins and losses, and hard-negative mining. */
  private readonly tools: LabTools;
  /** The map: the corpus projected in 2D under both models, and a point's neighbours. */
  private readonly map: LabMapSession;
  /** Progress in the page, with one Cancel, for the searches, the tools and the map alike. */
  private readonly relay: LabProgressRelay;
  /** Set by `revive`: the Lab reopens on what `services.memory` kept, never asking for anything. */
  private reviving = false;
  /** The workspace runs' models for the model chooser, read once per Lab, when a model is first asked for. */
  private runModels: Promise<RunWithModels[]> | undefined;

  constructor(
    private readonly services: LabSessionServices,
    private readonly post: (message: ToLab) => void,
    private runKey: string | undefined,
    /** The model compared with the first instead of the run's trained one: a checkpoints-panel row's checkpoint. */
    private readonly secondModel?: string,
  ) {
    this.relay = new LabProgressRelay(post);
    this.tools = new LabTools(services, post, () => ({ setup: this.setup, config: this.config, run: this.runKey }), this.relay);
    this.map = new LabMapSession(services, post, () => ({ setup: this.setup, column: this.column }), this.relay);
  }

  /**
   * The Lab a window reload brings back: when its page is ready, it reopens on the models, corpus and run that
   * `services.memory` kept, once they are checked again (`checkSavedLab`); otherwise the page says why, and nothing
   * is asked for or run.
   */
  static revive(services: LabSessionServices, post: (message: ToLab) => void): LabSession {
    const session = new LabSession(services, post, undefined);
    session.reviving = true;
    return session;
  }

  async handle(message: FromLab): Promise<void> {
    if (message.command === 'ready') {
      this.setup ??= this.reviving ? await this.restoreSetup() : await this.chooseSetup();
      if (this.setup) this.post({ command: 'setup', ...this.setup });
      return;
    }
    if (isMapMessage(message)) return this.map.handle(message);
    if (isFromLabTools(message)) return this.tools.handle(message);
    this.pending = { query: message.query, k: message.k };
    if (!this.running) await this.drain();
  }

  /** Closing the Lab stops whatever it runs: a search, a replay, mining or a map would otherwise go on unseen. */
  dispose(): void {
    this.pending = undefined;
    this.relay.cancel();
    this.tools.dispose();
    this.map.dispose();
  }

  private async chooseSetup(): Promise<LabSetup | undefined> {
    const { host, library } = this.services;
    // A new Lab forgets the one kept before it, until its own models and corpus are settled.
    this.services.memory?.save(undefined);
    const run = this.runKey ? await library.resolve(this.runKey) : undefined;
    const defaults = run
      ? labDefaultsForRun(run.key, run.configPath)
      : { first: undefined, second: undefined, corpus: undefined, column: undefined };
    const first = defaults.first ?? (await this.chooseModel('first'));
    if (!first) return undefined;
    const second = this.secondModel ?? defaults.second ?? (await this.chooseModel('second'));
    if (!second) return undefined;
    const corpus =
      defaults.corpus ??
      (await host.pickFile({ title: 'Embedding Lab: the corpus to search', filters: { Corpus: ['txt', 'jsonl', 'csv', 'tsv'] } }));
    if (!corpus) return undefined;
    this.column = corpus === defaults.corpus ? defaults.column : undefined;
    this.config = run?.configPath && existsSync(run.configPath) ? run.configPath : undefined;
    this.services.memory?.save({ run: run?.key ?? null, first, second, corpus });
    return { first, second, corpus, runId: run?.runId ?? null };
  }

  /** A model the run does not give: from the runs' models, a folder, or a hub id in the local cache. */
  private async chooseModel(role: LabModelRole): Promise<string | undefined> {
    const { host, library, engine } = this.services;
    this.runModels ??= library
      .refresh()
      .then((runs) => runs.map((run) => ({ runId: run.runId, models: labModelsOfRun(run.key, run.configPath) })));
    // The environment lab-search gets, whose HF_HUB_CACHE, HF_HOME and HOME say where it looks for a hub id.
    return chooseLabModel(host, await this.runModels, role, engineEnvironment(process.env, engine));
  }

  private async restoreSetup(): Promise<LabSetup | undefined> {
    const { host, library, memory } = this.services;
    // As opening the Lab is: an untrusted workspace reads no run and loads nothing.
    if (!host.isWorkspaceTrusted()) {
      this.post({ command: 'error', message: LAB_UNTRUSTED_MESSAGE });
      return undefined;
    }
    const saved = memory?.load();
    const key = parseSavedLab(saved)?.run;
    const run = key ? await library.resolve(key) : undefined;
    const restored = checkSavedLab(saved, run && { entry: run, defaults: labDefaultsForRun(run.key, run.configPath) });
    if (!restored.ok) {
      this.post({ command: 'error', message: restored.message });
      return undefined;
    }
    // A typed hub id was checked against the cache when it was chosen; it must still be there, or lab-search would
    // download it. The run's own base is left to lab-search, as when the Lab opens.
    const runBase = run && labDefaultsForRun(run.key, run.configPath).first;
    const env = engineEnvironment(process.env, this.services.engine);
    for (const model of [restored.setup.first, restored.setup.second]) {
      const problem = isAbsolute(model) || model === runBase ? undefined : labHubIdProblem(model, env);
      if (problem) {
        this.post({ command: 'error', message: `${problem} Open the Embedding Lab again to choose another model.` });
        return undefined;
      }
    }
    this.runKey = run?.key;
    this.column = restored.column;
    this.config = restored.config;
    return restored.setup;
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.pending) {
        const request = this.pending;
        this.pending = undefined;
        await this.search(request.query, request.k);
      }
    } finally {
      this.running = false;
    }
  }

  private async search(query: string, k: number): Promise<void> {
    const { host, engine } = this.services;
    if (!host.isWorkspaceTrusted()) {
      this.post({ command: 'error', message: LAB_UNTRUSTED_MESSAGE });
      return;
    }
    const setup = this.setup;
    if (!setup) {
      this.post({ command: 'error', message: 'Pick two models and a corpus first: run EmbedTune: Open Embedding Lab again.' });
      return;
    }
    this.post({ command: 'busy', query });
    // --flag=value: a query (or a path) that starts with "-" stays a value, never an option.
    const args = [
      'lab-search',
      `--model=${setup.first}`,
      `--compare=${setup.second}`,
      `--corpus=${setup.corpus}`,
      `--query=${query}`,
      `--top-k=${k}`,
      ...(this.column ? [`--column=${this.column}`] : []),
      ...(this.config ? [`--config=${this.config}`] : []),
      '--json',
    ];
    // Shown in the page too, with its Cancel, as the tools' long encodes and the map are.
    const progress = this.relay.wrap(this.services.progress ?? progressWithoutCancel(host));
    try {
      // The first search of a corpus encodes it under both models, which takes a while on a large one.
      const result = await progress('EmbedTune: searching in the Embedding Lab', (report, signal) =>
        // A killed search stores nothing: lab-search writes its cache only once a corpus is fully encoded.
        runEngineCommand(engine, args, dirname(setup.corpus), {
          signal,
          onStderrLine: (line) => {
            const message = encodingProgress(line);
            if (message) report(message);
          },
        }),
      );
      const parsed = result.code === 0 ? parseJson(result.stdout) : undefined;
      if (result.cancelled)
        this.post({ command: 'error', message: 'The search was cancelled; nothing was cached for the corpus it was encoding.' });
      else if (isLabSearchResult(parsed)) this.post({ command: 'results', result: parsed });
      else
        this.post({
          command: 'error',
          message: lastLines(result.stderr || result.stdout, 6).join('\n') || `lab-search exited with ${result.code}`,
        });
    } finally {
      this.post({ command: 'busy', query: null });
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
