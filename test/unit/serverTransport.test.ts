import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { StreamMessageReader, type Message, type RemoteConsole } from 'vscode-languageserver/node';
import { routeConsoleToClient } from '../../src/server/transport/consoleToClient';
import { FramedStreamMessageReader } from '../../src/server/transport/framedStreamMessageReader';
import { FramedStreamMessageWriter, frameOf } from '../../src/server/transport/framedStreamMessageWriter';

/** A stream that keeps every chunk as it was handed to it, one entry per write. */
function recordingStream(fail = false): { stream: Writable; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (fail) return callback(new Error('pipe closed'));
      chunks.push(Buffer.from(chunk));
      callback();
    },
  });
  return { stream, chunks };
}

const MESSAGES: Message[] = [
  { jsonrpc: '2.0', method: 'textDocument/publishDiagnostics', params: { uri: 'file:///a.embedtune.yaml', diagnostics: [] } } as Message,
  { jsonrpc: '2.0', method: 'window/logMessage', params: { type: 3, message: 'déjà vu: 日本語 and 😀' } } as Message,
  { jsonrpc: '2.0', id: 7, result: null } as Message,
];

/** Reads framed messages back with vscode-jsonrpc's own reader, as a client does. */
async function readBack(bytes: Buffer, count: number): Promise<Message[]> {
  const pipe = new PassThrough();
  const reader = new StreamMessageReader(pipe);
  const received: Message[] = [];
  const done = new Promise<void>((resolve) =>
    reader.listen((message) => {
      received.push(message);
      if (received.length === count) resolve();
    }),
  );
  pipe.end(bytes);
  await done;
  reader.dispose();
  return received;
}

describe('FramedStreamMessageWriter', () => {
  it('writes each message as one chunk, header and body together, before write() returns', async () => {
    const { stream, chunks } = recordingStream();
    const writer = new FramedStreamMessageWriter(stream);
    const pending: Promise<void>[] = [];
    for (const [index, message] of MESSAGES.entries()) {
      pending.push(writer.write(message));
      // Synchronously: no event-loop turn between sending a message and writing it.
      assert.equal(chunks.length, index + 1);
    }
    await Promise.all(pending);
    assert.deepEqual(
      chunks.map((chunk) => chunk.toString('utf8')),
      MESSAGES.map((message) => frameOf(message).toString('utf8')),
    );
  });

  it('frames with the byte length of the UTF-8 body, which a standard reader parses back in order', async () => {
    const frame = frameOf(MESSAGES[1]!).toString('utf8');
    const body = JSON.stringify(MESSAGES[1]);
    assert.equal(frame, `Content-Length: ${Buffer.byteLength(body, 'utf8')}\r\n\r\n${body}`);
    assert.notEqual(Buffer.byteLength(body, 'utf8'), body.length, 'the test message must hold multi-byte characters');

    const { stream, chunks } = recordingStream();
    const writer = new FramedStreamMessageWriter(stream);
    await Promise.all(MESSAGES.map((message) => writer.write(message)));
    assert.deepEqual(await readBack(Buffer.concat(chunks), MESSAGES.length), MESSAGES);
  });

  it('rejects the write and reports the error when the stream fails', async () => {
    const { stream } = recordingStream(true);
    stream.on('error', () => undefined);
    const writer = new FramedStreamMessageWriter(stream);
    const reported: [Error, Message | undefined, number | undefined][] = [];
    writer.onError((event) => reported.push(event));
    await assert.rejects(writer.write(MESSAGES[0]!), /pipe closed/);
    assert.ok(reported.some(([error, message, count]) => /pipe closed/.test(error.message) && message === MESSAGES[0] && count === 1));
  });
});

/** Feeds `bytes` to a reader in pieces of `size` bytes as 'data' events, collecting what it hands on after each. */
function feed(bytes: Buffer, size: number): { received: Message[]; afterEachChunk: number[]; errors: Error[] } {
  const stream = new EventEmitter();
  const reader = new FramedStreamMessageReader(stream as unknown as NodeJS.ReadableStream);
  const received: Message[] = [];
  const errors: Error[] = [];
  reader.onError((error) => errors.push(error));
  reader.listen((message) => received.push(message));
  const afterEachChunk: number[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    stream.emit('data', bytes.subarray(at, at + size));
    afterEachChunk.push(received.length);
  }
  return { received, afterEachChunk, errors };
}

describe('FramedStreamMessageReader', () => {
  const bytes = Buffer.concat(MESSAGES.map(frameOf));

  it('hands each message on in the data event that completes it, in order, however the bytes are split', () => {
    for (const size of [1, 2, 3, 7, 23, 64, bytes.length]) {
      const { received, afterEachChunk, errors } = feed(bytes, size);
      assert.deepEqual(received, MESSAGES, `chunks of ${size} bytes`);
      assert.deepEqual(errors, []);
      // After the chunk holding a message's last byte, that message has been handed on, with no turn of the event loop.
      let end = 0;
      for (const [index, message] of MESSAGES.entries()) {
        end += frameOf(message).length;
        assert.ok(afterEachChunk[Math.ceil(end / size) - 1]! >= index + 1, `message ${index} late with chunks of ${size} bytes`);
      }
    }
  });

  it('reads the header case-insensitively, with other headers beside Content-Length', () => {
    const body = Buffer.from(JSON.stringify(MESSAGES[1]), 'utf8');
    const framed = Buffer.concat([
      Buffer.from(`content-type: application/vscode-jsonrpc; charset=utf-8\r\nCONTENT-LENGTH: ${body.length}\r\n\r\n`, 'ascii'),
      body,
    ]);
    assert.deepEqual(feed(framed, 5).received, [MESSAGES[1]]);
  });

  it('reports a header without a usable Content-Length and a body that is not JSON', () => {
    assert.match(feed(Buffer.from('Content-Type: x\r\n\r\n{}', 'ascii'), 100).errors[0]?.message ?? '', /Content-Length/);
    assert.match(feed(Buffer.from('Content-Length: abc\r\n\r\n{}', 'ascii'), 100).errors[0]?.message ?? '', /Content-Length/);
    const broken = feed(Buffer.concat([Buffer.from('Content-Length: 3\r\n\r\n{x}', 'ascii'), frameOf(MESSAGES[2]!)]), 100);
    assert.equal(broken.errors.length, 1);
    assert.deepEqual(broken.received, [MESSAGES[2]], 'the message after a broken one is still read');
  });
});

describe('routeConsoleToClient', () => {
  it("sends console output to the client's log instead of stdout, which carries the protocol", () => {
    const saved = { ...console };
    const logged: [string, string][] = [];
    const remote = Object.fromEntries(
      ['log', 'info', 'warn', 'error'].map((level) => [level, (message: string) => logged.push([level, message])]),
    ) as unknown as RemoteConsole;
    const stdoutWrite = process.stdout.write;
    let stdoutWrites = 0;
    process.stdout.write = (() => {
      stdoutWrites++;
      return true;
    }) as typeof process.stdout.write;
    try {
      routeConsoleToClient(remote);
      console.log('rows: %d', 3);
      console.info('info');
      console.debug({ a: 1 });
      console.dir([1, 2]);
      console.warn('careful');
      console.error('broken');
      console.count('edits');
    } finally {
      process.stdout.write = stdoutWrite;
      Object.assign(console, saved);
    }
    assert.equal(stdoutWrites, 0);
    assert.deepEqual(logged, [
      ['log', 'rows: 3'],
      ['info', 'info'],
      ['log', '{ a: 1 }'],
      ['log', '[ 1, 2 ]'],
      ['warn', 'careful'],
      ['error', 'broken'],
      ['log', 'edits: 1'],
    ]);
  });
});
