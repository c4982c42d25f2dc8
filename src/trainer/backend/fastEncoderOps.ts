import * as tf from '@tensorflow/tfjs-core';
import type { EncoderOps } from './encoderOps';
import { encoderOpsFor } from './encoderOpsFor';

/**
 * EncoderOps as fast as the active backend allows, chosen at every call (see encoderOpsFor), so that one object
 * serves across a backend switch. Equal to referenceEncoderOps, values and gradients, to float32 rounding.
 */
export const fastEncoderOps: EncoderOps = {
  dense: (x, kernel, bias) => encoderOpsFor(tf.getBackend()).dense(x, kernel, bias),
  attentionScores: (q, k) => encoderOpsFor(tf.getBackend()).attentionScores(q, k),
  attentionContext: (probs, v) => encoderOpsFor(tf.getBackend()).attentionContext(probs, v),
  embeddingLookup: (table, ids) => encoderOpsFor(tf.getBackend()).embeddingLookup(table, ids),
  layerNorm: (x, gamma, beta, eps) => encoderOpsFor(tf.getBackend()).layerNorm(x, gamma, beta, eps),
  gelu: (x) => encoderOpsFor(tf.getBackend()).gelu(x),
};
