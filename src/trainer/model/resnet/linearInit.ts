import { createRandom, deriveSeed } from '../../data/seededRandom';
import { hostTensor, type HostTensor } from '../namedTensors';

/**
 * `torch.nn.Linear`'s default initialisation, which transformers' ResNet keeps for its head: kaiming_uniform_ with
 * a = √5 on the weight, which is U(−1/√in, 1/√in), and the bias from the same range. Drawn on the host from the
 * seed, so that a seed gives the same head on every backend.
 */
export function linearInit(outFeatures: number, inFeatures: number, seed: number): { weight: HostTensor; bias: HostTensor } {
  if (!Number.isInteger(outFeatures) || outFeatures <= 0)
    throw new Error(`A classification head needs at least one label; it was given ${outFeatures}.`);
  const bound = 1 / Math.sqrt(inFeatures);
  const draw = (random: () => number) => (2 * random() - 1) * bound;
  const weightRandom = createRandom(deriveSeed(seed, 0));
  const biasRandom = createRandom(deriveSeed(seed, 1));
  return {
    weight: hostTensor(
      [outFeatures, inFeatures],
      Float32Array.from({ length: outFeatures * inFeatures }, () => draw(weightRandom)),
    ),
    bias: hostTensor(
      [outFeatures],
      Float32Array.from({ length: outFeatures }, () => draw(biasRandom)),
    ),
  };
}
