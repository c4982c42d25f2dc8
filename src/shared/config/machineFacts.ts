import { existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * What this machine offers a training launch, as far as a check can tell without starting Python: the validator
 * runs on every keystroke, so the probe only looks at a few files and caches the answer.
 */
export interface MachineFacts {
  /** CUDA GPUs PyTorch would see on this machine; undefined when the probe cannot tell (ROCm, WSL, an unusual driver). */
  readonly cudaDevices: number | undefined;
  /** How the probe knows, in words for a message: "macOS has no CUDA". */
  readonly evidence: string;
}

/** Where the probe looks; the real machine by default, a fake file system in tests. */
export interface MachineProbeSources {
  readonly platform: NodeJS.Platform;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A folder's entries, or undefined when it cannot be listed. */
  readonly listDir: (path: string) => readonly string[] | undefined;
  readonly exists: (path: string) => boolean;
}

const NVIDIA_GPUS = '/proc/driver/nvidia/gpus';
/** ROCm (AMD GPUs, which PyTorch reports as cuda devices) and WSL's GPU paravirtualization: GPUs this probe cannot count. */
const OTHER_GPU_DEVICES = ['/dev/kfd', '/dev/dxg'];
const CACHE_MS = 60_000;

/**
 * How many CUDA devices PyTorch would see. CUDA_VISIBLE_DEVICES first, as PyTorch reads it: empty or starting with
 * -1 hides every GPU, a list shows at most that many. On Linux the NVIDIA driver lists each GPU under
 * /proc/driver/nvidia/gpus (also inside containers given GPUs); macOS has no CUDA. Elsewhere, or when some other GPU
 * stack is present, an absent nvidia-smi means no NVIDIA GPU, and anything else is unknown.
 */
export function probeMachine(sources: MachineProbeSources = realSources()): MachineFacts {
  const visible = sources.env['CUDA_VISIBLE_DEVICES'];
  const listed = visible === undefined ? undefined : visibleDeviceCount(visible);
  if (listed === 0) return { cudaDevices: 0, evidence: `CUDA_VISIBLE_DEVICES=${JSON.stringify(visible)} hides every GPU` };
  const installed = installedCudaDevices(sources);
  if (installed.cudaDevices === undefined || installed.cudaDevices === 0 || listed === undefined) return installed;
  return {
    cudaDevices: Math.min(listed, installed.cudaDevices),
    evidence: `${installed.evidence}, and CUDA_VISIBLE_DEVICES lists ${listed}`,
  };
}

function installedCudaDevices(sources: MachineProbeSources): MachineFacts {
  if (sources.platform === 'darwin') return { cudaDevices: 0, evidence: 'macOS has no CUDA' };
  if (sources.platform === 'linux') {
    const gpus = sources.listDir(NVIDIA_GPUS);
    if (gpus !== undefined && gpus.length > 0) {
      return { cudaDevices: gpus.length, evidence: `the NVIDIA driver lists ${gpus.length} GPU(s) in ${NVIDIA_GPUS}` };
    }
    if (OTHER_GPU_DEVICES.some((path) => sources.exists(path)))
      return { cudaDevices: undefined, evidence: 'a GPU stack this check cannot count' };
  }
  if (findOnPath(sources, sources.platform === 'win32' ? 'nvidia-smi.exe' : 'nvidia-smi')) {
    return { cudaDevices: undefined, evidence: 'nvidia-smi is installed, but this check cannot count the GPUs' };
  }
  return {
    cudaDevices: 0,
    evidence:
      sources.platform === 'linux'
        ? `no NVIDIA driver lists a GPU in ${NVIDIA_GPUS}, and nvidia-smi is not installed`
        : 'nvidia-smi is not installed',
  };
}

/** PyTorch stops reading the list at the first entry that is not a device (so "-1" hides them all). */
function visibleDeviceCount(value: string): number {
  let count = 0;
  for (const entry of value.split(',').map((part) => part.trim())) {
    if (entry === '' || entry.startsWith('-')) break;
    count++;
  }
  return count;
}

function findOnPath(sources: MachineProbeSources, executable: string): boolean {
  const path = sources.env['PATH'] ?? sources.env['Path'] ?? '';
  const folders = path.split(sources.platform === 'win32' ? ';' : delimiter).filter((folder) => folder !== '');
  if (sources.platform === 'win32') folders.push(join(sources.env['SystemRoot'] ?? 'C:\\Windows', 'System32'));
  return folders.some((folder) => sources.exists(join(folder, executable)));
}

function realSources(): MachineProbeSources {
  return {
    platform: process.platform,
    env: process.env,
    listDir: (path) => {
      try {
        return readdirSync(path);
      } catch {
        return undefined;
      }
    },
    exists: (path) => {
      try {
        return existsSync(path) && (statSync(path).isFile() || statSync(path).isCharacterDevice());
      } catch {
        return false;
      }
    },
  };
}

let cached: { facts: MachineFacts; at: number } | undefined;

/** The probe of this machine, repeated at most once a minute; never throws. */
export function localMachineFacts(now: number = Date.now()): MachineFacts {
  if (cached && now - cached.at < CACHE_MS) return cached.facts;
  let facts: MachineFacts;
  try {
    facts = probeMachine();
  } catch {
    facts = { cudaDevices: undefined, evidence: 'the probe of this machine failed' };
  }
  cached = { facts, at: now };
  return facts;
}
