import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import type { Message } from 'vscode-languageserver/node';
import { frameOf } from '../../src/server/transport/framedStreamMessageWriter';
import { SERVER_PATH } from '../helpers/lspTestClient';

/** The server's raw stdout, split into messages by Content-Length, so that the framing itself is what is checked. */
function replies(server: ChildProcessWithoutNullStreams): { next(): Promise<Record<string, unknown>> } {
  let pending = Buffer.alloc(0);
  const parsed: Record<string, unknown>[] = [];
  const waiting: ((message: Record<string, unknown>) => void)[] = [];
  server.stdout.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      const headerEnd = pending.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(pending.toString('ascii', 0, headerEnd))?.[1]);
      if (pending.length < headerEnd + 4 + length) return;
      const message = JSON.parse(pending.toString('utf8', headerEnd + 4, headerEnd + 4 + length)) as Record<string, unknown>;
      pending = pending.subarray(headerEnd + 4 + length);
      const waiter = waiting.shift();
      if (waiter) waiter(message);
      else parsed.push(message);
    }
  });
  return {
    next: () => {
      const ready = parsed.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

async function untilReply(read: { next(): Promise<Record<string, unknown>> }, id: number): Promise<Record<string, unknown>> {
  for (;;) {
    const message = await read.next();
    if (message.id === id && !('method' in message)) return message;
  }
}

async function exitCodeWithin(server: ChildProcessWithoutNullStreams, ms: number): Promise<number | null | 'still running'> {
  const timer = new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms).unref());
  const exited = once(server, 'exit').then(([code]) => code as number | null);
  return Promise.race([exited, timer]);
}

const initialize = (id: number) =>
  frameOf({ jsonrpc: '2.0', id, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } } as Message);

describe('the language server over raw stdio', () => {
  it('reads a request split across writes and answers with well-framed messages', async () => {
    const server = spawn(process.execPath, [SERVER_PATH, '--stdio'], { stdio: 'pipe' });
    try {
      const read = replies(server);
      const request = initialize(1);
      for (const [start, end] of [
        [0, 5],
        [5, 30],
        [30, request.length],
      ] as const) {
        server.stdin.write(request.subarray(start, end));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const reply = await untilReply(read, 1);
      assert.equal((reply.result as { serverInfo?: { name?: string } }).serverInfo?.name, 'embedtune-language-server');
    } finally {
      server.kill();
    }
  });

  it('exits when the client closes stdin: with 1 without a shutdown request, with 0 after one', async () => {
    const abandoned = spawn(process.execPath, [SERVER_PATH, '--stdio'], { stdio: 'pipe' });
    abandoned.stdin.end(initialize(1));
    assert.equal(await exitCodeWithin(abandoned, 10_000), 1);

    const orderly = spawn(process.execPath, [SERVER_PATH, '--stdio'], { stdio: 'pipe' });
    const read = replies(orderly);
    orderly.stdin.write(initialize(1));
    await untilReply(read, 1);
    orderly.stdin.write(frameOf({ jsonrpc: '2.0', id: 2, method: 'shutdown' } as Message));
    await untilReply(read, 2);
    orderly.stdin.end();
    assert.equal(await exitCodeWithin(orderly, 10_000), 0);
  });
});
