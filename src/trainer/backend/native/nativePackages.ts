/**
 * The native TensorFlow backends EmbedTune installs, and the exact files each install method uses. Everything here is
 * pinned: a version change is a change to this file, and the install folder's name changes with it.
 */

export type NativeVariant = 'cpu' | 'gpu';

export const NATIVE_VARIANTS: readonly NativeVariant[] = ['cpu', 'gpu'];

/** A wheel from PyPI, pinned by file name and sha256 (pip refuses any other file). */
export interface PinnedWheel {
  readonly requirement: string;
  readonly file: string;
  readonly sha256: string;
  readonly megabytes: number;
}

export interface NativePackage {
  readonly variant: NativeVariant;
  readonly packageName: '@tensorflow/tfjs-node' | '@tensorflow/tfjs-node-gpu';
  /** The name without the scope, as tfjs and the install folder spell it. */
  readonly shortName: 'tfjs-node' | 'tfjs-node-gpu';
  readonly version: string;
  /** The TensorFlow wheel whose C library the offline build links against. */
  readonly tensorflowWheel: PinnedWheel;
  /** The CUDA and cuDNN run-time wheels that wheel's GPU kernels load, laid out where its rpath looks. */
  readonly cudaWheels: readonly PinnedWheel[];
  /** What the npm package's own install downloads, for the report. */
  readonly ownDownload: string;
}

export const TFJS_NODE_VERSION = '4.22.0';
/** node-gyp compiles the binding in the offline build; installed beside the package, never globally. */
export const NODE_GYP_VERSION = '12.4.0';

const wheel = (requirement: string, file: string, sha256: string, megabytes: number): PinnedWheel => ({
  requirement,
  file,
  sha256,
  megabytes,
});

/**
 * tensorflow-cpu 2.12.1 is the first release whose wheel puts the C API in libtensorflow_cc.so.2, a library with no
 * Python in it (2.9.1 to 2.11.1 keep it in _pywrap_tensorflow_internal.so, which needs libpython loaded first).
 * TensorFlow keeps the C API and its ops backward compatible, so the binding built against it runs tfjs 4.22's kernels.
 */
const TENSORFLOW_CPU = wheel(
  'tensorflow-cpu==2.12.1',
  'tensorflow_cpu-2.12.1-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
  '7ffb595707a8fb376deaddc768784c7a0242b16cbc6e06393b1733b2ce19f855',
  232,
);

/**
 * The full tensorflow 2.20.0 wheel carries CUDA kernels built for CUDA 12.5 and cuDNN 9.3 (tfjs-node-gpu's own
 * libtensorflow 2.9.1 needs CUDA 11.2 and cuDNN 8.1, which current drivers and distributions no longer ship), and runs
 * on the CPU when it finds no GPU. Its libtensorflow_framework.so.2 looks for the CUDA libraries in
 * $ORIGIN/../nvidia/<name>/lib, which is where the install puts the NVIDIA wheels below: the versions of its
 * `and-cuda` extra's lower bounds.
 */
const TENSORFLOW_GPU = wheel(
  'tensorflow==2.20.0',
  'tensorflow-2.20.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl',
  '481499fd0f824583de8945be61d5e827898cdaa4f5ea1bc2cc28ca2ccff8229e',
  621,
);

const CUDA_WHEELS: readonly PinnedWheel[] = [
  wheel(
    'nvidia-cublas-cu12==12.5.3.2',
    'nvidia_cublas_cu12-12.5.3.2-py3-none-manylinux2014_x86_64.whl',
    'ca070ad70e9fa6654084575d01bd001f30cc4665e33d4bb9fc8e0f321caa034b',
    363,
  ),
  wheel(
    'nvidia-cuda-cupti-cu12==12.5.82',
    'nvidia_cuda_cupti_cu12-12.5.82-py3-none-manylinux2014_x86_64.whl',
    'bde77a5feb66752ec61db2adfe47f56b941842825b4c7e2068aff27c9d107953',
    14,
  ),
  wheel(
    'nvidia-cuda-nvcc-cu12==12.5.82',
    'nvidia_cuda_nvcc_cu12-12.5.82-py3-none-manylinux2014_x86_64.whl',
    'b03e545b8e8c3ce7ebcd7fc44063180ff52ff01d064ece2127ed90a04ef12cd0',
    22,
  ),
  wheel(
    'nvidia-cuda-nvrtc-cu12==12.5.82',
    'nvidia_cuda_nvrtc_cu12-12.5.82-py3-none-manylinux2014_x86_64.whl',
    '3dbd97b0104b4bfbc3c4f8c79cd2496307c89c43c29a9f83125f1d76296ff3fd',
    25,
  ),
  wheel(
    'nvidia-cuda-runtime-cu12==12.5.82',
    'nvidia_cuda_runtime_cu12-12.5.82-py3-none-manylinux2014_x86_64.whl',
    '3e79a060e126df40fd3a068f3f787eb000fa51b251ec6cd97d09579632687115',
    1,
  ),
  wheel(
    'nvidia-cudnn-cu12==9.3.0.75',
    'nvidia_cudnn_cu12-9.3.0.75-py3-none-manylinux2014_x86_64.whl',
    '9ad9c6929ebb5295eb4a1728024666d1c88283373e265a0c5c883e6f9d5cd76d',
    577,
  ),
  wheel(
    'nvidia-cufft-cu12==11.2.3.61',
    'nvidia_cufft_cu12-11.2.3.61-py3-none-manylinux2014_x86_64.whl',
    '9a6e8df162585750f61983a638104a48c756aa13f9f48e19ab079b38e3c828b8',
    193,
  ),
  wheel(
    'nvidia-curand-cu12==10.3.6.82',
    'nvidia_curand_cu12-10.3.6.82-py3-none-manylinux2014_x86_64.whl',
    '2823fb27de4e44dbb22394a6adf53aa6e1b013aca0f8c22867d1cfae58405536',
    56,
  ),
  wheel(
    'nvidia-cusolver-cu12==11.6.3.83',
    'nvidia_cusolver_cu12-11.6.3.83-py3-none-manylinux2014_x86_64.whl',
    '93cfafacde4428b71778eeb092ec615a02a3d05404da1bcf91c53e3fa1bce42b',
    130,
  ),
  wheel(
    'nvidia-cusparse-cu12==12.5.1.3',
    'nvidia_cusparse_cu12-12.5.1.3-py3-none-manylinux2014_x86_64.whl',
    '016df8e993c437e8301e62739f01775cba988fd5253cd4c64173f8e8d2f8e752',
    218,
  ),
  wheel(
    'nvidia-nccl-cu12==2.25.1',
    'nvidia_nccl_cu12-2.25.1-py3-none-manylinux2014_x86_64.manylinux_2_17_x86_64.whl',
    '362aed5963fb9ea2ed2f264409baae30143498fd0e5c503aeaa1badd88cdc54a',
    201,
  ),
  wheel(
    'nvidia-nvjitlink-cu12==12.5.82',
    'nvidia_nvjitlink_cu12-12.5.82-py3-none-manylinux2014_x86_64.whl',
    'f9b37bc5c8cf7509665cb6ada5aaa0ce65618f2332b7d3e78e9790511f111212',
    21,
  ),
];

export const NATIVE_PACKAGES: Record<NativeVariant, NativePackage> = {
  cpu: {
    variant: 'cpu',
    packageName: '@tensorflow/tfjs-node',
    shortName: 'tfjs-node',
    version: TFJS_NODE_VERSION,
    tensorflowWheel: TENSORFLOW_CPU,
    cudaWheels: [],
    ownDownload: 'libtensorflow 2.9.1 (CPU) from storage.googleapis.com',
  },
  gpu: {
    variant: 'gpu',
    packageName: '@tensorflow/tfjs-node-gpu',
    shortName: 'tfjs-node-gpu',
    version: TFJS_NODE_VERSION,
    tensorflowWheel: TENSORFLOW_GPU,
    cudaWheels: CUDA_WHEELS,
    ownDownload: 'libtensorflow 2.9.1 (GPU, for CUDA 11.2 and cuDNN 8.1) from storage.googleapis.com',
  },
};

/** MiB that the offline build needs free while it runs: wheels, the libraries unpacked, node-gyp's objects. */
export function buildDiskNeedMiB(pkg: NativePackage): number {
  const downloads = pkg.tensorflowWheel.megabytes + pkg.cudaWheels.reduce((sum, w) => sum + w.megabytes, 0);
  // The libraries unpack to about 2.5x their compressed size (measured: 232 MB -> 0.58 GB for cpu).
  return Math.ceil(downloads * 3.5 + 300);
}
