import { readFileSync, statSync } from 'node:fs';
import { imageStructureProblem } from '../images/imageStructure';

/**
 * Whether an image file can be trained on, checked when the data loads so that a bad image is a bad row (reported
 * with its file, or skipped and counted) rather than a crash in the middle of an epoch. The file's structure is
 * checked whole (PNG chunks with their CRCs up to IEND, JPEG segments and scans up to EOI; see imageStructure.ts)
 * rather than its pixels decoded: that finds the missing, empty, truncated and mislabelled files as surely, at a
 * hundredth of the time, which matters for folders of thousands of photos. Returns the problem, phrased to follow
 * the file's path (`is empty (0 bytes)`), or undefined.
 */
export function imageProblem(path: string): string | undefined {
  let bytes: Buffer;
  try {
    if (!statSync(path).isFile()) return 'is not a file';
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : `cannot be read (${(error as Error).message})`;
  }
  return imageStructureProblem(bytes);
}
