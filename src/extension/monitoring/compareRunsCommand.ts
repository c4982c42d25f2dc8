import type { PanelOpener } from '../host/editorHost';

/**
 * `embedtune.compareRuns`, which a hyperparameter history code lens runs (src/server/service/hyperparameterHistory.ts).
 * Opens the dashboard on the first run folder of `keys`, compared with the rest; without keys (from the palette) it
 * just opens the dashboard, where runs can be picked to compare. The dashboard session refuses any key that is not
 * a run folder it knows, so the argument needs no more checking here than its shape.
 */
export function compareRuns(panels: PanelOpener, keys: unknown): void {
  const runs = Array.isArray(keys) ? keys.filter((key): key is string => typeof key === 'string' && key !== '') : [];
  if (runs.length === 0) return panels.showDashboard();
  panels.showDashboard(runs[0], runs.slice(1));
}
