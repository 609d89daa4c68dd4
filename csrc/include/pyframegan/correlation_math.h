// Per-element math of the correlation op (a local cost volume, as in PWC-Net: kernel size 1,
// stride 1) and of its backward, shared by the CPU loops and the CUDA launches.
//
//   out[b, k, y, x] = (1/C) * sum_c f1[b, c, y, x] * f2[b, c, y + dy, x + dx]
//   k = (dy + d) * (2d + 1) + (dx + d),   -d <= dy, dx <= d,   f2 is zero outside the image.
//
// The features are read channels-last (NHWC, contiguous), so every channel loop is unit-stride:
// a vectorised dot product / axpy on the CPU. Sums run in Acc (float for half types).
#pragma once
#include "pyframegan/common.h"

namespace pyframegan {

struct CorrShape {
  int channels, height, width, d;  // d: the maximum displacement

  PFG_HD int side() const { return 2 * d + 1; }
  PFG_HD int displacements() const { return side() * side(); }
  PFG_HD int dy(int k) const { return k / side() - d; }
  PFG_HD int dx(int k) const { return k % side() - d; }
  PFG_HD bool inside(int y, int x) const { return y >= 0 && y < height && x >= 0 && x < width; }
  // offset of pixel (b, y, x) in an NHWC-contiguous feature tensor
  PFG_HD int64_t pixel(int64_t b, int y, int x) const {
    return ((b * height + y) * width + x) * static_cast<int64_t>(channels);
  }
};

template <typename Acc, typename T>
PFG_HD Acc channel_dot(const T* a, const T* b, int n) {
  Acc sum = 0;
  PFG_SIMD_SUM(sum)
  for (int c = 0; c < n; ++c) sum += static_cast<Acc>(a[c]) * static_cast<Acc>(b[c]);
  return sum;
}

// out[c] += w * v[c]
template <typename Acc, typename T>
PFG_HD void channel_axpy(Acc* __restrict__ out, Acc w, const T* __restrict__ v, int n) {
  PFG_SIMD
  for (int c = 0; c < n; ++c) out[c] += w * static_cast<Acc>(v[c]);
}

// Forward: rows are (b, y, k) - the displacements of one feature row in turn, so that row and
// the 2d+1 rows of f2 it meets stay in cache - and a row is the W outputs out[b, k, y, :].
template <typename T, typename Acc>
struct CorrelationKernel {
  const T* f1;  // [B, H, W, C] contiguous
  const T* f2;
  T* out;       // [B, K, H, W] contiguous
  CorrShape s;

  struct Row {
    const T* f1;  // f1[b, y, 0, :]
    const T* f2;  // f2[b, y + dy, 0, :], or null when that row is outside the image
    int dx;
    T* out;
  };

  PFG_HD Row row(int64_t row) const {
    const int K = s.displacements();
    const int k = static_cast<int>(row % K);
    const int y = static_cast<int>((row / K) % s.height);
    const int64_t b = row / (static_cast<int64_t>(K) * s.height);
    const int y2 = y + s.dy(k);
    return {f1 + s.pixel(b, y, 0), y2 >= 0 && y2 < s.height ? f2 + s.pixel(b, y2, 0) : nullptr, s.dx(k),
            out + ((b * K + k) * s.height + y) * static_cast<int64_t>(s.width)};
  }

  PFG_HD void operator()(const Row& r, int x) const {
    const int x2 = x + r.dx;
    Acc v = 0;
    if (r.f2 != nullptr && x2 >= 0 && x2 < s.width)
      v = channel_dot<Acc>(r.f1 + x * static_cast<int64_t>(s.channels), r.f2 + x2 * static_cast<int64_t>(s.channels),
                           s.channels) /
          static_cast<Acc>(s.channels);
    r.out[x] = static_cast<T>(v);
  }
};

// Backward, as a gather (no two pixels write the same output: no atomics, CPU and CUDA alike):
//   grad_f1[b, y, x, :] = (1/C) * sum_k g[b, k, y, x]           * f2[b, y + dy, x + dx, :]
//   grad_f2[b, y, x, :] = (1/C) * sum_k g[b, k, y - dy, x - dx] * f1[b, y - dy, x - dx, :]
// With sign = +1 (grad_f1) or -1 (grad_f2) the partner pixel is (y + sign*dy, x + sign*dx);
// g is read at (y, x) for grad_f1 and at the partner for grad_f2. One pixel per element: it
// writes its C gradients, NHWC, in Acc.
template <typename T, typename Acc>
struct CorrelationGradKernel {
  Strided<T> grad;   // [B, K, H, W], any strides
  const T* other;    // f2 for grad_f1, f1 for grad_f2: [B, H, W, C] contiguous
  Acc* out;          // [B, H, W, C] contiguous
  CorrShape s;
  bool wrt_f2;

  struct Row {
    int64_t b;
    int y;
    Acc* out;
  };

  PFG_HD Row row(int64_t row) const {
    const int64_t b = row / s.height;
    const int y = static_cast<int>(row % s.height);
    return {b, y, out + s.pixel(b, y, 0)};
  }

  PFG_HD void operator()(const Row& r, int x) const {
    Acc* o = r.out + x * static_cast<int64_t>(s.channels);
    PFG_SIMD
    for (int c = 0; c < s.channels; ++c) o[c] = 0;
    const int sign = wrt_f2 ? -1 : 1;
    const Acc inv_c = Acc(1) / static_cast<Acc>(s.channels);
    for (int k = 0; k < s.displacements(); ++k) {
      const int py = r.y + sign * s.dy(k), px = x + sign * s.dx(k);
      if (!s.inside(py, px)) continue;
      const T g = grad.plane(r.b, 0, k)[wrt_f2 ? py * grad.sy + px * grad.sx : r.y * grad.sy + x * grad.sx];
      channel_axpy(o, static_cast<Acc>(g) * inv_c, other + s.pixel(r.b, py, px), s.channels);
    }
  }
};

}  // namespace pyframegan
