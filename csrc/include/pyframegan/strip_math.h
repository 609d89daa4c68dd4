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
  const float src = fmaxf(scale * (static_cast<float>(dst) + 0.5f) - 0.5f, 0.0f);
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

// Everything about one output row (strip b, selected tile k, crop row y) that does not depend on x.
struct StripRow {
  const uint8_t* r0;  // source row (upper bilinear tap when resizing)
  const uint8_t* r1;  // lower bilinear tap row (== r0 without resize)
  float wy;           // weight of r1
  int x0, dx;         // tile column of output pixel x: x0 + dx * x (dx = -1 mirrors the crop)
};

PFG_HD StripRow strip_row(const StripParams& p, int64_t b, int k, int y) {
  const int oy = p.offsets ? static_cast<int>(p.offsets[2 * b]) : p.centre_y;
  const int ox = p.offsets ? static_cast<int>(p.offsets[2 * b + 1]) : p.centre_x;
  const bool flip = p.flip && p.flip[b];
  const int x0 = flip ? ox + p.size - 1 : ox, dx = flip ? -1 : 1;
  const uint8_t* tile = p.src + b * p.sb + static_cast<int64_t>(p.sel[k]) * p.tile_w * p.s.x;
  if (p.load == 0) {
    const uint8_t* r = tile + static_cast<int64_t>(oy + y) * p.s.y;
    return {r, r, 0.0f, x0, dx};
  }
  const Lerp ly = lerp_index(oy + y, p.scale_y, p.tile_h);
  return {tile + ly.i0 * p.s.y, tile + ly.i1 * p.s.y, ly.w1, x0, dx};
}

// Bilinear blend, vertical first: blend the two rows at each of the two columns, then the columns.
// (csrc/ops/cpu/strip_rows.h computes the vertical blend once per source column and row; the same
// order of operations keeps it bit-identical to this per-pixel form.)
PFG_HD float vertical_lerp(const uint8_t* r0, const uint8_t* r1, int64_t i, float wy) {
  return (1.0f - wy) * r0[i] + wy * r1[i];
}
PFG_HD float horizontal_lerp(float left, float right, float w1) { return (1.0f - w1) * left + w1 * right; }

// The three channels of output pixel x of a row, normalised to [-1, 1]. Two facts are template
// parameters so the compiler can fold them out of the per-pixel loop: kPacked, the strip's pixels
// are packed RGB (channel stride 1, pixel stride 3; otherwise the strides come from the params),
// and kResize, whether tiles are resized (p.load > 0). The CPU runs float32 rows of packed strips
// through the vectorised row paths in csrc/ops/cpu/strip_rows.h instead (same results).
template <bool kPacked, bool kResize>
PFG_HD void strip_pixel(const StripParams& p, const StripRow& r, int x, float out[3]) {
  const int64_t sx = kPacked ? 3 : p.s.x, sc = kPacked ? 1 : p.s.c;
  const int tx = r.x0 + r.dx * x;
  if (!kResize) {
    const uint8_t* px = r.r0 + tx * sx;
    for (int c = 0; c < 3; ++c) out[c] = u8_to_unit(px[c * sc]);
    return;
  }
  const Lerp lx = lerp_index(tx, p.scale_x, p.tile_w);
  const int64_t x0 = lx.i0 * sx, x1 = lx.i1 * sx;
  for (int c = 0; c < 3; ++c) {
    const int64_t o = c * sc;
    out[c] = u8_to_unit(horizontal_lerp(vertical_lerp(r.r0, r.r1, x0 + o, r.wy),
                                        vertical_lerp(r.r0, r.r1, x1 + o, r.wy), lx.w1));
  }
}

}  // namespace pyframegan

namespace pyframegan {

// Writes every output pixel of preprocess_strips: rows are (b, k, y) with k over the selected
// tiles (inputs then targets), a row is S pixels wide; each pixel writes its 3 channel planes.
// Like every pixel kernel: row(r) computes what a row shares, operator()(row, x) one pixel.
template <typename T, bool kPacked, bool kResize>
struct StripKernel {
  StripParams p;
  T* inp;  // [B, 3*n_in, S, S]
  T* tgt;  // [B, 3*(n_sel-n_in), S, S]

  struct Row {
    StripRow src;
    T* out;  // channel 0 of this output row; channel c is c * S * S further
  };

  PFG_HD Row row(int64_t row) const {
    const int64_t S = p.size, plane = S * S;
    const int y = static_cast<int>(row % S);
    const int k = static_cast<int>((row / S) % p.n_sel);
    const int64_t b = row / (S * p.n_sel);
    const int n_tgt = p.n_sel - p.n_in;
    T* out = k < p.n_in ? inp + (b * p.n_in + k) * 3 * plane : tgt + (b * n_tgt + (k - p.n_in)) * 3 * plane;
    return {strip_row(p, b, k, y), out + y * S};
  }

  PFG_HD void operator()(const Row& r, int x) const {
    float v[3];
    strip_pixel<kPacked, kResize>(p, r.src, x, v);
    const int64_t plane = static_cast<int64_t>(p.size) * p.size;
    for (int c = 0; c < 3; ++c) r.out[c * plane + x] = static_cast<T>(v[c]);
  }
};

}  // namespace pyframegan
