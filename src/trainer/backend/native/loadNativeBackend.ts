import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import type { LocatedNativePackage } from './locateNativeBackend';

/** What tfjs-node's backend object tells about itself (NodeJSKernelBackend). */
interface NodeKernelBackend {
  readonly isUsingGpuDevice?: boolean;
}

export interface LoadedNativeBackend {
  /** Whether TensorFlow placed ops on a GPU (tfjs-node-gpu with a CUDA device it could use). */
  readonly usingGpu: boolean;
}

/**
 * Loads a located tfjs-node package into this process and makes its "tensorflow" backend active.
 *
 * Quietly: the package brings its own copy of tfjs (tfjs-core, the cpu backend and every gradient), which registers
 * into the same global kernel registry this engine's tfjs-core already filled, and tfjs warns once per kernel (about
 * 170 "The kernel '…' for backend 'cpu' is already registered" lines). Those warnings go through tfjs's log, which
 * stays silent while the PROD flag is set, so the flag is set for the require alone. TensorFlow's own C++ info
 * lines (CPU feature notes) are hidden by TF_CPP_MIN_LOG_LEVEL=1 unless the user set a level.
 */
export async function loadNativeBackend(located: LocatedNativePackage): Promise<LoadedNativeBackend> {
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '1';
  const env = tf.env();
  const wasProd = env.getBool('PROD');
  env.set('PROD', true);
  try {
    createRequire(__filename)(located.folder);
  } finally {
    env.set('PROD', wasProd);
  }
  if (!(await tf.setBackend('tensorflow'))) throw new Error('loaded, but its "tensorflow" backend did not start');
  const backend = tf.backend() as unknown as NodeKernelBackend;
  return { usingGpu: backend.isUsingGpuDevice === true };
}
