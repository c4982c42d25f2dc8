import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { dtypeOfData, elementCount, type HostTensor, type NamedTensors } from './namedTensors';
import { readRegularFile } from '../../shared/model/regularFile';

/**
 * The safetensors format (https://github.com/huggingface/safetensors), read and written directly: an 8-byte
 * little-endian header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
 * little-endian bytes. Half-precision weights are widened to F32 on read, because training runs in F32.
 */

export interface SafetensorsContents {
  tensors: NamedTensors;
  /** The header's `__metadata__`; transformers requires `format` (`pt`) there. */
  metadata: Record<string, string>;
}

/** The metadata PyTorch's writer puts there; `transformers` refuses a checkpoint whose `format` is missing. */
export const PYTORCH_METADATA: Readonly<Record<string, string>> = { format: 'pt' };

export const SHARD_INDEX_FILE = 'model.safetensors.index.json';
export const SINGLE_FILE = 'model.safetensors';

/** Bytes per element of every dtype the format defines, so that byte ranges can be checked even for dtypes we do not decode. */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  U64: 8,
  I32: 4,
  U32: 4,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

const READABLE_DTYPES = ['F32', 'F16', 'BF16', 'I64', 'I32'];

/** The Python reader's limit; a larger header is a corrupt length field rather than a real model. */
const MAX_HEADER_BYTES = 100_000_000;

if (endianness() !== 'LE') {
  // Typed arrays use the host's byte order and the format is little-endian; every platform Node ships for is LE.
  throw new Error('EmbedTune reads safetensors files only on little-endian machines.');
}

interface HeaderEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

export function readSafetensors(path: string): SafetensorsContents {
  return parseSafetensors(readRegularFile(path), path);
}

/**
 * Decodes a whole safetensors file held in `bytes`. F32/I32/I64 tensors whose bytes are suitably aligned are views
 * into `bytes` (no copy, so a large model is held once); the rest are copied. `source` names the file in errors.
 */
export function parseSafetensors(bytes: Uint8Array, source: string): SafetensorsContents {
  const fail = (problem: string): Error => new Error(`Safetensors file ${source}: ${problem}`);
  if (bytes.length < 8) throw fail(`is ${bytes.length} bytes long, too short to hold the 8-byte header length.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    throw fail(
      `the header length field says ${headerLength} bytes, but only ${bytes.length - 8} bytes follow it (truncated or not a safetensors file).`,
    );
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES))
    throw fail(`the header length field says ${headerLength} bytes, more than the ${MAX_HEADER_BYTES}-byte limit.`);
  const dataStart = 8 + Number(headerLength);
  const dataLength = bytes.length - dataStart;

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (error) {
    throw fail(`the header is not valid UTF-8 JSON (${(error as Error).message}).`);
  }
  if (!isPlainObject(header)) throw fail('the header is not a JSON object.');

  const metadata = parseMetadata(header['__metadata__'], fail);
  const entries = Object.entries(header)
    .filter(([name]) => name !== '__metadata__')
    .map(([name, value]) => parseEntry(name, value, dataLength, fail));
  checkCoverage(entries, dataLength, fail);

  const tensors: NamedTensors = new Map();
  for (const entry of entries) {
    tensors.set(entry.name, decodeTensor(bytes, dataStart, entry, fail));
  }
  return { tensors, metadata };
}

function parseMetadata(value: unknown, fail: (problem: string) => Error): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) throw fail('"__metadata__" is not an object of strings.');
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw fail(`"__metadata__"."${key}" is not a string.`);
  }
  return { ...(value as Record<string, string>) };
}

function parseEntry(name: string, value: unknown, dataLength: number, fail: (problem: string) => Error): HeaderEntry {
  const tensorFail = (problem: string): Error => fail(`tensor "${name}" ${problem}`);
  if (!isPlainObject(value)) throw tensorFail('has a header entry that is not an object.');
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) throw tensorFail(`has unknown dtype ${JSON.stringify(dtype)}.`);
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0)) {
    throw tensorFail(`has shape ${JSON.stringify(shape)}, which is not a list of non-negative integers.`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((offset) => Number.isSafeInteger(offset) && offset >= 0)) {
    throw tensorFail(`has data_offsets ${JSON.stringify(offsets)}, which is not a pair of non-negative integers.`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) throw tensorFail(`has data_offsets [${begin}, ${end}] that end before they begin.`);
  if (end > dataLength)
    throw tensorFail(`has data_offsets [${begin}, ${end}] past the end of the data (${dataLength} bytes; the file is truncated).`);
  const expectedBytes = elementCount(shape as number[]) * DTYPE_BYTES[dtype]!;
  if (end - begin !== expectedBytes) {
    throw tensorFail(`has ${end - begin} bytes of data, but ${dtype} with shape [${shape.join(', ')}] needs ${expectedBytes}.`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** Like the reference reader: byte ranges must tile the data exactly, so no bytes are shared, skipped or left over. */
function checkCoverage(entries: readonly HeaderEntry[], dataLength: number, fail: (problem: string) => Error): void {
  const ordered = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: HeaderEntry | undefined;
  for (const entry of ordered) {
    if (entry.begin < covered) {
      throw fail(
        `tensor "${entry.name}" (bytes ${entry.begin}-${entry.end}) overlaps tensor "${previous!.name}" (bytes ${previous!.begin}-${previous!.end}).`,
      );
    }
    if (entry.begin > covered)
      throw fail(`tensor "${entry.name}" starts at byte ${entry.begin}, leaving bytes ${covered}-${entry.begin} unused.`);
    covered = entry.end;
    previous = entry;
  }
  if (covered !== dataLength)
    throw fail(`the tensors cover ${covered} bytes of data but the file holds ${dataLength}; the header and data disagree.`);
}

function decodeTensor(bytes: Uint8Array, dataStart: number, entry: HeaderEntry, fail: (problem: string) => Error): HostTensor {
  const start = dataStart + entry.begin;
  const count = elementCount(entry.shape);
  const shape = entry.shape;
  switch (entry.dtype) {
    case 'F32':
      return { dtype: 'F32', shape, data: typedView(bytes, start, count, Float32Array) };
    case 'I32':
      return { dtype: 'I32', shape, data: typedView(bytes, start, count, Int32Array) };
    case 'I64':
      return { dtype: 'I64', shape, data: typedView(bytes, start, count, BigInt64Array) };
    case 'F16':
      return { dtype: 'F32', shape, data: widenFloat16(typedView(bytes, start, count, Uint16Array)) };
    case 'BF16':
      return { dtype: 'F32', shape, data: widenBfloat16(typedView(bytes, start, count, Uint16Array)) };
    default:
      throw fail(`tensor "${entry.name}" has dtype ${entry.dtype}; EmbedTune reads only ${READABLE_DTYPES.join(', ')}.`);
  }
}

type TypedArrayClass<T> = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  new (length: number): T;
  BYTES_PER_ELEMENT: number;
};

/** A view over the file's bytes when the offset allows one (typed arrays need element-aligned offsets), else a copy. */
function typedView<T extends { buffer: ArrayBufferLike }>(bytes: Uint8Array, start: number, count: number, Kind: TypedArrayClass<T>): T {
  const absolute = bytes.byteOffset + start;
  if (absolute % Kind.BYTES_PER_ELEMENT === 0) return new Kind(bytes.buffer, absolute, count);
  const copy = new Kind(count);
  new Uint8Array(copy.buffer).set(bytes.subarray(start, start + count * Kind.BYTES_PER_ELEMENT));
  return copy;
}

let float16Table: Float32Array | undefined;

/** IEEE 754 binary16 → binary32, through a 65,536-entry table since every bit pattern is cheap to precompute. */
export function widenFloat16(halves: Uint16Array): Float32Array {
  float16Table ??= buildFloat16Table();
  const table = float16Table;
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) out[i] = table[halves[i]!]!;
  return out;
}

function buildFloat16Table(): Float32Array {
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    if (exponent === 0) table[bits] = sign * fraction * 2 ** -24;
    else if (exponent === 31) table[bits] = fraction === 0 ? sign * Infinity : NaN;
    else table[bits] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return table;
}

/** bfloat16 is the top half of a binary32, so widening is a shift. */
export function widenBfloat16(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) outBits[i] = halves[i]! << 16;
  return out;
}

/**
 * Writes `tensors` so that Python's `safetensors` and `transformers` load them. Larger elements come first (then by
 * name) so every tensor stays aligned for readers that map the file. The file appears only once complete: it is
 * written beside the target and renamed over it.
 */
export function writeSafetensors(path: string, tensors: NamedTensors, metadata: Readonly<Record<string, string>> = PYTORCH_METADATA): void {
  const { header, ordered } = layOut(tensors, metadata, path);
  const temporary = `${path}.tmp-${process.pid}`;
  const fd = openSync(temporary, 'w');
  try {
    writeFully(fd, header);
    for (const [, tensor] of ordered) writeFully(fd, new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength));
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temporary, path);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // Already closed: the failure came from the rename.
    }
    rmSync(temporary, { force: true });
    throw error;
  }
}

function layOut(
  tensors: NamedTensors,
  metadata: Readonly<Record<string, string>>,
  path: string,
): { header: Uint8Array; ordered: [string, HostTensor][] } {
  for (const [name, tensor] of tensors) checkWritable(name, tensor, path);
  const ordered = [...tensors].sort(
    ([nameA, a], [nameB, b]) => b.data.BYTES_PER_ELEMENT - a.data.BYTES_PER_ELEMENT || (nameA < nameB ? -1 : nameA > nameB ? 1 : 0),
  );
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = { ...metadata };
  let offset = 0;
  for (const [name, tensor] of ordered) {
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.data.byteLength] };
    offset += tensor.data.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  // The Python writer pads with spaces to a multiple of 8 so the data starts aligned; we do the same.
  const padded = Math.ceil(json.length / 8) * 8;
  const bytes = Buffer.alloc(8 + padded, 0x20);
  bytes.writeBigUInt64LE(BigInt(padded), 0);
  json.copy(bytes, 8);
  return { header: bytes, ordered };
}

function checkWritable(name: string, tensor: HostTensor, path: string): void {
  const fail = (problem: string): Error => new Error(`Cannot write ${path}: tensor "${name}" ${problem}`);
  if (name === '__metadata__') throw fail('uses the reserved name "__metadata__".');
  if (!tensor.shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0))
    throw fail(`has shape [${tensor.shape.join(', ')}], which is not all non-negative integers.`);
  if (dtypeOfData(tensor.data) !== tensor.dtype) throw fail(`says dtype ${tensor.dtype} but holds ${tensor.data.constructor.name}.`);
  const expected = elementCount(tensor.shape);
  if (tensor.data.length !== expected)
    throw fail(`has ${tensor.data.length} values, but shape [${tensor.shape.join(', ')}] needs ${expected}.`);
}

function writeFully(fd: number, chunk: Uint8Array): void {
  let written = 0;
  while (written < chunk.length) written += writeSync(fd, chunk, written, chunk.length - written);
}

/**
 * Reads a checkpoint split over several files, as `transformers` saves large models: the index's `weight_map`
 * names the shard holding each tensor. Each shard is read once.
 */
export function readShardedSafetensors(indexPath: string): SafetensorsContents {
  let index: unknown;
  try {
    index = JSON.parse(readRegularFile(indexPath, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read the shard index ${indexPath}: ${(error as Error).message}`);
  }
  const weightMap = isPlainObject(index) ? index['weight_map'] : undefined;
  if (!isPlainObject(weightMap)) throw new Error(`Shard index ${indexPath} has no "weight_map" object naming each tensor's file.`);

  const namesByShard = new Map<string, string[]>();
  for (const [name, shard] of Object.entries(weightMap)) {
    if (typeof shard !== 'string' || shard !== basename(shard)) {
      throw new Error(
        `Shard index ${indexPath} maps tensor "${name}" to ${JSON.stringify(shard)}, which is not a file name in the same folder.`,
      );
    }
    namesByShard.set(shard, [...(namesByShard.get(shard) ?? []), name]);
  }

  const tensors: NamedTensors = new Map();
  const metadata: Record<string, string> = {};
  for (const [shard, names] of namesByShard) {
    const shardPath = join(dirname(indexPath), shard);
    if (!existsSync(shardPath))
      throw new Error(`Shard index ${indexPath} lists ${shard} (for tensor "${names[0]}"), but ${shardPath} does not exist.`);
    const contents = readSafetensors(shardPath);
    Object.assign(metadata, contents.metadata);
    for (const name of names) {
      const tensor = contents.tensors.get(name);
      if (!tensor) throw new Error(`Shard index ${indexPath} says tensor "${name}" is in ${shard}, but ${shardPath} has no such tensor.`);
      tensors.set(name, tensor);
    }
  }
  return { tensors, metadata };
}

/** Reads a model folder's weights, from `model.safetensors` or from shards listed in `model.safetensors.index.json`. */
export function readSafetensorsFolder(folder: string): SafetensorsContents {
  const single = join(folder, SINGLE_FILE);
  if (existsSync(single)) return readSafetensors(single);
  const index = join(folder, SHARD_INDEX_FILE);
  if (existsSync(index)) return readShardedSafetensors(index);
  const pickled = ['pytorch_model.bin', 'tf_model.h5', 'flax_model.msgpack'].filter((name) => existsSync(join(folder, name)));
  if (pickled.length > 0) {
    throw new Error(
      `${folder} has weights only as ${pickled.join(', ')}, which EmbedTune cannot read; it needs ${SINGLE_FILE}. Convert them once with Python: ` +
        `python -c "from transformers import AutoModel; AutoModel.from_pretrained(r'${folder}').save_pretrained(r'${folder}', safe_serialization=True)"`,
    );
  }
  throw new Error(`${folder} has no ${SINGLE_FILE} or ${SHARD_INDEX_FILE}, so it holds no model weights EmbedTune can read.`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
