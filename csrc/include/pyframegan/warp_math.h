// Per-pixel math of the engine's fused post-op warp_blend: backward warping of the two input
// frames by the predicted flows, blend by the mask, residual, conversion to uint8, padding cropped.
// Shared by the CPU loops and the CUDA launches.
#pragma once
#include "pyframegan/common.h"

namespace pyframegan {

// The four neighbours of a sample point and their bilinear weights.
struct BilinearTaps {
  int x0, x1, y0, y1;
  float w00, w01, w10, w11;  // weights of (y0, x0), (y0, x1), (y1, x0), (y1, x1)
};

// Bilinear sampling at the fp32 pixel coordinate (sx, sy) of a width x height image with border
// (replicate) padding: the coordinate is clamped to [0, width-1] x [0, height-1] first. This is
// grid_sample(mode="bilinear", padding_mode="border", align_corners=True) at the normalised
// coordinate 2*sx/(width-1) - 1 (and likewise for y), its weights formed in the same order.
// A NaN coordinate clamps to 0.
PFG_HD BilinearTaps bilinear_taps(float sx, float sy, int width, int height) {
  sx = clamp_to(sx, 0.0f, static_cast<float>(width - 1));
  sy = clamp_to(sy, 0.0f, static_cast<float>(height - 1));
  const float fx = floorf(sx), fy = floorf(sy);
  const float wx = sx - fx, wy = sy - fy;  // exact
  const int x0 = static_cast<int>(fx), y0 = static_cast<int>(fy);
  // at the last row/column the far neighbour has weight 0; clamping keeps its read in bounds
  return {x0, x0 + 1 < width ? x0 + 1 : x0, y0, y0 + 1 < height ? y0 + 1 : y0,
          (1.0f - wy) * (1.0f - wx), (1.0f - wy) * wx, wy * (1.0f - wx), wy * wx};
}

// The taps' element offsets in a plane with strides (sy, sx), worked out once for all its channels.
struct TapOffsets {
  int64_t o00, o01, o10, o11;
  float w00, w01, w10, w11;
  PFG_HD TapOffsets(const BilinearTaps& t, int64_t sy, int64_t sx)
      : o00(t.y0 * sy + t.x0 * sx), o01(t.y0 * sy + t.x1 * sx), o10(t.y1 * sy + t.x0 * sx),
        o11(t.y1 * sy + t.x1 * sx), w00(t.w00), w01(t.w01), w10(t.w10), w11(t.w11) {}
};

template <typename T>
PFG_HD float bilinear_sample(const T* plane, const TapOffsets& t) {
  return static_cast<float>(plane[t.o00]) * t.w00 + static_cast<float>(plane[t.o01]) * t.w01 +
         static_cast<float>(plane[t.o10]) * t.w10 + static_cast<float>(plane[t.o11]) * t.w11;
}

// Taps of frame `img` at output pixel (y, x) displaced by flow[b, n] (channel 0: dx, 1: dy, in
// pixels): the sample point x + dx, y + dy is formed in fp32 whatever the flow's type.
template <typename F>
PFG_HD BilinearTaps flow_taps(const Strided<F>& flow, int64_t b, int n, int y, int x, int width, int height) {
  const float sx = static_cast<float>(x) + flow.at(b, n, 0, y, x);
  const float sy = static_cast<float>(y) + flow.at(b, n, 1, y, x);
  return bilinear_taps(sx, sy, width, height);
}

// Output frame n of item b, channel c, at (y, x), in [-1, 1] units:
//   v = mask * warp(i0, flow_t0) + (1 - mask) * warp(i1, flow_t1) + residual
// and, with the crossfade fallback (pyframegan.models.hybrid: alpha where the two warps disagree),
//   v + alpha * (i0 + t * (i1 - i0) - v), t the frame's time.
template <typename T, typename F>
struct WarpBlendParams {
  Strided<T> i0, i1;        // [B, 3, Hp, Wp]
  Strided<F> flow0, flow1;  // [B, N, 2, Hp, Wp]
  Strided<T> mask;          // [B, N, 1, Hp, Wp]
  Strided<T> residual;      // [B, N, 3, Hp, Wp]; data == nullptr: zero
  Strided<T> fallback;      // alpha [B, N, 1, Hp, Wp]; data == nullptr: none
  const float* times;       // [N]: the frames' times (with the fallback)
  int hp, wp;               // padded size: the domain that is sampled

  // The taps of frame n's two warps at output pixel (y, x) (in i0's and in i1's planes), and the
  // warps' channel c there.
  struct Taps {
    TapOffsets t0, t1;
  };
  PFG_HD Taps taps(int64_t b, int n, int y, int x) const {
    return {TapOffsets(flow_taps(flow0, b, n, y, x, wp, hp), i0.sy, i0.sx),
            TapOffsets(flow_taps(flow1, b, n, y, x, wp, hp), i1.sy, i1.sx)};
  }
  PFG_HD float warp0(const Taps& t, int64_t b, int c) const { return bilinear_sample(i0.plane(b, 0, c), t.t0); }
  PFG_HD float warp1(const Taps& t, int64_t b, int c) const { return bilinear_sample(i1.plane(b, 0, c), t.t1); }
};

// Rows (b, n, y) of the output frames [B, N, H, W, 3] (uint8, contiguous); a row is W pixels.
template <typename T, typename F>
struct WarpBlendKernel : FrameRows {
  static constexpr int64_t kItemCost = 8;  // work per pixel, for the CPU's rows per chunk: two warps of 3 channels
  WarpBlendParams<T, F> p;

  PFG_HD void operator()(const Row& r, int x) const {
    const auto taps = p.taps(r.b, r.n, r.y, x);
    const float m = p.mask.at(r.b, r.n, 0, r.y, x);
    const bool fallback = p.fallback.data != nullptr;
    const float alpha = fallback ? p.fallback.at(r.b, r.n, 0, r.y, x) : 0.0f, t = fallback ? p.times[r.n] : 0.0f;
    for (int c = 0; c < 3; ++c) {
      const float w0 = p.warp0(taps, r.b, c), w1 = p.warp1(taps, r.b, c);
      const float res = p.residual.data != nullptr ? p.residual.at(r.b, r.n, c, r.y, x) : 0.0f;
      float v = m * w0 + (1.0f - m) * w1 + res;
      if (fallback) {
        const float a = p.i0.at(r.b, 0, c, r.y, x), b = p.i1.at(r.b, 0, c, r.y, x);
        v += alpha * (a + t * (b - a) - v);
      }
      r.out[3 * x + c] = unit_to_u8(v);
    }
  }
};

// The crossfade fallback's measure of disagreement: for each block of kBlock x kBlock pixels of
// frame n (the last ones cut by the frame's edge), the mean over its pixels and the 3 channels of
// |warp(i0, flow_t0) - warp(i1, flow_t1)|: avg_pool2d(kBlock, ceil_mode) of the channels' mean.
// Rows (b, n, block row) of out [B, N, 1, ceil(Hp / kBlock), ceil(Wp / kBlock)] (float32, contiguous).
constexpr int kBlock = 4;

template <typename T, typename F>
struct WarpDisagreementKernel {
  WarpBlendParams<T, F> p;  // i0, i1, the flows and the size (the rest unused)
  float* out;
  int frames, hb, wb;       // frames a pair; blocks down and across

  struct Row {
    int64_t b;
    int n, by;
  };
  PFG_HD Row row(int64_t r) const {
    return {r / (static_cast<int64_t>(hb) * frames), static_cast<int>((r / hb) % frames), static_cast<int>(r % hb)};
  }
  // pixel (y, x)'s term of its block's sum: the channels' mean of |warp0 - warp1|
  PFG_HD float pixel(int64_t b, int n, int y, int x) const {
    const auto taps = p.taps(b, n, y, x);
    float d = 0.0f;
    for (int c = 0; c < 3; ++c) d += fabsf(p.warp0(taps, b, c) - p.warp1(taps, b, c));
    return d / 3.0f;
  }
  // the block's pixels: rows [y0, y1), columns [x0, x1)
  PFG_HD int block_end(int start, int size) const { return start + kBlock < size ? start + kBlock : size; }
  PFG_HD float* at(const Row& r, int bx) const {
    return out + ((r.b * frames + r.n) * static_cast<int64_t>(hb) + r.by) * wb + bx;
  }
  PFG_HD void operator()(const Row& r, int bx) const {
    const int y0 = r.by * kBlock, x0 = bx * kBlock, y1 = block_end(y0, p.hp), x1 = block_end(x0, p.wp);
    float sum = 0.0f;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) sum += pixel(r.b, r.n, y, x);
    *at(r, bx) = sum / static_cast<float>((y1 - y0) * (x1 - x0));
  }
};

}  // namespace pyframegan
