// Per-pixel math of the fused strip preprocessing (training side).
// Written once; csrc/ops/cpu/preprocess_strips.cpp loops over it and
// csrc/ops/cuda/preprocess_strips.cu launches it.
#pragma once
#include "pyframegan/common.h"

namespace pyframegan {

constexpr int kMaxStripFrames = 64;

// One bilinear tap along an axis (PyTorch's align_corners=False convention).
struct Lerp {
  int i0, i1;  // source indices
  float w1;    // weight of i1 (weight of i0 is 1 - w1)
};

PFG_HD Lerp lerp_index(int dst, float scale, int in_size) {
  float src = scale * (static_cast<float>(dst) + 0.5f) - 0.5f;
  if (src < 0.0f) src = 0.0f;
  int i0 = static_cast<int>(src);
  int i1 = i0 + (i0 < in_size - 1 ? 1 : 0);
  return {i0, i1, src - static_cast<float>(i0)};
}

struct StripParams {
  const uint8_t* src;        // strips [B, H, F*W, 3]
  int64_t sb;                // batch stride
  PixelStrides s;            // strides of H, F*W, 3
  int tile_h, tile_w;        // H, W of one tile
  int load;                  // resized tile size (0: no resize)
  float scale_y, scale_x;    // tile_h / load, tile_w / load
  int size;                  // crop size S
  int n_in, n_sel;           // selected tiles: inputs first, then targets
  int sel[kMaxStripFrames];
  const int64_t* offsets;    // [B, 2] (y, x), contiguous; nullptr: centre crop
  const bool* flip;          // [B]; nullptr: no flip
  int centre_y, centre_x;
};

// The three channels of output pixel (y, x) of selected tile k in strip b, normalised to [-1, 1].
PFG_HD void strip_pixel(const StripParams& p, int64_t b, int k, int y, int x, float out[3]) {
  const int oy = p.offsets ? static_cast<int>(p.offsets[2 * b]) : p.centre_y;
  const int ox = p.offsets ? static_cast<int>(p.offsets[2 * b + 1]) : p.centre_x;
  const int cx = (p.flip && p.flip[b]) ? p.size - 1 - x : x;  // flip = reversed crop column
  const int ty = oy + y, tx = ox + cx;                        // in (resized) tile coordinates
  const uint8_t* tile = p.src + b * p.sb + static_cast<int64_t>(p.sel[k]) * p.tile_w * p.s.x;
  if (p.load == 0) {
    const uint8_t* px = tile + ty * p.s.y + tx * p.s.x;
    for (int c = 0; c < 3; ++c) out[c] = u8_to_unit(px[c * p.s.c]);
    return;
  }
  const Lerp ly = lerp_index(ty, p.scale_y, p.tile_h);
  const Lerp lx = lerp_index(tx, p.scale_x, p.tile_w);
  const uint8_t* r0 = tile + ly.i0 * p.s.y;
  const uint8_t* r1 = tile + ly.i1 * p.s.y;
  const int64_t x0 = lx.i0 * p.s.x, x1 = lx.i1 * p.s.x;
  for (int c = 0; c < 3; ++c) {
    const int64_t o = c * p.s.c;
    const float top = (1.0f - lx.w1) * r0[x0 + o] + lx.w1 * r0[x1 + o];
    const float bot = (1.0f - lx.w1) * r1[x0 + o] + lx.w1 * r1[x1 + o];
    out[c] = u8_to_unit((1.0f - ly.w1) * top + ly.w1 * bot);
  }
}

}  // namespace pyframegan

namespace pyframegan {

// Writes every output pixel of preprocess_strips: rows are (b, k, y) with k over the selected
// tiles (inputs then targets), a row is S pixels wide; each pixel writes its 3 channel planes.
template <typename T>
struct StripKernel {
  StripParams p;
  T* inp;  // [B, 3*n_in, S, S]
  T* tgt;  // [B, 3*(n_sel-n_in), S, S]

  PFG_HD void operator()(int64_t row, int x) const {
    const int64_t S = p.size, plane = S * S;
    const int y = static_cast<int>(row % S);
    const int k = static_cast<int>((row / S) % p.n_sel);
    const int64_t b = row / (S * p.n_sel);
    float v[3];
    strip_pixel(p, b, k, y, x, v);
    const int n_tgt = p.n_sel - p.n_in;
    T* out = k < p.n_in ? inp + (b * p.n_in + k) * 3 * plane : tgt + (b * n_tgt + (k - p.n_in)) * 3 * plane;
    out += y * S + x;
    for (int c = 0; c < 3; ++c) out[c * plane] = static_cast<T>(v[c]);
  }
};

}  // namespace pyframegan
