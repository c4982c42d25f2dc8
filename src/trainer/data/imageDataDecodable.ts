import { existsSync } from 'node:fs';
import { decodeImageFile, ImageDecodeError } from '../images/decodeImage';

/**
 * Whether an image file can be trained on, checked when the data loads so that a bad image is a bad row (reported
 * with its file, or skipped and counted) rather than a crash in the middle of an epoch. The whole file is decoded,
 * not just its header: a truncated PNG or JPEG has a valid header, and only decoding its body finds the end missing.
 * Returns the problem, or undefined when the image decodes.
 */
export function imageProblem(path: string): string | undefined {
  if (!existsSync(path)) return `${path} does not exist`;
  try {
    decodeImageFile(path);
    return undefined;
  } catch (error) {
    if (error instanceof ImageDecodeError) return error.message.replace(/\.$/, '');
    throw error;
  }
}
