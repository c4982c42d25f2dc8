/** A thumbnail's pixels, checked: `rgb` holds exactly width × height × 3 bytes, row-major. */
export interface ThumbnailPixels {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
}

/** The largest side a thumbnail may have. The engine writes 48 × 48; anything far larger is not a thumbnail. */
export const MAX_THUMBNAIL_SIDE = 512;

/**
 * Decodes a misclassified image's thumbnail (`{width, height, rgb: base64}`) into pixels, or says why it cannot:
 * the sides must be whole numbers from 1 to MAX_THUMBNAIL_SIDE and the base64 must decode to exactly
 * width × height × 3 bytes. The bytes are only ever drawn with putImageData, never turned into a URL.
 */
export function decodeThumbnail(value: unknown): ThumbnailPixels | string {
  if (typeof value !== 'object' || value === null) return 'no thumbnail';
  const { width, height, rgb } = value as Record<string, unknown>;
  if (!isSide(width) || !isSide(height)) {
    return `thumbnail size ${String(width)}×${String(height)} is not between 1 and ${MAX_THUMBNAIL_SIDE} pixels a side`;
  }
  const expected = width * height * 3;
  if (typeof rgb !== 'string') return 'thumbnail rgb is not a base64 string';
  // Checked before decoding, so that a huge string costs nothing.
  if (rgb.length % 4 !== 0) return 'thumbnail rgb is not valid base64';
  const held = (rgb.length / 4) * 3 - (rgb.endsWith('==') ? 2 : rgb.endsWith('=') ? 1 : 0);
  if (held !== expected) return `thumbnail rgb holds ${held} bytes, not ${width}×${height}×3 = ${expected}`;
  let binary: string;
  try {
    binary = atob(rgb);
  } catch {
    return 'thumbnail rgb is not valid base64';
  }
  if (binary.length !== expected) return `thumbnail rgb holds ${binary.length} bytes, not ${width}×${height}×3 = ${expected}`;
  const bytes = new Uint8Array(expected);
  for (let i = 0; i < expected; i++) bytes[i] = binary.charCodeAt(i);
  return { width, height, rgb: bytes };
}

function isSide(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_THUMBNAIL_SIDE;
}
