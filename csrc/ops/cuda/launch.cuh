// The CUDA driver of the pixel kernels: one thread per output pixel, on the current stream.
#pragma once
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>

#include "pyframegan/dis_math.h"

namespace pyframegan {

template <typename Kernel>
__global__ void pixel_kernel(Kernel kernel, int64_t total, int64_t width) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    kernel(kernel.row(i / width), static_cast<int>(i % width));
}

template <typename Kernel>
void for_each_pixel_cuda(const Kernel& kernel, int64_t rows, int64_t width) {
  const int64_t total = rows * width;
  if (total <= 0) return;
  constexpr int kThreads = 256;
  const int64_t blocks = std::min<int64_t>((total + kThreads - 1) / kThreads, int64_t{1} << 20);
  pixel_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(kernel, total, width);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

// dis_flow's patch search: one block per stripe of a pair; its threads take the stripe's patch rows
// and walk the anti-diagonals in step, so that each patch runs after its left and upper (going
// back: right and lower) neighbours, exactly as in the sequential order of the CPU driver.
__global__ void dis_stripes_kernel(dis::PatchSearch search) {
  const int64_t b = blockIdx.x / dis::kStripes;
  const int s = static_cast<int>(blockIdx.x % dis::kStripes);
  const int rows = dis::stripe_end(s, search.lv.hs) - dis::stripe_begin(s, search.lv.hs);
  for (int diag = 0; diag < rows + search.lv.ws - 1; ++diag) {
    for (int r = threadIdx.x; r < rows; r += blockDim.x) search.visit_diagonal(b, s, r, diag);
    __syncthreads();
  }
}

inline void for_each_stripe_cuda(const dis::PatchSearch& search, int64_t batch) {
  const int64_t blocks = batch * dis::kStripes;
  TORCH_CHECK_VALUE(blocks <= INT32_MAX, "pyframegan: dis_flow: batch too large: ", batch);
  if (blocks == 0) return;
  const int rows = dis::stripe_rows(search.lv.hs);
  const int threads = std::min(256, std::max(32, (rows + 31) / 32 * 32));
  dis_stripes_kernel<<<static_cast<unsigned>(blocks), threads, 0, at::cuda::getCurrentCUDAStream()>>>(search);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace pyframegan
