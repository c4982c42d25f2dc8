/**
 * MPNet's relative position buckets for a sequence of `seqLength` tokens, row-major [query, key], as transformers'
 * `MPNetEncoder.relative_position_bucket`: half the buckets for keys before the query and half for keys after; the
 * nearest distances get a bucket each, farther ones share log-spaced buckets up to `maxDistance`. Torch computes the
 * logarithm in float32 and truncates, so this does too (Math.fround at each step): at distances such as 16, where
 * the exact value is a whole number, float64 would land on the other side of it.
 */
export function relativePositionBuckets(seqLength: number, numBuckets: number, maxDistance: number): Int32Array {
  const cached = cache.get(`${seqLength},${numBuckets},${maxDistance}`);
  if (cached) return cached;
  const half = Math.trunc(numBuckets / 2);
  const maxExact = Math.trunc(half / 2);
  const logRange = Math.fround(Math.log(maxDistance / maxExact));
  const bucketOf = (relative: number): number => {
    const n = -relative;
    const side = n < 0 ? half : 0;
    const distance = Math.abs(n);
    if (distance < maxExact) return side + distance;
    const scaled = Math.fround(Math.fround(Math.fround(Math.log(Math.fround(distance / maxExact))) / logRange) * (half - maxExact));
    return side + Math.min(maxExact + Math.trunc(scaled), half - 1);
  };
  const buckets = new Int32Array(seqLength * seqLength);
  for (let query = 0; query < seqLength; query++) {
    for (let key = 0; key < seqLength; key++) buckets[query * seqLength + key] = bucketOf(key - query);
  }
  // A few recent lengths are kept: a run pads to a handful of lengths, and a long one's table is a megabyte.
  if (cache.size >= CACHED_LENGTHS) cache.delete(cache.keys().next().value!);
  cache.set(`${seqLength},${numBuckets},${maxDistance}`, buckets);
  return buckets;
}

const CACHED_LENGTHS = 16;
const cache = new Map<string, Int32Array>();
