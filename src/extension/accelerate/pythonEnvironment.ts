import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One package of python/embedtune_accelerate/requirements.txt, as pip names it. */
export interface PinnedPackage {
  readonly name: string;
  readonly version: string;
}

export type PackageState = 'ok' | 'missing' | 'other-version';

export interface PackageReport extends PinnedPackage {
  /** The installed version, or null when the package is not installed. */
  readonly installed: string | null;
  readonly state: PackageState;
}

export interface EnvironmentReport {
  readonly python: string;
  /** The interpreter's version, or null when it did not run. */
  readonly pythonVersion: string | null;
  /** Why the interpreter could not be asked, when it could not. */
  readonly failure?: string;
  readonly packages: readonly PackageReport[];
}

/** `name==version` lines; comments, blank lines and anything not pinned exactly are left out. */
export function readPinnedRequirements(path: string): PinnedPackage[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .map((line) => /^([A-Za-z0-9._-]+)==([^\s;]+)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ name: match[1]!, version: match[2]! }));
}

// Reads installed versions from package metadata, without importing torch (which takes seconds).
const PROBE = `
import json, platform, sys
from importlib import metadata
found = {}
for name in sys.argv[1:]:
    try:
        found[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
        found[name] = None
print(json.dumps({"python": platform.python_version(), "packages": found}))
`;

/** Asks `python` which of the pinned packages it has, and in which versions. Never throws. */
export async function checkPythonEnvironment(python: string, pinned: readonly PinnedPackage[], cwd?: string): Promise<EnvironmentReport> {
  const result = await runProcess(python, ['-c', PROBE, ...pinned.map((p) => p.name)], cwd);
  let parsed: { python: string; packages: Record<string, string | null> } | undefined;
  try {
    parsed = result.code === 0 ? JSON.parse(result.stdout.trim().split('\n').pop() ?? '') : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed) {
    const failure = result.error ?? (result.stderr.trim() || `it exited with code ${result.code}`);
    return { python, pythonVersion: null, failure, packages: pinned.map((p) => ({ ...p, installed: null, state: 'missing' })) };
  }
  return {
    python,
    pythonVersion: parsed.python,
    packages: pinned.map((p) => {
      const installed = parsed.packages[p.name] ?? null;
      return { ...p, installed, state: installed === null ? 'missing' : samePackageVersion(installed, p.version) ? 'ok' : 'other-version' };
    }),
  };
}

/** torch's local build tag (`2.15.0+cu132`) names the same release as `2.15.0`. */
function samePackageVersion(installed: string, pinned: string): boolean {
  return installed === pinned || installed.split('+')[0] === pinned;
}

export function formatEnvironmentReport(report: EnvironmentReport): string[] {
  if (report.pythonVersion === null) return [`${report.python} could not be run: ${report.failure ?? 'unknown error'}`];
  const width = Math.max(...report.packages.map((p) => p.name.length));
  return [
    `${report.python} (Python ${report.pythonVersion})`,
    ...report.packages.map((p) => {
      const status = p.state === 'ok' ? 'ok' : p.state === 'missing' ? 'MISSING' : `installed ${p.installed}`;
      return `  ${p.name.padEnd(width)}  ${p.version.padEnd(10)}  ${status}`;
    }),
  ];
}

/** The virtual environment's interpreter, as `python -m venv` lays it out on this platform. */
export function venvPython(venv: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? join(venv, 'Scripts', 'python.exe') : join(venv, 'bin', 'python');
}

/** The two steps that set up an environment: `python -m venv DIR`, then pip install of the pinned requirements. */
export function venvSetupSteps(basePython: string, venv: string, requirements: string): { executable: string; args: string[] }[] {
  return [
    { executable: basePython, args: ['-m', 'venv', venv] },
    { executable: venvPython(venv), args: ['-m', 'pip', 'install', '--disable-pip-version-check', '-r', requirements] },
  ];
}

export interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the executable could not be started at all. */
  readonly error?: string;
}

/** Runs a command (argument array, no shell) to the end, passing each output line to `onLine`. */
export function runProcess(
  executable: string,
  args: readonly string[],
  cwd?: string,
  onLine?: (line: string) => void,
): Promise<ProcessResult> {
  return new Promise((resolveRun) => {
    const child = spawn(executable, [...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    const lines = (chunk: string) => {
      if (onLine) for (const line of chunk.split(/\r?\n/)) if (line.trim() !== '') onLine(line);
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      lines(chunk);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      lines(chunk);
    });
    child.once('error', (error) =>
      resolveRun({ code: null, stdout, stderr, error: `${executable} could not be started: ${error.message}` }),
    );
    child.once('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}
