/**
 * mulberry32: a tiny 32-bit generator, plenty for shuffling rows. It is used instead of
 * Math.random so that the same `training.seed` gives the same split and batch order on every
 * machine and after a resume.
 */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed for one use of the run's seed (e.g. one epoch), so that epochs do not repeat each other's order. */
export function deriveSeed(seed: number, stream: number): number {
  // Multiplying by the golden-ratio constant spreads consecutive streams far apart in the state space.
  return ((seed >>> 0) ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
}

/** Fisher–Yates, in place. */
export function shuffleInPlace<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** The indices 0..count-1 in a seeded random order. */
export function seededPermutation(count: number, seed: number): number[] {
  return shuffleInPlace(
    Array.from({ length: count }, (_, i) => i),
    createRandom(seed),
  );
}
