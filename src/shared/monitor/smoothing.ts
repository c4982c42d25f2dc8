/**
 * Exponential moving average with TensorBoard's debiasing: early points are not pulled towards zero. `weight` is
 * the smoothing slider, 0 (none) to just under 1. Null values (a non-finite loss) stay null and do not move the
 * average.
 */
export function emaSmooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  const w = Math.min(Math.max(weight, 0), 0.999);
  const out: (number | null)[] = new Array(values.length);
  let last = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === null || value === undefined || !Number.isFinite(value)) {
      out[i] = null;
      continue;
    }
    last = last * w + (1 - w) * value;
    count++;
    const debias = w === 0 ? 1 : 1 - w ** count;
    out[i] = last / debias;
  }
  return out;
}
