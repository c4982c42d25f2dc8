import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as runFolder from '../../src/shared/run/runFolder';

const PYTHON_LAYOUT = join(__dirname, '..', '..', 'python', 'embedtune_accelerate', 'run_folder.py');

/** Runs the accelerate engine's run_folder.py (standard library only) and returns its names and what its functions answer. */
function pythonLayout(): { constants: Record<string, unknown>; relativePath: string; steps: Record<string, number | null> } {
  const script = `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("run_folder", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
constants = {name: value for name, value in vars(module).items() if name.isupper() and not name.startswith("_")}
names = ["step-40", "step-0", "step-", "step-4x", ".tmp-step-3-99", "step-1234567890123"]
print(json.dumps({
    "constants": constants,
    "relativePath": module.checkpoint_relative_path(40),
    "steps": {name: module.checkpoint_step(name) for name in names},
}))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, PYTHON_LAYOUT], { encoding: 'utf8' }));
}

test('the accelerate engine names every run-folder file it writes as src/shared/run/runFolder.ts does', () => {
  const python = pythonLayout();
  const typescript = runFolder as unknown as Record<string, unknown>;
  // The files both engines write or read in the same folder; each must be declared on both sides.
  for (const name of [
    'EVENTS_FILE',
    'CHECKPOINTS_DIR',
    'BEST_POINTER_FILE',
    'EXPORTED_MODEL_DIR',
    'ACCELERATE_DIR',
    'ACCELERATE_STATE_FILE',
    'CHECKPOINT_PREFIX',
  ])
    assert.ok(name in python.constants, `python/embedtune_accelerate/run_folder.py does not declare ${name}`);
  for (const [name, value] of Object.entries(python.constants)) {
    assert.ok(name in typescript, `run_folder.py declares ${name}, which src/shared/run/runFolder.ts does not`);
    assert.equal(
      value,
      typescript[name],
      `${name}: the accelerate engine writes ${JSON.stringify(value)}, the editor reads ${JSON.stringify(typescript[name])}`,
    );
  }
});

test('both engines name checkpoint folders alike: step-N, relative to the run folder with /', () => {
  const python = pythonLayout();
  assert.equal(python.relativePath, runFolder.checkpointRelativePath(40));
  assert.equal(runFolder.checkpointRelativePath(40), 'checkpoints/step-40');
  for (const [name, step] of Object.entries(python.steps)) assert.equal(runFolder.checkpointStep(name) ?? null, step, name);
  assert.equal(runFolder.checkpointStep('step-40'), 40);
  assert.equal(runFolder.checkpointStep('.tmp-step-3-99'), undefined);
});

test('run.json is read back only when it has every field the writer writes', () => {
  const info = {
    run_id: 'r-20261203-190000',
    pid: 42,
    configPath: '/w/a.embedtune.yaml',
    startedAt: '2026-12-03T19:00:00.000Z',
    state: 'running',
  };
  assert.deepEqual(runFolder.parseRunInfo(JSON.stringify(info)), info);
  assert.equal(runFolder.parseRunInfo(JSON.stringify({ ...info, state: 'paused' })), undefined);
  assert.equal(runFolder.parseRunInfo(JSON.stringify({ ...info, pid: '42' })), undefined);
  assert.equal(runFolder.parseRunInfo('{"run_id": "r", "pid": 4'), undefined);
  assert.equal(runFolder.parseRunInfo('null'), undefined);
});
