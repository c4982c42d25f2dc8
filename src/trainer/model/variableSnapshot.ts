import type * as tf from '@tensorflow/tfjs-core';
import type { NamedTensors } from './namedTensors';

/** A host copy of every variable, by name, for checkpoints that resume exactly. */
export async function snapshotVariables(variables: ReadonlyMap<string, tf.Variable>): Promise<NamedTensors> {
  const out: NamedTensors = new Map();
  for (const [name, variable] of variables) {
    out.set(name, { dtype: 'F32', shape: [...variable.shape], data: Float32Array.from((await variable.data()) as Float32Array) });
  }
  return out;
}
