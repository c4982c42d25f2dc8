import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * A real VS Code, served by code-server on 127.0.0.1 with its own user data and extensions folders, and the
 * extension installed from the packaged .vsix as a user installs it. code-server itself comes from
 * scripts/codeServerInstall.mjs, cached outside the repository ($EMBEDTUNE_CODE_SERVER_CACHE, default ~/.cache/embedtune).
 * Set EMBEDTUNE_E2E_KEEP=1 to keep each server's user data (settings, all logs) after the run, to debug a failure.
 */

export const ROOT = resolve(__dirname, '../../..');

/** What every window gets: no welcome page, tips, telemetry or update checks, so that only our UI is on screen. */
const QUIET_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.enableExperiments': false,
  'workbench.colorTheme': 'Default Dark Modern',
  'workbench.editor.enablePreview': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.ignoreRecommendations': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'update.mode': 'none',
  'git.enabled': false,
  'git.autoRepositoryDetection': false,
  'editor.minimap.enabled': false,
  'editor.hover.delay': 200,
  'files.autoSave': 'off',
};

export interface CodeServerOptions {
  /** Workspace Trust on (the user-settings switch), so that a folder opens in Restricted Mode until trusted. */
  readonly workspaceTrust?: boolean;
  readonly settings?: Record<string, unknown>;
}

export class CodeServer {
  /** Everything code-server writes: user data (settings, logs), extensions, its config file. Removed by `stop`. */
  readonly home = mkdtempSync(join(tmpdir(), 'embedtune-e2e-code-server-'));
  readonly userDataDir = join(this.home, 'user-data');
  readonly extensionsDir = join(this.home, 'extensions');
  private process: ChildProcess | null = null;
  private output = '';
  url = '';

  private constructor(
    private readonly entry: string,
    private readonly options: CodeServerOptions,
  ) {}

  /** Installs code-server if it is not cached, installs the .vsix, starts the server and waits until it listens. */
  static async start(options: CodeServerOptions = {}): Promise<CodeServer> {
    const server = new CodeServer(codeServerEntry(), options);
    server.writeSettings();
    server.installExtension(packagedVsix());
    await server.listen();
    return server;
  }

  /** The workbench URL for a folder. */
  folderUrl(folder: string): string {
    return `${this.url}?folder=${encodeURIComponent(folder)}`;
  }

  /**
   * The extension host's log and the EmbedTune output channels of every window so far, newest last: what a
   * failing scenario prints.
   */
  extensionHostLog(maxLines = 120): string {
    const logs = join(this.userDataDir, 'logs');
    const files = walk(logs).filter((file) => /remoteexthost\.log$|EmbedTune/.test(file));
    files.sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
    if (files.length === 0) return `(no extension host log under ${logs})\ncode-server's output:\n${tail(this.output, maxLines)}`;
    return files.map((file) => `--- ${file}\n${tail(readFileSync(file, 'utf8'), maxLines)}`).join('\n');
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = null;
    if (child?.pid !== undefined && child.exitCode === null) {
      const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
      // The server, its extension hosts and language servers share its process group.
      killGroup(child.pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (!process.env.EMBEDTUNE_E2E_KEEP) rmSync(this.home, { recursive: true, force: true });
  }

  private writeSettings(): void {
    const user = join(this.userDataDir, 'User');
    mkdirSync(user, { recursive: true });
    const trust = this.options.workspaceTrust
      ? {
          'security.workspace.trust.enabled': true,
          'security.workspace.trust.startupPrompt': 'never',
          'security.workspace.trust.banner': 'always',
        }
      : { 'security.workspace.trust.enabled': false };
    writeFileSync(join(user, 'settings.json'), `${JSON.stringify({ ...QUIET_SETTINGS, ...trust, ...this.options.settings }, null, 2)}\n`);
    // code-server writes a default config (with a password) to ~/.config unless it is given one.
    writeFileSync(join(this.home, 'config.yaml'), 'auth: none\ncert: false\n');
  }

  private commonArguments(): string[] {
    return [
      '--config',
      join(this.home, 'config.yaml'),
      '--user-data-dir',
      this.userDataDir,
      '--extensions-dir',
      this.extensionsDir,
      '--disable-telemetry',
      '--disable-update-check',
    ];
  }

  private installExtension(vsix: string): void {
    const result = spawnSync(process.execPath, [this.entry, ...this.commonArguments(), '--install-extension', vsix], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const output = `${result.stdout}${result.stderr}`;
    if (result.status !== 0 || !/successfully installed/.test(output)) {
      throw new Error(`code-server --install-extension ${vsix} failed (${result.status ?? result.error?.message}):\n${output}`);
    }
  }

  private listen(): Promise<void> {
    const args = [
      this.entry,
      ...this.commonArguments(),
      '--bind-addr',
      '127.0.0.1:0',
      '--auth',
      'none',
      ...(this.options.workspaceTrust ? [] : ['--disable-workspace-trust']),
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: serverEnvironment() });
    this.process = child;
    return new Promise((resolveListen, reject) => {
      const timer = setTimeout(() => reject(new Error(`code-server did not listen within 30s:\n${this.output}`)), 30_000);
      const onData = (chunk: Buffer) => {
        this.output += chunk.toString('utf8');
        const match = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)\//.exec(this.output);
        if (match && !this.url) {
          this.url = `${match[1]}/`;
          clearTimeout(timer);
          resolveListen();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`code-server exited (${code ?? signal}) before it listened:\n${this.output}`));
      });
    });
  }
}

/** code-server's entry script, installed into the cache by scripts/codeServerInstall.mjs if it is not there yet. */
function codeServerEntry(): string {
  const script = join(ROOT, 'scripts', 'codeServerInstall.mjs');
  const result = spawnSync(process.execPath, [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const entry = result.stdout.trim().split('\n').pop() ?? '';
  if (result.status !== 0 || !existsSync(entry))
    throw new Error(`scripts/codeServerInstall.mjs failed (${result.status}); see its output above`);
  return entry;
}

/** The .vsix that `npm run package` built for this version. */
export function packagedVsix(): string {
  const { name, version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
  const vsix = join(ROOT, `${name}-${version}.vsix`);
  if (!existsSync(vsix)) throw new Error(`${vsix} does not exist: run npm run package (npm run test:e2e does)`);
  return vsix;
}

/** The environment code-server runs in: no proxy, so that nothing leaves 127.0.0.1. */
function serverEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (/^(https?|no|all)_proxy$/i.test(key) || key.startsWith('VSCODE_')) delete env[key];
  return env;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}
