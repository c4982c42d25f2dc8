import * as tf from '@tensorflow/tfjs-core';
import type { EncoderOps } from './encoderOps';
import { groupedMatMul } from './groupedMatMul';
import { scatterEmbeddingLookup } from './scatterEmbeddingLookup';

/*
 * tfjs-backend-wasm hands a matMul to XNNPACK only when it is 2-D (batch 1) and neither side is transposed; anything
 * else runs a naive single-threaded loop at about 1 GFLOP/s, 15 to 40 times slower. Stock gradients of matMul are
 * transposed matMuls, and attention's products are batched, so with stock ops most of a training step sits in that
 * loop. These versions spell every product, forward and backward, in a shape XNNPACK takes: explicit transposes
 * (linear in size) followed by plain 2-D products, and per-head products as one depthwise convolution. They equal
 * referenceEncoderOps to float32 rounding on any backend, but only wasm gains from them: encoderOpsFor chooses.
 */

/** tf.customGrad passes the inputs, then the function that saves tensors for the backward pass. */
type CustomGradArgs = Array<tf.Tensor | tf.GradSaveFunc>;

/** x [n, in] @ kernel [in, out] (+ bias). */
function dense(x: tf.Tensor2D, kernel: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  if (isFrozen(kernel) && (!bias || isFrozen(bias))) return frozenDense(x, kernel, bias);
  return (bias ? denseWithBias(x, kernel, bias) : denseWithoutBias(x, kernel)) as tf.Tensor2D;
}

/**
 * A weight the optimizer never updates: a variable made with trainable false (a frozen layer, or the base weights
 * under LoRA and adapters). A customGrad computes every gradient its gradFunc returns, wanted or not, so frozen
 * weights must not be its inputs: their gradients would be computed and then dropped by the tape.
 */
function isFrozen(weight: tf.Tensor): boolean {
  return (weight as { trainable?: boolean }).trainable === false;
}

/**
 * The product with a frozen kernel and bias: its gradient is dx alone, one product instead of two, and x need not be
 * kept for the backward pass.
 */
function frozenDense(x: tf.Tensor2D, kernel: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D {
  const product = tf.customGrad((...args: CustomGradArgs) => {
    const input = args[0] as tf.Tensor2D;
    return {
      value: bias ? tf.fused.matMul({ a: input, b: kernel, bias }) : tf.matMul(input, kernel),
      gradFunc: (dy: tf.Tensor) => tf.tidy(() => [denseInputGradient(dy as tf.Tensor2D, kernel)]),
    };
  });
  return product(x) as tf.Tensor2D;
}

const denseWithBias = tf.customGrad((...args: CustomGradArgs) => {
  const [x, kernel, bias, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([x, kernel]);
  return {
    // Fused, so XNNPACK adds the bias inside the product instead of a second pass over the output.
    value: tf.fused.matMul({ a: x as tf.Tensor2D, b: kernel as tf.Tensor2D, bias }),
    gradFunc: (dy: tf.Tensor, [savedX, savedKernel]: tf.Tensor[]) =>
      tf.tidy(() => [
        ...denseGradients(dy as tf.Tensor2D, savedX as tf.Tensor2D, savedKernel as tf.Tensor2D),
        columnSums(dy as tf.Tensor2D),
      ]),
  };
});

const denseWithoutBias = tf.customGrad((...args: CustomGradArgs) => {
  const [x, kernel, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([x, kernel]);
  return {
    value: tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, [savedX, savedKernel]: tf.Tensor[]) =>
      tf.tidy(() => denseGradients(dy as tf.Tensor2D, savedX as tf.Tensor2D, savedKernel as tf.Tensor2D)),
  };
});

/** dx = dy @ kernelᵀ for y = x @ kernel, with no transposed operand reaching matMul. */
function denseInputGradient(dy: tf.Tensor2D, kernel: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(dy, tf.transpose(kernel) as tf.Tensor2D);
}

/** [dx, dKernel] for y = x @ kernel, with no transposed operand reaching matMul. */
function denseGradients(dy: tf.Tensor2D, x: tf.Tensor2D, kernel: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  const dx = denseInputGradient(dy, kernel);
  const [tokens, inputs] = x.shape;
  const outputs = kernel.shape[1];
  // dKernel = xᵀ @ dy = (dyᵀ @ x)ᵀ. wasm's transpose is a plain loop that slows more than linearly once a matrix
  // outgrows the cache (2048×384: 4.5 ms, 2048×1536: 34 ms), so transpose the smaller operand: x when the layer
  // widens (in ≤ out), dy and the small [out, in] result when it narrows (the FFN's 1536 → 384 output dense).
  const dKernel =
    tokens * inputs <= tokens * outputs + inputs * outputs
      ? tf.matMul(tf.transpose(x) as tf.Tensor2D, dy)
      : tf.transpose(tf.matMul(tf.transpose(dy) as tf.Tensor2D, x));
  return [dx, dKernel as tf.Tensor2D];
}

/**
 * sum(dy, 0) as ones[1, n] @ dy. The wasm Sum kernel reduces only the innermost axis, so for axis 0 it first
 * transposes dy: 34 ms for a [2048, 1536] gradient, against under 1 ms for this product.
 */
function columnSums(dy: tf.Tensor2D): tf.Tensor1D {
  const [rows, columns] = dy.shape;
  return tf.reshape(tf.matMul(tf.ones([1, rows]), dy), [columns]) as tf.Tensor1D;
}

/** Flattens [batch, heads, rows, cols] to [batch·heads, rows, cols] and back around a grouped product. */
function perHead(a: tf.Tensor4D, b: tf.Tensor4D, transposeA: boolean, transposeB: boolean): tf.Tensor4D {
  const [batch, heads] = a.shape;
  const flat = (t: tf.Tensor4D) => tf.reshape(t, [batch * heads, t.shape[2], t.shape[3]]) as tf.Tensor3D;
  const product = groupedMatMul(flat(a), flat(b), transposeA, transposeB);
  return tf.reshape(product, [batch, heads, product.shape[1], product.shape[2]]) as tf.Tensor4D;
}

/** q @ kᵀ; dq = dS @ k, dk = dSᵀ @ q. */
const attentionScores = tf.customGrad((...args: CustomGradArgs) => {
  const [q, k, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([q, k]);
  return {
    value: tf.tidy(() => perHead(q as tf.Tensor4D, k as tf.Tensor4D, false, true)),
    gradFunc: (dScores: tf.Tensor, [savedQ, savedK]: tf.Tensor[]) =>
      tf.tidy(() => [
        perHead(dScores as tf.Tensor4D, savedK as tf.Tensor4D, false, false),
        perHead(dScores as tf.Tensor4D, savedQ as tf.Tensor4D, true, false),
      ]),
  };
});

/** probs @ v; dProbs = dC @ vᵀ, dv = probsᵀ @ dC. */
const attentionContext = tf.customGrad((...args: CustomGradArgs) => {
  const [probs, v, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
  save([probs, v]);
  return {
    value: tf.tidy(() => perHead(probs as tf.Tensor4D, v as tf.Tensor4D, false, false)),
    gradFunc: (dContext: tf.Tensor, [savedProbs, savedV]: tf.Tensor[]) =>
      tf.tidy(() => [
        perHead(dContext as tf.Tensor4D, savedV as tf.Tensor4D, false, true),
        perHead(savedProbs as tf.Tensor4D, dContext as tf.Tensor4D, true, false),
      ]),
  };
});

/**
 * LayerNorm with its gradient written out. tfjs's own differentiates the composite (moments, sub, rsqrt, mul, add):
 * about 25 recorded kernels, every intermediate kept for the backward pass, and gamma's and beta's gradients reduced
 * over axis 0, which wasm does by transposing first. This keeps x̂ and 1/σ only, and sums columns with a product.
 * eps is closed over rather than passed as a tensor: a scalar made for the call would be disposed by the caller's
 * tidy before the backward pass reads it (tfjs-node frees it at once).
 */
function trainableLayerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const layerNorm = tf.customGrad((...args: CustomGradArgs) => {
    const [input, scale, , save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const { normalized, inverseStd } = tf.tidy(() => normalize(input, tf.scalar(eps)));
    save([normalized, inverseStd, scale]);
    return {
      value: tf.tidy(() => tf.add(tf.mul(normalized, scale), args[2] as tf.Tensor1D)),
      gradFunc: (dy: tf.Tensor, [savedNormalized, savedInverseStd, savedGamma]: tf.Tensor[]) =>
        tf.tidy(() => {
          const xHat = savedNormalized as tf.Tensor2D;
          const dx = layerNormInputGradient(dy as tf.Tensor2D, xHat, savedInverseStd!, savedGamma as tf.Tensor1D);
          return [dx, columnSums(tf.mul(dy, xHat) as tf.Tensor2D), columnSums(dy as tf.Tensor2D)];
        }),
    };
  });
  return layerNorm(x, gamma, beta) as tf.Tensor2D;
}

/** LayerNorm with a frozen gamma and beta (LoRA's base model): only dx, and no column sums for weights that stay. */
function frozenLayerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const layerNorm = tf.customGrad((...args: CustomGradArgs) => {
    const [input, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const { normalized, inverseStd } = tf.tidy(() => normalize(input, tf.scalar(eps)));
    save([normalized, inverseStd]);
    return {
      value: tf.tidy(() => tf.add(tf.mul(normalized, gamma), beta)),
      gradFunc: (dy: tf.Tensor, [savedNormalized, savedInverseStd]: tf.Tensor[]) =>
        tf.tidy(() => [layerNormInputGradient(dy as tf.Tensor2D, savedNormalized as tf.Tensor2D, savedInverseStd!, gamma)]),
    };
  });
  return layerNorm(x) as tf.Tensor2D;
}

/** x̂ = (x − mean) / σ and 1/σ, per row. */
function normalize(x: tf.Tensor2D, epsilon: tf.Scalar): { normalized: tf.Tensor2D; inverseStd: tf.Tensor } {
  return tf.tidy(() => {
    const centered = tf.sub(x, tf.mean(x, -1, true));
    const inverseStd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), epsilon));
    return { normalized: tf.mul(centered, inverseStd) as tf.Tensor2D, inverseStd };
  });
}

/** dx = (1/σ)·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·gamma, per row. */
function layerNormInputGradient(dy: tf.Tensor2D, xHat: tf.Tensor2D, inverseStd: tf.Tensor, gamma: tf.Tensor1D): tf.Tensor2D {
  const dyGamma = tf.mul(dy, gamma);
  return tf.mul(
    inverseStd,
    tf.sub(tf.sub(dyGamma, tf.mean(dyGamma, -1, true)), tf.mul(xHat, tf.mean(tf.mul(dyGamma, xHat), -1, true))),
  ) as tf.Tensor2D;
}

const INVERSE_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * GELU with its derivative Φ(x) + x·φ(x) written out: tfjs's composite records five kernels and keeps each input.
 * Φ(x) is kept from the forward pass, so the backward pass needs no second erf (the dearest element-wise kernel, over
 * the widest activation).
 */
const geluWithGradient = tf.customGrad((...args: CustomGradArgs) => {
  const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
  const cdf = tf.tidy(() => tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5));
  save([x, cdf]);
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy: tf.Tensor, [savedX, savedCdf]: tf.Tensor[]) =>
      tf.tidy(() => {
        const input = savedX!;
        const pdf = tf.mul(tf.exp(tf.mul(tf.square(input), -0.5)), INVERSE_SQRT_2PI);
        return [tf.mul(dy, tf.add(savedCdf!, tf.mul(input, pdf)))];
      }),
  };
});

/** LayerNorm with written-out gradients, frozen or trainable; any backend gains from its fewer, smaller kernels. */
export function writtenOutLayerNorm(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  return tf.tidy(() =>
    isFrozen(gamma) && isFrozen(beta) ? frozenLayerNorm(x, gamma, beta, eps) : trainableLayerNorm(x, gamma, beta, eps),
  );
}

/** The exact GELU with its derivative written out. */
export function writtenOutGelu(x: tf.Tensor2D): tf.Tensor2D {
  return geluWithGradient(x) as tf.Tensor2D;
}

export const xnnpackEncoderOps: EncoderOps = {
  dense,
  attentionScores: (q, k) => attentionScores(q, k) as tf.Tensor4D,
  attentionContext: (probs, v) => attentionContext(probs, v) as tf.Tensor4D,
  embeddingLookup: scatterEmbeddingLookup,
  layerNorm: writtenOutLayerNorm,
  gelu: writtenOutGelu,
};
