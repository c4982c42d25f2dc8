import * as tf from '@tensorflow/tfjs-core';
import { referenceEncoderOps, type EncoderOps } from './encoderOps';
import { scatterEmbeddingLookup } from './scatterEmbeddingLookup';
import { tensorflowEncoderOps } from './tensorflowEncoderOps';
import { xnnpackEncoderOps } from './xnnpackEncoderOps';

/**
 * Stock products, which the cpu backend runs well (stock matMul beats the explicit transposes and convolution that
 * wasm needs), with the scatter-gradient lookup: cpu's own gather gradient loops over every vocabulary row.
 */
const stockEncoderOps: EncoderOps = {
  // In a tidy because the reference dense leaves its pre-bias product behind when called outside one.
  dense: (x, kernel, bias) => tf.tidy(() => referenceEncoderOps.dense(x, kernel, bias)),
  attentionScores: referenceEncoderOps.attentionScores,
  attentionContext: referenceEncoderOps.attentionContext,
  embeddingLookup: scatterEmbeddingLookup,
  layerNorm: (x, gamma, beta, eps) => tf.tidy(() => referenceEncoderOps.layerNorm(x, gamma, beta, eps)),
  gelu: (x) => tf.tidy(() => referenceEncoderOps.gelu(x)),
};

/**
 * The encoder products for a tfjs backend, by its name ('wasm', 'tensorflow', 'cpu'), as selectBackend reports it.
 * Each equals referenceEncoderOps, values and gradients, to float32 rounding.
 */
export function encoderOpsFor(backend: string): EncoderOps {
  // Only wasm runs transposed and batched matMuls in a slow loop, so only wasm needs the XNNPACK-shaped products.
  if (backend === 'wasm') return xnnpackEncoderOps;
  return backend === 'tensorflow' ? tensorflowEncoderOps : stockEncoderOps;
}
