// CUDA implementations: the shared pixel kernels launched on the current stream of the tensors' device.
#include <c10/cuda/CUDAGuard.h>

#include "../register.h"
#include "launch.cuh"

namespace pyframegan {

struct CudaDriver {
  using Guard = c10::cuda::CUDAGuard;
  template <typename Kernel>
  static void run(const Kernel& kernel, int64_t rows, int64_t width) {
    for_each_pixel_cuda(kernel, rows, width);
  }
  static at::Tensor fresh_output(at::Tensor t) { return t; }  // the CUDA caching allocator reuses memory
};

}  // namespace pyframegan

PYFRAMEGAN_REGISTER_KERNELS(CUDA, ::pyframegan::CudaDriver)
