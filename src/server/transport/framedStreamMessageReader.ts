import { AbstractMessageReader, Disposable, type DataCallback, type MessageReader } from 'vscode-languageserver/node';

const HEADER_END = Buffer.from('\r\n\r\n', 'ascii');

/**
 * Reads LSP base-protocol messages from a stream and hands each one on as soon as its last byte has arrived.
 *
 * vscode-jsonrpc's StreamMessageReader decodes every message in a promise chain behind a lock that waits for
 * setImmediate, so a didChange reached the server one event-loop turn after its bytes did; this reader parses it in
 * the same 'data' event. Messages are handed on in the order they arrived. (The library's reader also reports a
 * message that stays partial for 10 s; the connection only logs that, so it is left out.)
 */
export class FramedStreamMessageReader extends AbstractMessageReader implements MessageReader {
  private pending: Buffer = Buffer.alloc(0);
  private bodyLength = -1;

  constructor(private readonly stream: NodeJS.ReadableStream) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    const onData = (chunk: Buffer) => this.onData(chunk, callback);
    const onError = (error: Error) => this.fireError(error);
    const onClose = () => this.fireClose();
    this.stream.on('data', onData);
    this.stream.on('error', onError);
    this.stream.on('close', onClose);
    return Disposable.create(() => {
      this.stream.off('data', onData);
      this.stream.off('error', onError);
      this.stream.off('close', onClose);
    });
  }

  private onData(chunk: Buffer, callback: DataCallback): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.bodyLength < 0) {
        const headerEnd = this.pending.indexOf(HEADER_END);
        if (headerEnd < 0) return;
        const header = this.pending.toString('ascii', 0, headerEnd);
        const length = contentLengthOf(header);
        if (length === undefined) {
          this.fireError(new Error(`Header must provide a numeric Content-Length property. Got ${JSON.stringify(header)}`));
          return;
        }
        this.pending = this.pending.subarray(headerEnd + HEADER_END.length);
        this.bodyLength = length;
      }
      if (this.pending.length < this.bodyLength) return;
      const body = this.pending.toString('utf8', 0, this.bodyLength);
      this.pending = this.pending.subarray(this.bodyLength);
      this.bodyLength = -1;
      try {
        callback(JSON.parse(body) as Parameters<DataCallback>[0]);
      } catch (error) {
        this.fireError(error);
      }
    }
  }
}

/** The Content-Length of a header block (`Name: value` lines, names in any case), or undefined if absent or not a number. */
function contentLengthOf(header: string): number | undefined {
  for (const line of header.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== 'content-length') continue;
    const value = line.slice(colon + 1).trim();
    return /^\d+$/.test(value) ? Number(value) : undefined;
  }
  return undefined;
}
