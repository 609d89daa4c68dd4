// Strided<T> views (csrc/include/pyframegan/common.h) of ATen tensors, for the kernels.
#pragma once
#include <ATen/ATen.h>

#include "pyframegan/common.h"

namespace pyframegan {

// A [B, C, H, W] or [B, N, C, H, W] tensor; an undefined tensor gives a null view.
template <typename T>
Strided<T> strided(const at::Tensor& t) {
  if (!t.defined()) return {nullptr, 0, 0, 0, 0, 0};
  TORCH_INTERNAL_ASSERT(t.dim() == 4 || t.dim() == 5);
  const int64_t n = t.dim() == 5 ? t.stride(1) : 0, o = t.dim() - 4;  // o: offset of the C dimension - 1
  return {t.const_data_ptr<T>(), t.stride(0), n, t.stride(o + 1), t.stride(o + 2), t.stride(o + 3)};
}

}  // namespace pyframegan
