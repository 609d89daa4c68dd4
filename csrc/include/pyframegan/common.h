// Shared helpers for code compiled both by the host compiler and by nvcc.
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define PFG_HD __host__ __device__ __forceinline__
#define PFG_HD_FLAT __host__ __device__ __forceinline__
#else
#define PFG_HD inline
// always inlined on the host too: the CPU's SIMD row paths (target avx2) take such a function's
// body into theirs, vector types and all
#define PFG_HD_FLAT inline __attribute__((always_inline))
#endif

// `#pragma omp simd` for the host compiler's CPU loops (vectorising a float sum needs leave to
// reorder it); nothing under nvcc, whose threads run the same loops one element at a time.
#if defined(_OPENMP) && !defined(__CUDACC__)
#define PFG_PRAGMA(x) _Pragma(#x)
#define PFG_SIMD PFG_PRAGMA(omp simd)
#define PFG_SIMD_SUM(var) PFG_PRAGMA(omp simd reduction(+ : var))
#else
#define PFG_SIMD
#define PFG_SIMD_SUM(var)
#endif

namespace pyframegan {

// uint8 [0, 255] -> [-1, 1]  (mean/std folded into one multiply-add)
PFG_HD float u8_to_unit(float v) { return v * (1.0f / 127.5f) - 1.0f; }

// v clamped to [lo, hi], NaN to lo. Comparisons, not fminf/fmaxf: without -ffast-math the host
// compiler calls those in libm.
PFG_HD float clamp_to(float v, float lo, float hi) { return v > lo ? (v < hi ? v : hi) : lo; }

// [-1, 1] -> uint8, rounded half to even (rintf in the default rounding mode), clamped.
PFG_HD uint8_t unit_to_u8(float v) {
  return static_cast<uint8_t>(clamp_to(rintf(v * 127.5f + 127.5f), 0.0f, 255.0f));
}

// A strided [B, N, C, H, W] tensor (a 4-D [B, C, H, W] one has sn = 0), strides in elements.
template <typename T>
struct Strided {
  using value_type = T;
  const T* data;
  int64_t sb, sn, sc, sy, sx;
  PFG_HD const T* plane(int64_t b, int n, int c) const { return data + b * sb + n * sn + c * sc; }
  PFG_HD float at(int64_t b, int n, int c, int y, int x) const {
    return static_cast<float>(plane(b, n, c)[y * sy + x * sx]);
  }
};

// Rows (b, n, y) of contiguous uint8 frames [B, N, H, W, 3], for the kernels that write them.
struct FrameRows {
  uint8_t* dst;
  int frames, height, width;

  struct Row {
    int64_t b;
    int n, y;
    uint8_t* out;
  };

  PFG_HD Row row(int64_t row) const {
    const int y = static_cast<int>(row % height);
    const int n = static_cast<int>((row / height) % frames);
    const int64_t b = row / (static_cast<int64_t>(height) * frames);
    return {b, n, y, dst + row * width * 3};  // row-major in (b, n, y)
  }
  PFG_HD int64_t rows(int64_t batch) const { return batch * frames * height; }
};

// Strides (in elements) of a uint8 image tensor laid out ... H, W, C (HWC, any strides).
struct PixelStrides {
  int64_t y, x, c;
};

}  // namespace pyframegan
