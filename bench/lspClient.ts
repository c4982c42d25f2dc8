import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';

/** One diagnostic as it arrives over the wire; only the fields the benchmark reads. */
export interface WireDiagnostic {
  readonly message: string;
  readonly severity?: number;
  readonly code?: string | number;
  readonly range: { start: { line: number; character: number }; end: { line: number; character: number } };
}

export interface PublishedDiagnostics {
  readonly uri: string;
  readonly version?: number;
  readonly diagnostics: readonly WireDiagnostic[];
  /** performance.now() when the client received the notification. */
  readonly receivedAt: number;
}

export interface LspServerOptions {
  /** A short name for tables and error messages. */
  readonly name: string;
  /** Arguments for `node`; the first one is the script. Run with process.execPath so that the pid is the server itself. */
  readonly args: readonly string[];
  readonly cwd: string;
  /** Answers `workspace/configuration` for one section. */
  readonly configuration: (section: string | undefined) => unknown;
  /** Per-request timeout, so a stuck server fails the run instead of hanging it. */
  readonly requestTimeoutMs?: number;
}

interface DiagnosticsWaiter {
  readonly uri: string;
  readonly accept: (published: PublishedDiagnostics) => boolean;
  readonly resolve: (published: PublishedDiagnostics) => void;
}

/** A language server in a child process, spoken to over stdio with the LSP base protocol. */
export class LspServer {
  readonly name: string;
  readonly process: ChildProcessWithoutNullStreams;
  readonly connection: ProtocolConnection;
  /** window/logMessage, window/showMessage and stderr lines, for the report. */
  readonly logs: string[] = [];
  /** Every publishDiagnostics, newest last per uri. */
  readonly lastDiagnostics = new Map<string, PublishedDiagnostics>();
  publishCount = 0;
  configurationRequests = 0;
  private readonly waiters = new Set<DiagnosticsWaiter>();
  private readonly requestTimeoutMs: number;
  private exited = false;
  private exitInfo: string | undefined;

  constructor(private readonly options: LspServerOptions) {
    this.name = options.name;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.process = spawn(process.execPath, [...options.args], { cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.process.on('exit', (code, signal) => {
      this.exited = true;
      this.exitInfo = `exited with code ${String(code)}${signal ? ` (signal ${signal})` : ''}`;
    });
    this.process.on('error', (error) => {
      this.exited = true;
      this.exitInfo = `failed to start: ${error.message}`;
    });
    this.process.stderr.setEncoding('utf8');
    this.process.stderr.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) this.log(`stderr: ${line}`);
    });
    this.connection = createProtocolConnection(new StreamMessageReader(this.process.stdout), new StreamMessageWriter(this.process.stdin));
    this.connection.onError(([error]) => this.log(`connection error: ${error.message}`));

    this.connection.onRequest('workspace/configuration', (params: { items: { section?: string }[] }) => {
      this.configurationRequests++;
      return params.items.map((item) => options.configuration(item.section) ?? null);
    });
    this.connection.onRequest('client/registerCapability', () => null);
    this.connection.onRequest('client/unregisterCapability', () => null);
    // Requests a server may send besides configuration; anything else gets the protocol's MethodNotFound error.
    for (const method of [
      'window/workDoneProgress/create',
      'workspace/codeLens/refresh',
      'workspace/diagnostic/refresh',
      'workspace/semanticTokens/refresh',
    ]) {
      this.connection.onRequest(method, () => null);
    }
    this.connection.onUnhandledNotification(() => undefined);
    this.connection.onNotification('textDocument/publishDiagnostics', (params: Omit<PublishedDiagnostics, 'receivedAt'>) => {
      const published: PublishedDiagnostics = { ...params, receivedAt: performance.now() };
      this.publishCount++;
      this.lastDiagnostics.set(params.uri, published);
      for (const waiter of [...this.waiters]) {
        if (waiter.uri === params.uri && waiter.accept(published)) {
          this.waiters.delete(waiter);
          waiter.resolve(published);
        }
      }
    });
    this.connection.onNotification('window/logMessage', (params: { type: number; message: string }) =>
      this.log(`log[${params.type}]: ${params.message}`),
    );
    this.connection.onNotification('window/showMessage', (params: { type: number; message: string }) =>
      this.log(`show[${params.type}]: ${params.message}`),
    );
    this.connection.listen();
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  get alive(): boolean {
    return !this.exited;
  }

  private log(line: string): void {
    if (this.logs.length < 2000) this.logs.push(line.length > 2000 ? `${line.slice(0, 2000)}…` : line);
  }

  /** A request with a timeout; rejects early if the process has died. */
  async request<R>(method: string, params: unknown, timeoutMs = this.requestTimeoutMs): Promise<R> {
    if (this.exited) throw new Error(`${this.name} ${this.exitInfo ?? 'is not running'}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name}: ${method} timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.connection.sendRequest<R>(method, params), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a notification; resolves once the message has been written to the server's stdin. */
  notify(method: string, params: unknown): Promise<void> {
    if (this.exited) return Promise.reject(new Error(`${this.name} ${this.exitInfo ?? 'is not running'}`));
    return this.connection.sendNotification(method, params);
  }

  /** Resolves with the first publishDiagnostics for `uri` that `accept` takes, arriving after this call. */
  waitForDiagnostics(uri: string, accept: (published: PublishedDiagnostics) => boolean, timeoutMs: number): Promise<PublishedDiagnostics> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `${this.name}: no matching publishDiagnostics for ${uri} within ${timeoutMs} ms${this.exited ? ` (${this.exitInfo})` : ''}`,
          ),
        );
      }, timeoutMs);
      const waiter: DiagnosticsWaiter = {
        uri,
        accept,
        resolve: (published) => {
          clearTimeout(timer);
          resolve(published);
        },
      };
      this.waiters.add(waiter);
    });
  }

  /** Resident and peak memory of the server process, in KiB, from /proc (Linux only). */
  memory(): { rssKiB: number; peakRssKiB: number } | undefined {
    if (!this.pid || this.exited) return undefined;
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
      return { rssKiB: field('VmRSS'), peakRssKiB: field('VmHWM') };
    } catch {
      return undefined;
    }
  }

  /** shutdown, then exit, then SIGKILL if the process is still there; never throws and never waits long. */
  async stop(): Promise<void> {
    if (this.exited) {
      this.connection.dispose();
      return;
    }
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    try {
      await this.request('shutdown', null, 3000);
      await this.notify('exit', null);
    } catch (error) {
      this.log(`shutdown failed: ${(error as Error).message}`);
    }
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 3000).unref());
    if ((await Promise.race([exited, timer])) === 'timeout' && !this.exited) {
      this.log('did not exit after shutdown/exit; killed');
      this.kill();
    }
    this.connection.dispose();
  }

  /** Last resort, used by stop() and by the benchmark's watchdog. Kills only this child, by its pid. */
  kill(): void {
    if (!this.exited) this.process.kill('SIGKILL');
  }

  describeExit(): string | undefined {
    return this.exitInfo;
  }

  get commandLine(): string {
    return ['node', ...this.options.args].join(' ');
  }
}
