import assert from 'node:assert/strict';
import { TEST_PYTHON } from '../helpers/pythonPeer';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { hostTensor, type NamedTensors } from '../../src/trainer/model/namedTensors';
import {
  parseSafetensors,
  readSafetensors,
  readSafetensorsFolder,
  widenBfloat16,
  widenFloat16,
  writeSafetensors,
} from '../../src/trainer/model/safetensors';
import { TempWorkspace } from '../helpers/tempWorkspace';

const workspace = new TempWorkspace();
after(() => workspace.dispose());

/** A safetensors file assembled from its parts, exactly as the format describes, without our writer. */
function handMadeFile(headerJson: string, data: number[]): Buffer {
  const header = Buffer.from(headerJson, 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([length, header, Buffer.from(data)]);
}

function sampleTensors(): NamedTensors {
  return new Map([
    ['matrix', hostTensor([2, 3], Float32Array.from([1, -2, 3.5, 1e-30, -0, 65504]))],
    ['counts', hostTensor([4], Int32Array.from([0, -1, 2147483647, -2147483648]))],
    ['ids', hostTensor([2, 2], BigInt64Array.from([0n, -3n, 9007199254740993n, -(2n ** 63n)]))],
    ['scalar', hostTensor([], Float32Array.from([0.25]))],
    ['empty', hostTensor([0], new Float32Array(0))],
    ['empty_rows', hostTensor([3, 0], new Int32Array(0))],
  ]);
}

describe('safetensors round trip', () => {
  it('reads back every dtype, shape and value it wrote, with the metadata', () => {
    const path = workspace.path('roundtrip.safetensors');
    const written = sampleTensors();
    writeSafetensors(path, written, { format: 'pt', note: 'hello' });
    const { tensors, metadata } = readSafetensors(path);
    assert.deepEqual(metadata, { format: 'pt', note: 'hello' });
    assert.deepEqual([...tensors.keys()].sort(), [...written.keys()].sort());
    for (const [name, tensor] of written) {
      const read = tensors.get(name)!;
      assert.equal(read.dtype, tensor.dtype, name);
      assert.deepEqual(read.shape, tensor.shape, name);
      assert.deepEqual(Array.from(read.data as ArrayLike<number | bigint>), Array.from(tensor.data as ArrayLike<number | bigint>), name);
    }
    assert.ok(Object.is(tensors.get('matrix')!.data[4], -0), 'negative zero keeps its sign bit');
  });

  it('lays the file out as the Python writer does: space-padded header, 8-byte larger elements first', () => {
    const path = workspace.path('layout.safetensors');
    writeSafetensors(path, sampleTensors());
    const bytes = readFileSync(path);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    assert.equal(headerLength % 8, 0);
    const headerText = bytes.toString('utf8', 8, 8 + headerLength);
    assert.match(headerText, /^\{.*\} *$/);
    const header = JSON.parse(headerText) as Record<string, { dtype: string; data_offsets: [number, number] }>;
    assert.deepEqual(header['__metadata__'], { format: 'pt' });
    assert.deepEqual(header['ids']!.data_offsets, [0, 32], 'the 8-byte I64 tensor comes first so it stays aligned');
    assert.equal(bytes.length, 8 + headerLength + 24 + 16 + 32 + 4);
    // -3 as a little-endian two's-complement int64, straight from the file's bytes.
    assert.deepEqual([...bytes.subarray(8 + headerLength + 8, 8 + headerLength + 16)], [0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  });

  it('leaves no temporary file behind and replaces an existing file', () => {
    const path = workspace.path('atomic/model.safetensors');
    workspace.write('atomic/model.safetensors', 'old contents');
    writeSafetensors(path, new Map([['x', hostTensor([1], Float32Array.from([7]))]]));
    assert.deepEqual(readdirSync(workspace.path('atomic')), ['model.safetensors']);
    assert.deepEqual(Array.from(readSafetensors(path).tensors.get('x')!.data as ArrayLike<number>), [7]);
  });

  it('refuses to write a tensor whose data does not fill its shape, naming the tensor and leaving no file', () => {
    const path = workspace.path('refused/model.safetensors');
    workspace.write('refused/placeholder', '');
    const bad: NamedTensors = new Map([['encoder.bad', { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) }]]);
    assert.throws(() => writeSafetensors(path, bad), /tensor "encoder\.bad" has 3 values, but shape \[2, 2\] needs 4/);
    assert.deepEqual(readdirSync(workspace.path('refused')), ['placeholder']);
  });

  it('refuses a tensor whose dtype does not match its typed array', () => {
    const bad: NamedTensors = new Map([['w', { dtype: 'I32', shape: [1], data: new Float32Array(1) }]]);
    assert.throws(() => writeSafetensors(workspace.path('dtype.safetensors'), bad), /tensor "w" says dtype I32 but holds Float32Array/);
  });
});

describe('safetensors reader follows the specification, not just our writer', () => {
  it('reads a file assembled byte by byte, with an unpadded header', () => {
    const header =
      '{"__metadata__":{"format":"pt"},"b":{"dtype":"I64","shape":[],"data_offsets":[8,16]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    // 1.0f = 0x3F800000, -2.5f = 0xC0200000, little-endian; then int64 -3.
    const data = [0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    const { tensors, metadata } = parseSafetensors(handMadeFile(header, data), 'hand.safetensors');
    assert.deepEqual(metadata, { format: 'pt' });
    assert.deepEqual(tensors.get('a'), { dtype: 'F32', shape: [2], data: Float32Array.from([1, -2.5]) });
    assert.deepEqual(tensors.get('b'), { dtype: 'I64', shape: [], data: BigInt64Array.from([-3n]) });
  });

  it('views aligned tensors in the file buffer and copies unaligned ones', () => {
    // F16 [3] takes 6 bytes, so the F32 after it starts at an odd multiple of 2 and cannot be viewed in place.
    const header = '{"h":{"dtype":"F16","shape":[3],"data_offsets":[0,6]},"f":{"dtype":"F32","shape":[1],"data_offsets":[6,10]}}';
    const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
    // A fresh array starts at byte 0 of its buffer, so the data section starts 8-aligned and "f" sits at 2 mod 4.
    const file = new Uint8Array(handMadeFile(padded, [0x00, 0x3c, 0x00, 0xc0, 0x00, 0x7c, 0x00, 0x00, 0x80, 0x3f]));
    const { tensors } = parseSafetensors(file, 'mixed.safetensors');
    assert.deepEqual(Array.from(tensors.get('h')!.data as ArrayLike<number>), [1, -2, Infinity]);
    assert.equal(tensors.get('h')!.dtype, 'F32', 'F16 is widened to F32');
    assert.deepEqual(Array.from(tensors.get('f')!.data as ArrayLike<number>), [1]);
    assert.notEqual(tensors.get('f')!.data.buffer, file.buffer, 'an unaligned tensor is a copy');

    const aligned = readSafetensors(writeSample());
    const matrix = aligned.tensors.get('matrix')!.data;
    assert.equal(matrix.buffer, aligned.tensors.get('ids')!.data.buffer, 'aligned tensors share the one file buffer');
  });
});

function writeSample(): string {
  const path = workspace.path('sample.safetensors');
  writeSafetensors(path, sampleTensors());
  return path;
}

describe('half-precision decoding', () => {
  it('decodes float16 bit patterns, including subnormals, infinities and NaN', () => {
    const bits = [0x3c00, 0xc000, 0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x3555];
    const expected = [1, -2, 0, -0, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, 65504, Infinity, -Infinity, Math.fround(0.333251953125)];
    const decoded = widenFloat16(Uint16Array.from(bits));
    assert.deepEqual(Array.from(decoded), expected);
    assert.ok(Object.is(decoded[3], -0));
    assert.ok(Number.isNaN(widenFloat16(Uint16Array.from([0x7e00]))[0]));
  });

  it('decodes bfloat16 bit patterns, including subnormals and infinities', () => {
    const bits = [0x3f80, 0xc000, 0x4049, 0x0001, 0x7f80, 0xff80, 0x8000];
    const expected = [1, -2, 3.140625, Math.fround(2 ** -133), Infinity, -Infinity, -0];
    assert.deepEqual(Array.from(widenBfloat16(Uint16Array.from(bits))), expected);
    assert.ok(Number.isNaN(widenBfloat16(Uint16Array.from([0x7fc0]))[0]));
  });

  it('reads a BF16 tensor from a file as F32', () => {
    const file = handMadeFile('{"w":{"dtype":"BF16","shape":[2],"data_offsets":[0,4]}}', [0x80, 0x3f, 0x00, 0xc0]);
    assert.deepEqual(parseSafetensors(file, 'bf16.safetensors').tensors.get('w'), {
      dtype: 'F32',
      shape: [2],
      data: Float32Array.from([1, -2]),
    });
  });
});

describe('corrupted safetensors files give errors naming the file and the tensor', () => {
  const fourFloats = [0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64];

  it('a file cut short', () => {
    const file = handMadeFile('{"layer.weight":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', fourFloats).subarray(0, -3);
    assert.throws(
      () => parseSafetensors(file, 'cut.safetensors'),
      /cut\.safetensors: tensor "layer\.weight" has data_offsets \[0, 16\] past the end of the data \(13 bytes/,
    );
  });

  it('a header length larger than the file', () => {
    const file = handMadeFile('{}', []);
    file.writeBigUInt64LE(1000n);
    assert.throws(
      () => parseSafetensors(file, 'big.safetensors'),
      /big\.safetensors: the header length field says 1000 bytes, but only 2 bytes follow/,
    );
  });

  it('a file too short to have a header', () => {
    assert.throws(() => parseSafetensors(Buffer.from([1, 2, 3]), 'tiny.safetensors'), /tiny\.safetensors: is 3 bytes long/);
  });

  it('a byte count that does not match the shape', () => {
    const file = handMadeFile('{"q.bias":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}', fourFloats);
    assert.throws(
      () => parseSafetensors(file, 'm.safetensors'),
      /tensor "q\.bias" has 16 bytes of data, but F32 with shape \[3\] needs 12/,
    );
  });

  it('overlapping tensors', () => {
    const header = '{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}';
    assert.throws(
      () => parseSafetensors(handMadeFile(header, fourFloats), 'o.safetensors'),
      /tensor "b" \(bytes 8-16\) overlaps tensor "a" \(bytes 0-12\)/,
    );
  });

  it('bytes no tensor claims', () => {
    const header = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
    assert.throws(
      () => parseSafetensors(handMadeFile(header, fourFloats.slice(0, 12)), 'g.safetensors'),
      /tensor "b" starts at byte 8, leaving bytes 4-8 unused/,
    );
    const trailing = '{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}';
    assert.throws(
      () => parseSafetensors(handMadeFile(trailing, fourFloats), 't.safetensors'),
      /cover 12 bytes of data but the file holds 16/,
    );
  });

  it('a header that is not JSON, an unknown dtype, a dtype we cannot decode, and a bad shape', () => {
    assert.throws(() => parseSafetensors(handMadeFile('{"a":', []), 'j.safetensors'), /j\.safetensors: the header is not valid UTF-8 JSON/);
    const unknown = '{"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}}';
    assert.throws(
      () => parseSafetensors(handMadeFile(unknown, fourFloats.slice(0, 4)), 'u.safetensors'),
      /tensor "a" has unknown dtype "F33"/,
    );
    const double = '{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}';
    assert.throws(
      () => parseSafetensors(handMadeFile(double, fourFloats), 'd.safetensors'),
      /tensor "a" has dtype F64; EmbedTune reads only F32, F16, BF16, I64, I32/,
    );
    const shape = '{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}';
    assert.throws(() => parseSafetensors(handMadeFile(shape, fourFloats.slice(0, 4)), 's.safetensors'), /tensor "a" has shape \[-1\]/);
  });
});

describe('checkpoint folders', () => {
  it('loads a sharded checkpoint through model.safetensors.index.json', () => {
    const folder = workspace.path('sharded');
    workspace.write('sharded/.keep', '');
    writeSafetensors(`${folder}/model-00001-of-00002.safetensors`, new Map([['a', hostTensor([2], Float32Array.from([1, 2]))]]));
    writeSafetensors(
      `${folder}/model-00002-of-00002.safetensors`,
      new Map([
        ['b', hostTensor([1], Int32Array.from([5]))],
        ['unlisted', hostTensor([1], Int32Array.from([9]))],
      ]),
    );
    const weightMap = { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' };
    writeFileSync(`${folder}/model.safetensors.index.json`, JSON.stringify({ metadata: { total_size: 12 }, weight_map: weightMap }));
    const { tensors, metadata } = readSafetensorsFolder(folder);
    assert.deepEqual([...tensors.keys()].sort(), ['a', 'b']);
    assert.deepEqual(Array.from(tensors.get('a')!.data as ArrayLike<number>), [1, 2]);
    assert.deepEqual(Array.from(tensors.get('b')!.data as ArrayLike<number>), [5]);
    assert.equal(metadata['format'], 'pt');
  });

  it('names the tensor and shard when the index and the shards disagree', () => {
    const folder = workspace.path('badshards');
    workspace.write('badshards/.keep', '');
    writeSafetensors(`${folder}/one.safetensors`, new Map([['a', hostTensor([1], Float32Array.from([1]))]]));
    writeFileSync(
      `${folder}/model.safetensors.index.json`,
      JSON.stringify({ weight_map: { a: 'one.safetensors', ghost: 'one.safetensors' } }),
    );
    assert.throws(
      () => readSafetensorsFolder(folder),
      /says tensor "ghost" is in one\.safetensors, but .*one\.safetensors has no such tensor/,
    );
    writeFileSync(`${folder}/model.safetensors.index.json`, JSON.stringify({ weight_map: { a: 'two.safetensors' } }));
    assert.throws(() => readSafetensorsFolder(folder), /lists two\.safetensors \(for tensor "a"\), but .*two\.safetensors does not exist/);
  });

  it('explains how to convert a folder that has only PyTorch pickle weights', () => {
    workspace.write('pickled/pytorch_model.bin', 'not really');
    assert.throws(
      () => readSafetensorsFolder(workspace.path('pickled')),
      /has weights only as pytorch_model\.bin.*save_pretrained\(.*safe_serialization=True\)/,
    );
    assert.ok(!existsSync(workspace.path('pickled/model.safetensors')));
  });
});

const pythonProblem = pythonLacks('import safetensors, numpy');

describe('interoperability with Python safetensors', () => {
  it('Python reads our file and we read Python’s', { skip: pythonProblem && `Python check skipped: ${pythonProblem}` }, () => {
    const ours = workspace.path('ours.safetensors');
    writeSafetensors(ours, sampleTensors());
    const theirs = workspace.path('theirs.safetensors');
    const script = `
import json, sys, numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file
loaded = load_file(sys.argv[1])
with safe_open(sys.argv[1], framework="numpy") as f:
    metadata = f.metadata()
out = {"metadata": metadata, "tensors": {k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": [str(x) for x in v.reshape(-1).tolist()]} for k, v in loaded.items()}}
save_file({
    "half": np.array([1.0, -2.0, 0.5, 65504.0], dtype=np.float16).reshape(2, 2),
    "single": np.array([[0.1, -0.2, 3.0]], dtype=np.float32),
    "long": np.array([2**40, -7], dtype=np.int64),
    "int": np.array(42, dtype=np.int32),
}, sys.argv[2], metadata={"format": "pt"})
print(json.dumps(out))
`;
    const run = spawnSync(TEST_PYTHON, ['-c', script, ours, theirs], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const seen = JSON.parse(run.stdout) as {
      metadata: Record<string, string>;
      tensors: Record<string, { dtype: string; shape: number[]; values: string[] }>;
    };
    assert.deepEqual(seen.metadata, { format: 'pt' });
    assert.deepEqual(seen.tensors['matrix'], {
      dtype: 'float32',
      shape: [2, 3],
      values: ['1.0', '-2.0', '3.5', '1.0000000031710769e-30', '-0.0', '65504.0'],
    });
    assert.deepEqual(seen.tensors['ids'], {
      dtype: 'int64',
      shape: [2, 2],
      values: ['0', '-3', '9007199254740993', '-9223372036854775808'],
    });
    assert.deepEqual(seen.tensors['counts']!.values, ['0', '-1', '2147483647', '-2147483648']);
    assert.deepEqual(seen.tensors['scalar'], { dtype: 'float32', shape: [], values: ['0.25'] });
    assert.deepEqual(seen.tensors['empty'], { dtype: 'float32', shape: [0], values: [] });
    assert.deepEqual(seen.tensors['empty_rows'], { dtype: 'int32', shape: [3, 0], values: [] });

    const { tensors, metadata } = readSafetensors(theirs);
    assert.deepEqual(metadata, { format: 'pt' });
    assert.deepEqual(tensors.get('half'), { dtype: 'F32', shape: [2, 2], data: Float32Array.from([1, -2, 0.5, 65504]) });
    assert.deepEqual(tensors.get('single'), { dtype: 'F32', shape: [1, 3], data: Float32Array.from([0.1, -0.2, 3]) });
    assert.deepEqual(tensors.get('long'), { dtype: 'I64', shape: [2], data: BigInt64Array.from([2n ** 40n, -7n]) });
    assert.deepEqual(tensors.get('int'), { dtype: 'I32', shape: [], data: Int32Array.from([42]) });
  });
});

/** Why Python cannot run `code`, or undefined when it can. */
function pythonLacks(code: string): string | undefined {
  const probe = spawnSync(TEST_PYTHON, ['-c', code], { encoding: 'utf8' });
  if (probe.error) return `${TEST_PYTHON} is not available (${probe.error.message})`;
  if (probe.status !== 0) return `${TEST_PYTHON} -c '${code}' failed: ${probe.stderr.trim().split('\n').pop()}`;
  return undefined;
}
