import { seededPermutation } from './seededRandom';

/**
 * Holds out `round(rows × fraction)` rows for validation, picked by a seeded shuffle so that the
 * same seed always holds out the same rows. Both parts keep the file order, which makes them
 * easy to compare with the file. At least one row stays for training. The rounding matches the
 * row counts the config validator's dry run shows.
 */
export function splitForValidation<T>(examples: readonly T[], fraction: number, seed: number): { train: T[]; validation: T[] } {
  const heldOut = Math.min(Math.round(examples.length * fraction), Math.max(examples.length - 1, 0));
  const isHeldOut = new Uint8Array(examples.length);
  for (const index of seededPermutation(examples.length, seed).slice(0, heldOut)) isHeldOut[index] = 1;
  return {
    train: examples.filter((_, i) => !isHeldOut[i]),
    validation: examples.filter((_, i) => isHeldOut[i]),
  };
}
