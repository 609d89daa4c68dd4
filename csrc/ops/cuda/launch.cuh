// The CUDA driver of the pixel kernels: one thread per output pixel, on the current stream.
#pragma once
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>

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

}  // namespace pyframegan
