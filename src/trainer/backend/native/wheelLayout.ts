/**
 * The Python that lays out a tfjs-node package's deps/ folder from PyPI wheels, as binding.gyp expects it:
 * deps/lib holds libtensorflow_cc.so.2 and libtensorflow_framework.so.2, deps/include the headers that
 * tensorflow/c/c_api.h and tensorflow/c/eager/c_api.h include (followed #include by #include inside the wheel, since
 * the folders move between TensorFlow versions: tensorflow/tsl/ in 2.12, tsl/ and xla/tsl/ later), and deps/nvidia the
 * CUDA and cuDNN libraries of the NVIDIA wheels, where libtensorflow_framework.so.2's rpath ($ORIGIN/../nvidia/<name>/lib)
 * looks for them. Python because pip is already needed, and its zipfile reads the wheels.
 *
 *   python3 -c LAYOUT_SCRIPT BINDING_DIR DEPS TENSORFLOW_WHEEL [NVIDIA_WHEEL...]
 *
 * The header search starts from the TensorFlow headers that the binding's own sources (BINDING_DIR/*.cc, *.h) include.
 */
export const LAYOUT_SCRIPT = `
import glob, os, re, shutil, sys, zipfile
binding, deps, tensorflow_wheel, nvidia_wheels = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
libraries = ("tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2")
include = "tensorflow/include/"
quoted = re.compile(r'^\\s*#\\s*include\\s+"([^"]+)"', re.M)
roots = set()
for source in glob.glob(os.path.join(binding, "*.cc")) + glob.glob(os.path.join(binding, "*.h")):
    with open(source, encoding="utf-8", errors="replace") as handle:
        roots.update(name for name in quoted.findall(handle.read()) if name.startswith("tensorflow/"))

def copy(archive, name, target, executable=False):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with archive.open(name) as source, open(target, "wb") as out:
        shutil.copyfileobj(source, out)
    if executable:
        os.chmod(target, 0o755)

with zipfile.ZipFile(tensorflow_wheel) as archive:
    names = set(archive.namelist())
    for library in libraries:
        if library not in names:
            sys.exit(f"{os.path.basename(tensorflow_wheel)} lacks {library}, the TensorFlow C library")
        copy(archive, library, os.path.join(deps, "lib", os.path.basename(library)), executable=True)
    pending, seen = list(roots), set()
    for root in roots:
        if include + root not in names:
            sys.exit(f"{os.path.basename(tensorflow_wheel)} lacks {include + root}")
    while pending:
        header = pending.pop()
        if header in seen or include + header not in names:
            continue
        seen.add(header)
        text = archive.read(include + header).decode("utf-8", "replace")
        copy(archive, include + header, os.path.join(deps, "include", header))
        pending.extend(quoted.findall(text))
    print(f"{len(seen)} headers and {len(libraries)} libraries from {os.path.basename(tensorflow_wheel)}")

for wheel in nvidia_wheels:
    count = 0
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith("nvidia/") and "/lib/" in name and not name.endswith("/"):
                copy(archive, name, os.path.join(deps, name), executable=True)
                count += 1
    print(f"{count} libraries from {os.path.basename(wheel)}")
`;

/** The CUDA libraries TensorFlow 2.20 dlopens for a GPU, by the folder of deps/nvidia that holds each. */
export const CUDA_LIBRARIES: readonly { readonly folder: string; readonly file: string }[] = [
  { folder: 'cuda_runtime', file: 'libcudart.so.12' },
  { folder: 'cublas', file: 'libcublas.so.12' },
  { folder: 'cublas', file: 'libcublasLt.so.12' },
  { folder: 'cudnn', file: 'libcudnn.so.9' },
  { folder: 'cufft', file: 'libcufft.so.11' },
  { folder: 'cusolver', file: 'libcusolver.so.11' },
  { folder: 'cusparse', file: 'libcusparse.so.12' },
  { folder: 'nvjitlink', file: 'libnvJitLink.so.12' },
];
