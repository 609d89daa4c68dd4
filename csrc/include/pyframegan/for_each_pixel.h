// The CPU driver of the pixel kernels in strip_math.h / pair_math.h: rows in parallel
// (at::parallel_for), pixels of a row in order. csrc/ops/cuda/launch.cuh is its CUDA twin.
#pragma once
#include <ATen/Parallel.h>

#include <algorithm>

namespace pyframegan {

// Rows per parallel_for task: about 32 K pixels of work, at least one row.
inline int64_t row_grain(int64_t width) { return std::max<int64_t>(1, 32768 / width); }

template <typename Kernel>
void for_each_pixel_cpu(const Kernel& kernel, int64_t rows, int64_t width) {
  if (rows <= 0 || width <= 0) return;
  at::parallel_for(0, rows, row_grain(width), [&](int64_t begin, int64_t end) {
    const Kernel k = kernel;  // a private copy: the compiler knows output stores cannot change it
    for (int64_t row = begin; row < end; ++row) {
      const auto r = k.row(row);
      for (int x = 0; x < static_cast<int>(width); ++x) k(r, x);
    }
  });
}

}  // namespace pyframegan
