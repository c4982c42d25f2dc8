/**
 * The tfjs backend the parity tests train and encode on. wasm is what a user gets out of the box, so it is the
 * default; `EMBEDTUNE_PARITY_BACKEND=node` (or `node-gpu`) runs the same comparisons on an installed native backend,
 * as `.ci/run` does after `embedtune backend install`. A named backend never falls back: when it cannot start, the
 * tests fail with selectBackend's reason instead of quietly comparing wasm again.
 */
import type { BackendPreference } from '../../src/trainer/backend/selectBackend';

const NAMED_BACKENDS: readonly BackendPreference[] = ['wasm', 'node', 'node-gpu', 'cpu'];

function parityBackendFrom(value: string | undefined): Exclude<BackendPreference, 'auto'> {
  const backend = (value ?? '').trim() || 'wasm';
  if (!NAMED_BACKENDS.includes(backend as BackendPreference)) {
    throw new Error(`EMBEDTUNE_PARITY_BACKEND is "${backend}"; it must be one of ${NAMED_BACKENDS.join(', ')} (unset means wasm).`);
  }
  return backend as Exclude<BackendPreference, 'auto'>;
}

export const PARITY_BACKEND = parityBackendFrom(process.env['EMBEDTUNE_PARITY_BACKEND']);
