/**
 * Tensors as plain typed arrays, the form weights take between disk and the training backend. Keeping tfjs out of
 * this type lets model files be read, checked and written without a backend, and in processes that never train.
 */

export type HostDtype = 'F32' | 'I32' | 'I64';

export type HostData = Float32Array | Int32Array | BigInt64Array;

/** A dense row-major tensor; `data.length` is always the product of `shape` (1 for a 0-d tensor). */
export interface HostTensor {
  dtype: HostDtype;
  shape: number[];
  data: HostData;
}

/** Tensors by name, in Hugging Face naming (`encoder.layer.0.attention.self.query.weight`). */
export type NamedTensors = Map<string, HostTensor>;

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((count, dim) => count * dim, 1);
}

/** The dtype whose typed array `data` is, so that a tensor cannot claim one dtype while holding another. */
export function dtypeOfData(data: HostData): HostDtype {
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof Int32Array) return 'I32';
  return 'I64';
}

/** Builds a tensor, refusing data whose length does not fill the shape exactly. */
export function hostTensor(shape: readonly number[], data: HostData): HostTensor {
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0)
      throw new Error(`Tensor shape [${shape.join(', ')}] has a dimension that is not a non-negative integer.`);
  }
  const expected = elementCount(shape);
  if (data.length !== expected) {
    throw new Error(`Tensor of shape [${shape.join(', ')}] needs ${expected} values but was given ${data.length}.`);
  }
  return { dtype: dtypeOfData(data), shape: [...shape], data };
}
