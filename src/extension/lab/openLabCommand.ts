import type { EditorHost } from '../host/editorHost';
import type { RunLibrary } from '../runs/runLibrary';
import { LAB_UNTRUSTED_MESSAGE } from './labSession';

/**
 * EmbedTune: Open Embedding Lab. The run comes from the caller (a checkpoints-panel row, a config in the Explorer)
 * or from a pick of the workspace's runs; with none, the Lab asks for the models and the corpus itself.
 */
export async function openLab(
  host: EditorHost,
  library: RunLibrary,
  runKey: string | undefined,
  show: (key?: string) => void,
): Promise<void> {
  if (!host.isWorkspaceTrusted()) {
    await host.showMessage('error', LAB_UNTRUSTED_MESSAGE);
    return;
  }
  let key = runKey;
  if (!key) {
    const runs = await library.refresh();
    if (runs.length > 0) {
      key = await host.pick(
        runs.map((run) => ({ label: run.runId, description: run.lifecycle, detail: run.key, value: run.key })),
        {
          title: 'Embedding Lab: compare the base model and the trained model of which run?',
          placeholder: 'Escape to pick two models yourself',
        },
      );
    }
  }
  show(key);
}
