import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * A quick look at an image file without decoding it: the PNG signature and IHDR chunk, or the JPEG start-of-image
 * marker and the start-of-frame segment, plus the file's last bytes for the end marker a truncated file lacks. A few
 * small reads per file, so the language server can check a sample of a large folder on a keystroke.
 */

export type ImageHeader =
  | { readonly ok: true; readonly format: 'png' | 'jpeg'; readonly width: number; readonly height: number }
  | { readonly ok: false; readonly problem: string };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** The IEND chunk every complete PNG ends with: length 0, type IEND, its fixed CRC. */
const PNG_END = Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);
/** Bytes read from the start: the PNG signature and IHDR, or a JPEG's first segments. */
const HEAD_BYTES = 64;
/** Encoders may pad a JPEG after its end-of-image marker; it is looked for among the last bytes only. */
const JPEG_TAIL_BYTES = 1024;
/** Segments walked looking for a JPEG's frame header before giving up (EXIF and ICC segments come first). */
const MAX_JPEG_SEGMENTS = 64;

/** Reads the header of one file; never throws (an unreadable file is a result with its problem). */
export function readImageHeader(path: string): ImageHeader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = errorCode(error);
    return { ok: false, problem: code === 'ENOENT' ? 'does not exist' : `cannot be opened (${code})` };
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return { ok: false, problem: 'is empty (0 bytes)' };
    const head = readAt(fd, 0, Math.min(HEAD_BYTES, size));
    if (head.subarray(0, 8).equals(PNG_SIGNATURE)) return pngHeader(fd, head, size);
    if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return jpegHeader(fd, size);
    return { ok: false, problem: 'is neither a PNG nor a JPEG (its first bytes match neither signature)' };
  } catch (error) {
    return { ok: false, problem: `cannot be read (${errorCode(error)})` };
  } finally {
    closeSync(fd);
  }
}

function pngHeader(fd: number, head: Buffer, size: number): ImageHeader {
  if (head.length < 33 || head.toString('latin1', 12, 16) !== 'IHDR' || head.readUInt32BE(8) !== 13)
    return { ok: false, problem: 'is not a readable PNG: no IHDR chunk after the signature' };
  const width = head.readUInt32BE(16);
  const height = head.readUInt32BE(20);
  if (width === 0 || height === 0) return { ok: false, problem: `is not a readable PNG: its IHDR says ${width}×${height}` };
  if (size < 8 + 25 + PNG_END.length || !readAt(fd, size - PNG_END.length, PNG_END.length).equals(PNG_END))
    return { ok: false, problem: 'is a truncated PNG: it does not end with an IEND chunk' };
  return { ok: true, format: 'png', width, height };
}

/** Walks the marker segments from SOI to the first SOF (baseline, progressive, lossless: C0–CF but C4, C8, CC). */
function jpegHeader(fd: number, size: number): ImageHeader {
  let position = 2;
  let frame: { width: number; height: number } | undefined;
  for (let segment = 0; segment < MAX_JPEG_SEGMENTS && position + 4 <= size; segment++) {
    const marker = readAt(fd, position, 4);
    if (marker[0] !== 0xff) return { ok: false, problem: `is not a readable JPEG: no marker at byte ${position}` };
    const type = marker[1]!;
    // Fill bytes (FF FF) may precede a marker.
    if (type === 0xff) {
      position += 1;
      continue;
    }
    const length = marker.readUInt16BE(2);
    if (type >= 0xc0 && type <= 0xcf && type !== 0xc4 && type !== 0xc8 && type !== 0xcc) {
      if (position + 9 > size) break;
      const sof = readAt(fd, position + 5, 4);
      frame = { height: sof.readUInt16BE(0), width: sof.readUInt16BE(2) };
      break;
    }
    if (type === 0xd9 || type === 0xda) break;
    if (length < 2) return { ok: false, problem: `is not a readable JPEG: a segment at byte ${position} has length ${length}` };
    position += 2 + length;
  }
  if (!frame) return { ok: false, problem: 'is not a readable JPEG: no frame header (SOF) among its first segments' };
  if (frame.width === 0 || frame.height === 0)
    return { ok: false, problem: `is not a readable JPEG: its frame header says ${frame.width}×${frame.height}` };
  const tailLength = Math.min(JPEG_TAIL_BYTES, size);
  const tail = readAt(fd, size - tailLength, tailLength);
  if (tail.lastIndexOf(Buffer.from([0xff, 0xd9])) < 0)
    return { ok: false, problem: 'is a truncated JPEG: no end-of-image marker (FFD9) at its end' };
  return { ok: true, format: 'jpeg', ...frame };
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  const read = readSync(fd, buffer, 0, length, position);
  return buffer.subarray(0, read);
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message ?? String(error);
}
