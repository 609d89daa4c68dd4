"""Builds pyframegan and its native extension pyframegan._C against the installed torch.

    pip install --no-build-isolation .        # the torch you run with must be the one you build with

Environment:
    FORCE_CUDA=1            compile the CUDA kernels even where no GPU is visible (needs nvcc)
    PYFRAMEGAN_CPU_ONLY=1   never compile CUDA
    CUDA_HOME               CUDA toolkit (default: /usr/local/cuda when it exists)
    TORCH_CUDA_ARCH_LIST    GPU architectures (default: the visible GPU's, else "8.0;9.0")
    MAX_JOBS                parallel compile jobs
"""
import glob
import os
import sys

from setuptools import setup

HOW_TO_INSTALL = """
pyframegan compiles a C++/CUDA extension against the torch it will run with, so torch must be
installed first and pip must not build in an isolated environment:

    pip install torch numpy pybind11 ninja
    pip install --no-build-isolation .
"""

try:
    import torch
except ImportError:  # typically pip's build isolation: torch is not in the build environment
    sys.exit("error: torch is not importable in this build environment.\n" + HOW_TO_INSTALL)

if "CUDA_HOME" not in os.environ and os.path.isdir("/usr/local/cuda"):
    os.environ["CUDA_HOME"] = "/usr/local/cuda"  # torch's autodetection may settle on /usr/local

from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension  # noqa: E402

ROOT = os.path.dirname(os.path.abspath(__file__))


def flag(name):
    return os.environ.get(name, "0").lower() in ("1", "true", "yes", "on")


def want_cuda():
    if flag("PYFRAMEGAN_CPU_ONLY"):
        return False, "PYFRAMEGAN_CPU_ONLY=1"
    if torch.version.cuda is None:
        if flag("FORCE_CUDA"):
            sys.exit(f"error: FORCE_CUDA=1 but torch {torch.__version__} is a CPU-only build")
        return False, f"torch {torch.__version__} is a CPU-only build"
    if CUDA_HOME is None:
        if flag("FORCE_CUDA"):
            sys.exit("error: FORCE_CUDA=1 but no CUDA toolkit was found; set CUDA_HOME")
        return False, "no CUDA toolkit (set CUDA_HOME)"
    if flag("FORCE_CUDA"):
        return True, "FORCE_CUDA=1"
    if torch.cuda.is_available():
        return True, "a GPU is visible"
    return False, "no GPU visible (FORCE_CUDA=1 compiles the CUDA kernels anyway)"


def extension():
    use_cuda, why = want_cuda()
    sources = sorted(glob.glob("csrc/ops/*.cpp") + glob.glob("csrc/ops/cpu/*.cpp") + glob.glob("csrc/engine/*.cpp"))
    sources.append("csrc/bindings.cpp")
    include_dirs = [os.path.join(ROOT, "csrc", "include")]
    # -fvisibility=hidden: only PyInit__C is exported (as pybind11 recommends for its modules)
    cxx = ["-O3", "-fopenmp", "-fvisibility=hidden", f'-DPYFRAMEGAN_TORCH_VERSION="{torch.__version__}"']
    kwargs = {"extra_link_args": ["-fopenmp"]}
    if use_cuda:
        sources += sorted(glob.glob("csrc/ops/cuda/*.cu"))
        # headers of the pip CUDA packages (cublas_v2.h, cusparse.h, ...) that torch's headers include
        site = os.path.dirname(os.path.dirname(torch.__file__))
        include_dirs += sorted(glob.glob(os.path.join(site, "nvidia", "*", "include")))
        if "TORCH_CUDA_ARCH_LIST" not in os.environ and not torch.cuda.is_available():
            os.environ["TORCH_CUDA_ARCH_LIST"] = "8.0;9.0"
        kwargs["extra_compile_args"] = {
            "cxx": cxx + ["-DWITH_CUDA"],
            # --fmad=false: no fused multiply-add, so CUDA rounds exactly like the CPU kernels
            "nvcc": ["-O3", "--fmad=false", "-DWITH_CUDA"],
        }
        ext = CUDAExtension("pyframegan._C", sources, include_dirs=include_dirs, **kwargs)
    else:
        kwargs["extra_compile_args"] = {"cxx": cxx}
        ext = CppExtension("pyframegan._C", sources, include_dirs=include_dirs, **kwargs)
    print("=" * 72)
    print(f"pyframegan: building pyframegan._C against torch {torch.__version__} (python {sys.version.split()[0]})")
    print(f"pyframegan: CUDA kernels: {'yes' if use_cuda else 'no'} ({why})")
    if use_cuda:
        print(f"pyframegan: CUDA_HOME={CUDA_HOME} TORCH_CUDA_ARCH_LIST={os.environ.get('TORCH_CUDA_ARCH_LIST')}")
    print(f"pyframegan: {len(sources)} sources")
    print("=" * 72)
    return ext


setup(
    ext_modules=[extension()],
    cmdclass={"build_ext": BuildExtension.with_options(use_ninja=True)},
    package_data={"pyframegan": ["weights/*.pt"]},
)
