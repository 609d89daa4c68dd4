// Per-pixel math of the inference-side ops: frame pairs -> padded, normalised NCHW input, and
// generator output -> uint8 frames. Shared by the CPU loops and the CUDA launches.
#pragma once
#include "pyframegan/common.h"

namespace pyframegan {

struct PairParams {
  const uint8_t* src;        // pairs [B, 2, H, W, 3]
  int64_t sb, sf;            // batch and frame strides
  PixelStrides s;
  int height, width;         // source size
};

// Channels of frame f at padded position (y, x): replicate padding clamps to the last row/column.
PFG_HD void pair_pixel(const PairParams& p, int64_t b, int f, int y, int x, float out[3]) {
  const int sy = y < p.height ? y : p.height - 1;
  const int sx = x < p.width ? x : p.width - 1;
  const uint8_t* px = p.src + b * p.sb + f * p.sf + sy * p.s.y + sx * p.s.x;
  for (int c = 0; c < 3; ++c) out[c] = u8_to_unit(px[c * p.s.c]);
}

struct UnpackParams {
  int64_t sb, sc, sy, sx;    // strides of the generator output [B, 3n, Hp, Wp]
};

// uint8 channels of output frame n at (y, x), read from the planes 3n, 3n+1, 3n+2.
template <typename T>
PFG_HD void unpack_pixel(const T* src, const UnpackParams& p, int64_t b, int n, int y, int x, uint8_t out[3]) {
  const T* px = src + b * p.sb + static_cast<int64_t>(3 * n) * p.sc + y * p.sy + x * p.sx;
  for (int c = 0; c < 3; ++c) out[c] = unit_to_u8(static_cast<float>(px[c * p.sc]));
}

}  // namespace pyframegan

namespace pyframegan {

// pack_pairs: rows are (b, f, y) of the padded output [B, 6, Hp, Wp]; a row is Wp pixels wide.
template <typename T>
struct PackKernel {
  PairParams p;
  T* dst;
  int hp, wp;

  struct Row {
    int64_t b;
    int f, y;
    T* out;
  };

  PFG_HD Row row(int64_t row) const {
    const int y = static_cast<int>(row % hp);
    const int f = static_cast<int>((row / hp) % 2);
    const int64_t b = row / (2 * static_cast<int64_t>(hp));
    return {b, f, y, dst + ((b * 6 + 3 * f) * hp + y) * static_cast<int64_t>(wp)};
  }

  PFG_HD void operator()(const Row& r, int x) const {
    float v[3];
    pair_pixel(p, r.b, r.f, r.y, x, v);
    const int64_t plane = static_cast<int64_t>(hp) * wp;
    for (int c = 0; c < 3; ++c) r.out[c * plane + x] = static_cast<T>(v[c]);
  }
};

// unpack_frames: rows are (b, n, y) of the output frames [B, N, H, W, 3]; a row is W pixels wide.
template <typename T>
struct UnpackKernel : FrameRows {
  const T* src;
  UnpackParams p;

  PFG_HD void operator()(const Row& r, int x) const { unpack_pixel(src, p, r.b, r.n, r.y, x, r.out + 3 * x); }
};

}  // namespace pyframegan
