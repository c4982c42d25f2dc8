import * as tf from '@tensorflow/tfjs-core';
import type { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/*
 * UnsortedSegmentSum is the gradient of gather, so of every embedding lookup. tfjs-backend-wasm 4.22 has no kernel
 * for it, and tfjs-backend-cpu's loops over every segment (for a 30522-row vocabulary: 30522 masked sums over the
 * whole batch). Both kernels here make one pass over the input rows and touch only the output rows named by an id,
 * after zeroing the output once.
 */

type NumericArray = Float32Array | Int32Array;

/** out[ids[i]] += x[i] for each row i of `rowSize` values; ids outside [0, segments) are dropped, as TensorFlow does. */
export function accumulateSegments(x: NumericArray, ids: Int32Array, out: NumericArray, rowSize: number): void {
  const segments = out.length / rowSize;
  for (let row = 0; row < ids.length; row++) {
    const segment = ids[row]!;
    if (segment < 0 || segment >= segments) continue;
    const from = row * rowSize;
    const to = segment * rowSize;
    for (let j = 0; j < rowSize; j++) out[to + j]! += x[from + j]!;
  }
}

function outputShape(x: tf.TensorInfo, segmentIds: tf.TensorInfo, numSegments: number): { shape: number[]; rowSize: number } {
  const rowShape = x.shape.slice(segmentIds.shape.length);
  return { shape: [numSegments, ...rowShape], rowSize: tf.util.sizeFromShape(rowShape) };
}

const wasmSegmentSum: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as unknown as Record<'x' | 'segmentIds', tf.TensorInfo>;
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const wasm = backend as BackendWasm;
  const { shape, rowSize } = outputShape(x, segmentIds, numSegments);
  const out = wasm.makeOutput(shape, x.dtype);
  // Views only after the allocation: growing the heap replaces the buffer that earlier views were made on.
  const outValues = wasm.typedArrayFromHeap(out) as NumericArray;
  outValues.fill(0);
  accumulateSegments(wasm.typedArrayFromHeap(x) as NumericArray, wasm.typedArrayFromHeap(segmentIds) as Int32Array, outValues, rowSize);
  return out;
};

const cpuSegmentSum: tf.KernelFunc = ({ inputs, backend: anyBackend, attrs }) => {
  const backend = anyBackend as MathBackendCPU;
  const { x, segmentIds } = inputs as unknown as Record<'x' | 'segmentIds', tf.TensorInfo>;
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const { shape, rowSize } = outputShape(x, segmentIds, numSegments);
  const out = x.dtype === 'int32' ? new Int32Array(numSegments * rowSize) : new Float32Array(numSegments * rowSize);
  accumulateSegments(backend.readSync(x.dataId) as NumericArray, backend.readSync(segmentIds.dataId) as Int32Array, out, rowSize);
  return backend.makeTensorInfo(shape, x.dtype, out);
};

const OURS: ReadonlyMap<string, tf.KernelFunc> = new Map([
  ['wasm', wasmSegmentSum],
  ['cpu', cpuSegmentSum],
]);

/**
 * Registers the linear UnsortedSegmentSum for wasm (where it is missing) and cpu (replacing the per-segment one).
 * Safe to call any number of times; a kernel that is neither ours nor tfjs-backend-cpu's is left alone.
 */
export function registerSegmentSumKernels(): void {
  for (const [backendName, kernelFunc] of OURS) {
    const current = tf.getKernel(tf.UnsortedSegmentSum, backendName);
    if (current?.kernelFunc === kernelFunc) continue;
    if (current && backendName !== 'cpu') continue;
    if (current) tf.unregisterKernel(tf.UnsortedSegmentSum, backendName);
    tf.registerKernel({ kernelName: tf.UnsortedSegmentSum, backendName, kernelFunc });
  }
}
