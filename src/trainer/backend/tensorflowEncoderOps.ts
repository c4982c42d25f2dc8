import * as tf from '@tensorflow/tfjs-core';
import { referenceEncoderOps, type EncoderOps } from './encoderOps';
import { scatterEmbeddingLookup } from './scatterEmbeddingLookup';
import { writtenOutGelu, writtenOutLayerNorm } from './xnnpackEncoderOps';

/**
 * The encoder products for tfjs-node (TensorFlow's C library). TensorFlow runs matMul with its transpose flags and
 * batched matMul at full speed, so the products stay stock: their gradients are transposed products, not explicit
 * transposes. What costs here is the number of element-wise kernels, each a full pass over memory plus a call into
 * the binding, so LayerNorm and GELU take their written-out gradients, which record and keep far fewer tensors.
 */
export const tensorflowEncoderOps: EncoderOps = {
  // In a tidy because the reference dense leaves its pre-bias product behind when called outside one.
  dense: (x, kernel, bias) => tf.tidy(() => referenceEncoderOps.dense(x, kernel, bias)),
  attentionScores: referenceEncoderOps.attentionScores,
  attentionContext: referenceEncoderOps.attentionContext,
  embeddingLookup: scatterEmbeddingLookup,
  layerNorm: writtenOutLayerNorm,
  gelu: writtenOutGelu,
};
