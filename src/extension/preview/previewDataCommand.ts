import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CancellableProgress } from '../backend/cancellableProgress';
import type { Disposable } from '../emitter';
import type { EditorHost } from '../host/editorHost';
import { lastLines, runEngineCommand, type EngineCommand } from '../runs/engineProcess';

export const PREVIEW_DATA_COMMAND = 'embedtune.previewData';

export const PREVIEW_UNTRUSTED_MESSAGE =
  'Previewing training data runs the training engine on this workspace’s files; trust the workspace first (Workspaces: Manage Workspace Trust).';

export interface PreviewServices {
  readonly host: EditorHost;
  readonly engine: EngineCommand;
  readonly progress: CancellableProgress;
  /** Opens a file in the editor's own viewer (an image opens as an image): `vscode.open` on its URI. */
  readonly openInEditor: (path: string) => Promise<void>;
}

export type PreviewOutcome = 'sheet-opened' | 'text-shown' | 'untrusted' | 'no-config' | 'cancelled' | 'failed';

export function registerPreviewDataCommand(services: PreviewServices): Disposable {
  return services.host.registerCommand(PREVIEW_DATA_COMMAND, (resource) => previewData(services, resource));
}

/**
 * Runs `embedtune preview-data` on the config and shows what it printed in the EmbedTune output. For an image
 * config it also opens the contact sheet PNG the preview wrote; for a text config the output is the preview.
 */
export async function previewData(services: PreviewServices, resource: unknown): Promise<PreviewOutcome> {
  const { host } = services;
  if (!host.isWorkspaceTrusted()) {
    await host.showMessage('error', PREVIEW_UNTRUSTED_MESSAGE);
    return 'untrusted';
  }
  const configPath = await host.configFor(resource);
  if (!configPath) {
    await host.showMessage('error', 'Preview training data: open an *.embedtune.yaml or *.embedtune.json config first.');
    return 'no-config';
  }
  const outcome = await services.progress('Previewing training data', (report, signal) =>
    runEngineCommand(services.engine, ['preview-data', configPath], dirname(configPath), {
      signal,
      onStderrLine: (line) => {
        if (line.trim() !== '') report(line.trim());
      },
    }),
  );
  if (outcome.cancelled) return 'cancelled';
  if (outcome.code !== 0) {
    host.appendOutput(['embedtune preview-data failed:', ...lastLines(outcome.stderr + '\n' + outcome.stdout, 20)]);
    await host.showMessage('error', `Preview training data failed: ${lastLines(outcome.stderr, 1)[0] ?? `exit code ${outcome.code}`}`);
    return 'failed';
  }
  host.appendOutput(outcome.stdout.split(/\r?\n/));
  const sheet = contactSheetPath(outcome.stdout);
  if (sheet && existsSync(sheet)) {
    await services.openInEditor(sheet);
    return 'sheet-opened';
  }
  host.showOutput();
  return 'text-shown';
}

/** The PNG an image preview wrote, from its first line `Contact sheet: PATH`. */
export function contactSheetPath(stdout: string): string | undefined {
  return /^Contact sheet: (.+\.png)\s*$/m.exec(stdout)?.[1];
}
