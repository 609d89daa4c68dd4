// Shared helpers for code compiled both by the host compiler and by nvcc.
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define PFG_HD __host__ __device__ __forceinline__
#else
#define PFG_HD inline
#endif

namespace pyframegan {

// uint8 [0, 255] -> [-1, 1]  (mean/std folded into one multiply-add)
PFG_HD float u8_to_unit(float v) { return v * (1.0f / 127.5f) - 1.0f; }

// [-1, 1] -> uint8, rounded half to even (rintf in the default rounding mode), clamped.
PFG_HD uint8_t unit_to_u8(float v) {
  return static_cast<uint8_t>(fminf(fmaxf(rintf(v * 127.5f + 127.5f), 0.0f), 255.0f));
}

// Strides (in elements) of a uint8 image tensor laid out ... H, W, C (HWC, any strides).
struct PixelStrides {
  int64_t y, x, c;
};

}  // namespace pyframegan
