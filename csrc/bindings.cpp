// The Python module pyframegan._C: build information (the ops register themselves with
// TORCH_LIBRARY when this library is loaded and are called through torch.ops.pyframegan.*).
#include <torch/extension.h>

#ifdef WITH_CUDA
#include <cuda.h>
#endif

#ifndef PYFRAMEGAN_TORCH_VERSION
#define PYFRAMEGAN_TORCH_VERSION "unknown"
#endif

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "pyframegan native extension: fused frame-strip ops and the inference engine";
  m.def("build_info", [] {
    pybind11::dict info;
    info["torch_version"] = PYFRAMEGAN_TORCH_VERSION;
#ifdef WITH_CUDA
    info["cuda"] = true;
    info["cuda_version"] = CUDA_VERSION;
#else
    info["cuda"] = false;
    info["cuda_version"] = pybind11::none();
#endif
    return info;
  });
}
