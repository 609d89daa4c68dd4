// CUDA implementations: the shared pixel kernels launched on the current stream of the tensors' device.
#include <c10/cuda/CUDAGuard.h>

#include "../register.h"
#include "launch.cuh"

namespace pyframegan {

struct CudaDriver {
  static constexpr bool kPairsInParallel = false;  // dis_flow: every kernel over all pairs at once
  using Guard = c10::cuda::CUDAGuard;
  template <typename Kernel>
  static void run(const Kernel& kernel, int64_t rows, int64_t width) {
    for_each_pixel_cuda(kernel, rows, width);
  }
  static void run_stripes(const dis::PatchSearch& search, int64_t batch) { for_each_stripe_cuda(search, batch); }
  // the CUDA caching allocator already reuses freed memory
  static at::Tensor new_output(at::IntArrayRef shape, const at::TensorOptions& options) {
    return at::empty(shape, options);
  }
};

}  // namespace pyframegan

PYFRAMEGAN_REGISTER_KERNELS(CUDA, ::pyframegan::CudaDriver)
