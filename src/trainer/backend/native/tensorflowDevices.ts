/**
 * What TensorFlow says about the devices it found, read from its own log. tfjs-node asks TensorFlow for its device
 * list when it loads (TFE_ContextListDevices) but hands JavaScript only a yes/no (isUsingGpuDevice); the GPU's name and
 * memory are in the line TensorFlow logs as it creates the device.
 */

export interface TensorflowGpu {
  /** TensorFlow's device name, e.g. /job:localhost/replica:0/task:0/device:GPU:0. */
  readonly device: string;
  /** The product name, e.g. "NVIDIA H200". */
  readonly name: string;
  /** Memory TensorFlow set aside for the device, in MiB. */
  readonly memoryMiB: number;
  readonly computeCapability: string;
}

export interface TensorflowDeviceReport {
  readonly gpus: readonly TensorflowGpu[];
  /** Shared libraries TensorFlow tried to dlopen and could not, e.g. libcudnn.so.9. */
  readonly missingLibraries: readonly string[];
  /** TensorFlow's own words when it gave up on GPUs, if it said why. */
  readonly noGpuReason?: string;
}

const CREATED_DEVICE =
  /Created device (\S+device:GPU:\d+) with (\d+) MB memory:\s*->\s*device: \d+, name: (.+?), pci bus id: [^,]+, compute capability: ([\d.]+)/g;
const MISSING_LIBRARY = /Could not load dynamic library '([^']+)'/g;
const NO_GPU_REASONS = [
  /Could not find cuda drivers on your machine, GPU will not be used\./,
  /failed call to cuInit: [^\n]*/,
  /Cannot dlopen some GPU libraries\./,
  /TensorFlow was not built with CUDA kernel binaries compatible with compute capability [\d.]+/,
];

/** Parses TensorFlow's log (its stderr at TF_CPP_MIN_LOG_LEVEL=0) for the GPUs it created and the libraries it missed. */
export function parseTensorflowDeviceLog(log: string): TensorflowDeviceReport {
  const gpus = [...log.matchAll(CREATED_DEVICE)].map((match) => ({
    device: match[1]!,
    memoryMiB: Number(match[2]),
    name: match[3]!.trim(),
    computeCapability: match[4]!,
  }));
  const missingLibraries = [...new Set([...log.matchAll(MISSING_LIBRARY)].map((match) => match[1]!))];
  const reason = NO_GPU_REASONS.map((pattern) => pattern.exec(log)?.[0]).find((found) => found !== undefined);
  return { gpus, missingLibraries, ...(reason ? { noGpuReason: reason } : {}) };
}

/**
 * The device line for run_started and the status: "GPU 0: NVIDIA H200, 139 GiB (compute capability 9.0)", or "no GPU
 * found, running on the CPU" with what TensorFlow missed.
 */
export function describeTensorflowDevices(report: TensorflowDeviceReport, usingGpu: boolean): string {
  if (usingGpu && report.gpus.length > 0) {
    const list = report.gpus.map(
      (gpu) =>
        `GPU ${gpu.device.split(':').pop()}: ${gpu.name}, ${formatMemory(gpu.memoryMiB)} (compute capability ${gpu.computeCapability})`,
    );
    return report.gpus.length > 1
      ? `${list[0]} (TensorFlow places ops on GPU 0; it found ${report.gpus.length}: ${list.join('; ')})`
      : list[0]!;
  }
  if (usingGpu) return 'GPU (TensorFlow did not log its name)';
  const why =
    report.missingLibraries.length > 0
      ? ` (TensorFlow could not load ${report.missingLibraries.join(', ')})`
      : report.noGpuReason
        ? ` (${report.noGpuReason})`
        : '';
  return `no GPU found, running on the CPU${why}`;
}

function formatMemory(mib: number): string {
  return mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${mib} MiB`;
}
