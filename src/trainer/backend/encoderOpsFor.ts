import { referenceEncoderOps, type EncoderOps } from './encoderOps';

/** The encoder products for the active backend. */
export function encoderOpsFor(_backend: string): EncoderOps {
  return referenceEncoderOps;
}
