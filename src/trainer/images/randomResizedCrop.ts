/**
 * torchvision's RandomResizedCrop.get_params: up to ten tries at a region whose area is a uniform fraction `scale`
 * of the image and whose aspect ratio is log-uniform in `ratio`, placed uniformly; after ten misses, the largest
 * central region within `ratio`. Sizes are rounded as Python's round() does (half to even). The draws come from
 * EmbedTune's seeded generator, not torch's, so the regions follow the same distribution, not the same numbers.
 */

export interface CropRegion {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export interface RandomResizedCropSettings {
  readonly scale: readonly [number, number];
  readonly ratio: readonly [number, number];
}

const ATTEMPTS = 10;

export function randomResizedCropRegion(
  width: number,
  height: number,
  settings: RandomResizedCropSettings,
  random: () => number,
): CropRegion {
  const area = width * height;
  const [minScale, maxScale] = settings.scale;
  const logRatio = [Math.log(settings.ratio[0]), Math.log(settings.ratio[1])] as const;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const targetArea = area * uniform(random, minScale, maxScale);
    const aspect = Math.exp(uniform(random, logRatio[0], logRatio[1]));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = Math.floor(random() * (height - h + 1));
      const left = Math.floor(random() * (width - w + 1));
      return { left, top, width: w, height: h };
    }
  }
  return centralFallback(width, height, settings.ratio);
}

function centralFallback(width: number, height: number, ratio: readonly [number, number]): CropRegion {
  const inRatio = width / height;
  const minRatio = Math.min(...ratio);
  const maxRatio = Math.max(...ratio);
  let w = width;
  let h = height;
  if (inRatio < minRatio) h = roundHalfEven(w / minRatio);
  else if (inRatio > maxRatio) w = roundHalfEven(h * maxRatio);
  return { left: Math.floor((width - w) / 2), top: Math.floor((height - h) / 2), width: w, height: h };
}

function uniform(random: () => number, low: number, high: number): number {
  return low + (high - low) * random();
}

/** Python's round(): halves go to the even neighbour. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}
