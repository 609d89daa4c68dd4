// Per-element math of the dis_flow op: Dense Inverse Search optical flow (T. Kroeger, R. Timofte,
// D. Dai, L. Van Gool: "Fast Optical Flow using Dense Inverse Search", ECCV 2016), step for step
// as OpenCV's DISOpticalFlow computes it, shared by the CPU loops and the CUDA launches.
//
// Every image is a contiguous float plane per pair, [B, h, w] (grey levels 0..255, integers where
// OpenCV keeps uint8); flows are [B, 2, h, w] (x then y, in pixels of the level).
//
// The steps, coarse to fine, per pyramid level:
//   1. patch search: for each patch of a grid (patch size, stride), an inverse-compositional
//      Gauss-Newton search of the displacement that best maps the patch of frame 0 into frame 1,
//      started from the coarser level's flow and from the neighbours' results (spatial propagation),
//      in two passes: forward (from top left) and backward (from bottom right).
//   2. densification: each pixel's flow is the average of the patches covering it, weighted by
//      1 / max(1, |photometric error|).
//   3. variational refinement: fixed-point iterations of a data (brightness + gradient constancy)
//      and smoothness energy, each solved by red-black SOR.
//
// Where OpenCV's order of visits matters it is kept, and made order-free where the hardware needs it:
// the patch search runs 8 fixed stripes of patch rows, each visited in raster order, as OpenCV does;
// a patch depends only on its left and upper neighbour (forward pass), so the CUDA driver runs a
// stripe as a wavefront of anti-diagonals and computes exactly the sequential result. The
// refinement is red-black SOR in OpenCV too; its sums are gathered per pixel in OpenCV's order.
// Sums over a patch use 4 lanes (columns c and c + 4 share lane c % 4), reduced as
// (l0 + l1) + (l2 + l3): OpenCV's 128-bit SIMD order for 8x8 patches.
#pragma once
#include "pyframegan/common.h"

namespace pyframegan {
namespace dis {

constexpr int kBorder = 16;        // the replicated border of frame 1 in the patch search (OpenCV's)
constexpr int kStripes = 8;        // patch-row stripes of the search (fixed, as in OpenCV: reproducible)
constexpr float kEps = 0.001f;     // OpenCV's EPS
constexpr float kInf = 1e10f;      // OpenCV's INF
constexpr int kSorIterations = 5;  // OpenCV's DIS sets these on its refinement
constexpr float kOmega = 1.6f;
constexpr float kZeta = 0.1f;      // the refinement's zeta (its epsilon is a parameter)

struct PlaneRow {
  int64_t b;
  int y;
};

// Four float lanes: a 128-bit vector on the CPU (GCC/Clang vector extension: the compiler emits
// SSE/NEON), four registers on the GPU. Lane k of a patch row's sums holds its columns k, k + 4, ...
#if defined(__CUDA_ARCH__)
struct F4 {
  float x[4];
  PFG_HD float& operator[](int k) { return x[k]; }
  PFG_HD float operator[](int k) const { return x[k]; }
};
PFG_HD F4 operator+(F4 a, F4 b) { return {{a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]}}; }
PFG_HD F4 operator-(F4 a, F4 b) { return {{a[0] - b[0], a[1] - b[1], a[2] - b[2], a[3] - b[3]}}; }
PFG_HD F4 operator*(F4 a, F4 b) { return {{a[0] * b[0], a[1] * b[1], a[2] * b[2], a[3] * b[3]}}; }
PFG_HD F4 operator/(F4 a, F4 b) { return {{a[0] / b[0], a[1] / b[1], a[2] / b[2], a[3] / b[3]}}; }
PFG_HD F4 splat4(float v) { return {{v, v, v, v}}; }
#else
typedef float F4 __attribute__((vector_size(16)));
PFG_HD F4 splat4(float v) { return F4{v, v, v, v}; }
#endif
PFG_HD F4 load4(const float* p) { return F4{p[0], p[1], p[2], p[3]}; }
PFG_HD void store4(float* p, const F4& v) {
  for (int k = 0; k < 4; ++k) p[k] = v[k];
}
PFG_HD F4 sqrt4(const F4& v) {
#if !defined(__CUDA_ARCH__) && defined(__SSE__)
  return __builtin_ia32_sqrtps(v);
#else
  return F4{sqrtf(v[0]), sqrtf(v[1]), sqrtf(v[2]), sqrtf(v[3])};
#endif
}
PFG_HD float reduce4(const F4& l) { return (l[0] + l[1]) + (l[2] + l[3]); }

// The refinement's SOR and system kernels are written once for any lane type V: F4 here (CPU and
// GPU); the CPU's row path also runs them on 8 lanes (csrc/ops/cpu/dis_rows.cpp specialises these
// for its 8-lane type). Lane-wise operations only, so any width gives the same bits.
template <typename V> PFG_HD V vload(const float* p);
template <typename V> PFG_HD V vsplat(float v);
template <typename V> PFG_HD void vstore(float* p, const V& v);
template <typename V> PFG_HD V vsqrt(const V& v);
template <> PFG_HD F4 vload<F4>(const float* p) { return load4(p); }
template <> PFG_HD F4 vsplat<F4>(float v) { return splat4(v); }
template <> PFG_HD void vstore<F4>(float* p, const F4& v) { store4(p, v); }
template <> PFG_HD F4 vsqrt<F4>(const F4& v) { return sqrt4(v); }

// Rows (b, y) of [B, h, w] planes; a row is w pixels.
struct Rows {
  int h;
  PFG_HD PlaneRow row(int64_t r) const { return {r / h, static_cast<int>(r % h)}; }
};

PFG_HD int clamp_index(int v, int n) { return v < 0 ? 0 : (v >= n ? n - 1 : v); }
// BORDER_REFLECT_101 (OpenCV's default border): -1 -> 1, n -> n - 2
PFG_HD int reflect101(int v, int n) {
  if (n == 1) return 0;
  v = v < 0 ? -v : v;
  return v >= n ? 2 * (n - 1) - v : v;
}

// --- 0. frames -> grey planes -------------------------------------------------------------------
// uint8 RGB [B, H, W, 3] (any strides) -> grey as OpenCV 5's COLOR_RGB2GRAY (15-bit fixed point:
// 0.299 R + 0.587 G + 0.114 B, rounded; OpenCV 4 used 14 bits, one level off on 0.3% of pixels); float grey [B, 1, H, W] in [0, 1] -> round(255 v), clamped.
struct GreyKernel : Rows {
  const uint8_t* rgb;  // either this (with strides) ...
  int64_t sb, sy, sx, sc;
  const float* grey;   // ... or this: [B, H, W] contiguous
  float* out;          // [B, H, W]
  int w;

  PFG_HD void operator()(const PlaneRow& r, int x) const {
    const int64_t o = (r.b * h + r.y) * static_cast<int64_t>(w) + x;
    if (grey != nullptr) {
      out[o] = clamp_to(rintf(grey[o] * 255.0f), 0.0f, 255.0f);
      return;
    }
    const uint8_t* p = rgb + r.b * sb + r.y * sy + x * sx;
    const int v = (p[0] * 9798 + p[sc] * 19235 + p[2 * sc] * 3735 + (1 << 14)) >> 15;
    out[o] = static_cast<float>(v);
  }
};

// --- 1. the pyramid ---------------------------------------------------------------------------------
// cv::resize(INTER_AREA) of a uint8 image: src [B, sh, sw] -> dst [B, h, w]. Exactly 2x smaller:
// the 2x2 mean rounded half up ((s + 2) >> 2); another integer factor k: the k x k mean rounded to
// even; any other ratio: area-weighted, per axis as OpenCV weighs the cells.
struct AreaWeights {
  int first, count;  // source indices [first, first + count)
  float w_first, w_mid, w_last;
};

PFG_HD AreaWeights area_weights(int d, int src, int dst) {
  const double scale = static_cast<double>(src) / dst;
  const double f1 = d * scale, f2 = f1 + scale;
  const int s1 = static_cast<int>(ceil(f1)), s2 = static_cast<int>(floor(f2));
  const double cell = scale < src - f1 ? scale : src - f1;
  AreaWeights a{s1, s2 - s1, 0.0f, static_cast<float>(1.0 / cell), 0.0f};
  if (s1 - f1 > 1e-3) a.first = s1 - 1, a.count += 1, a.w_first = static_cast<float>((s1 - f1) / cell);
  else a.w_first = a.w_mid;
  if (f2 - s2 > 1e-3 && s2 < src) {
    double last = f2 - s2 < 1.0 ? f2 - s2 : 1.0;
    last = last < cell ? last : cell;
    a.count += 1, a.w_last = static_cast<float>(last / cell);
  } else {
    a.w_last = a.w_mid;
  }
  return a;
}

PFG_HD float area_weight(const AreaWeights& a, int k) {
  return k == 0 ? a.w_first : (k == a.count - 1 ? a.w_last : a.w_mid);
}

struct AreaDownKernel : Rows {
  const float* src;  // [B, sh, sw]
  float* dst;        // [B, h, w]
  int sh, sw, w;

  PFG_HD void operator()(const PlaneRow& r, int x) const {
    const float* s = src + r.b * sh * static_cast<int64_t>(sw);
    float* d = dst + (r.b * h + r.y) * static_cast<int64_t>(w) + x;
    const int kx = sw / w, ky = sh / h;
    if (kx * w == sw && ky * h == sh && kx == ky) {  // OpenCV's integer-factor fast path
      int sum = 0;
      for (int j = 0; j < ky; ++j)
        for (int i = 0; i < kx; ++i) sum += static_cast<int>(s[(r.y * ky + j) * static_cast<int64_t>(sw) + x * kx + i]);
      *d = kx == 2 ? static_cast<float>((sum + 2) >> 2)
                   : clamp_to(rintf(static_cast<float>(sum) * (1.0f / static_cast<float>(kx * ky))), 0.0f, 255.0f);
      return;
    }
    const AreaWeights ax = area_weights(x, sw, w), ay = area_weights(r.y, sh, h);
    float sum = 0.0f;
    for (int j = 0; j < ay.count; ++j) {
      float row = 0.0f;
      const float* sr = s + (ay.first + j) * static_cast<int64_t>(sw);
      for (int i = 0; i < ax.count; ++i) row += sr[ax.first + i] * area_weight(ax, i);
      sum += row * area_weight(ay, j);
    }
    *d = clamp_to(rintf(sum), 0.0f, 255.0f);
  }
};

// cv::spatialGradient: 3x3 Sobel x and y derivatives (unnormalised, as OpenCV's int16 output),
// border reflected (BORDER_REFLECT_101).
struct SobelKernel : Rows {
  const float* img;  // [B, h, w]
  float *gx, *gy;    // [B, h, w]
  int w;

  PFG_HD void operator()(const PlaneRow& r, int x) const {
    const float* p = img + r.b * h * static_cast<int64_t>(w);
    const int y0 = reflect101(r.y - 1, h), y2 = reflect101(r.y + 1, h);
    const int x0 = reflect101(x - 1, w), x2 = reflect101(x + 1, w);
    auto at = [&](int yy, int xx) { return static_cast<int>(p[yy * static_cast<int64_t>(w) + xx]); };
    const int dx = (at(y0, x2) - at(y0, x0)) + 2 * (at(r.y, x2) - at(r.y, x0)) + (at(y2, x2) - at(y2, x0));
    const int dy = (at(y2, x0) - at(y0, x0)) + 2 * (at(y2, x) - at(y0, x)) + (at(y2, x2) - at(y0, x2));
    const int64_t o = (r.b * h + r.y) * static_cast<int64_t>(w) + x;
    gx[o] = static_cast<float>(dx);
    gy[o] = static_cast<float>(dy);
  }
};

// Frame 1 of a level with a replicated border of kBorder pixels: [B, h + 2k, w + 2k].
struct PadKernel {
  const float* src;  // [B, h, w]
  float* dst;
  int h, w;
  PFG_HD int ph() const { return h + 2 * kBorder; }
  PFG_HD int pw() const { return w + 2 * kBorder; }
  PFG_HD PlaneRow row(int64_t r) const { return {r / ph(), static_cast<int>(r % ph())}; }
  PFG_HD void operator()(const PlaneRow& r, int x) const {
    const int sy = clamp_index(r.y - kBorder, h), sx = clamp_index(x - kBorder, w);
    dst[(r.b * ph() + r.y) * static_cast<int64_t>(pw()) + x] = src[(r.b * h + sy) * static_cast<int64_t>(w) + sx];
  }
};

// The coefficients of cv::resize(INTER_LINEAR): source coordinate (d + 0.5) * src/dst - 0.5, clamped
// at the edges.
struct LinearTap {
  int i0, i1;
  float a0, a1;
};

// ratio: src / dst, as OpenCV computes it (1 / (dst / src), in double)
PFG_HD LinearTap linear_tap(int d, int src, double ratio) {
  float f = static_cast<float>((d + 0.5) * ratio - 0.5);
  int s = static_cast<int>(floorf(f));
  f -= static_cast<float>(s);
  if (s < 0) s = 0, f = 0.0f;
  if (s >= src - 1) s = src - 1, f = 0.0f;
  return {s, s + 1 < src ? s + 1 : s, 1.0f - f, f};
}

// The taps of cv::resize(INTER_LINEAR) from sh x sw to h x w: taps[x] for the columns, taps[w + y]
// for the rows (ratios as OpenCV computes them: 1 / (h / sh)), made once per resize.
struct ResizeTapsKernel {
  LinearTap* taps;  // [w + h]
  int sh, sw, h, w;
  double ry, rx;
  ResizeTapsKernel(LinearTap* taps_, int sh_, int sw_, int h_, int w_)
      : taps(taps_), sh(sh_), sw(sw_), h(h_), w(w_), ry(1.0 / (static_cast<double>(h_) / sh_)),
        rx(1.0 / (static_cast<double>(w_) / sw_)) {}
  PFG_HD int64_t row(int64_t r) const { return r; }
  PFG_HD void operator()(int64_t, int c) const { taps[c] = c < w ? linear_tap(c, sw, rx) : linear_tap(c - w, sh, ry); }
};

// cv::resize(INTER_LINEAR) of a float flow [B, 2, sh, sw] -> [B, 2, h, w], times `scale`. Rows:
// B * 2 * h (b: pair * 2 + channel).
struct ResizeFlowKernel : Rows {
  const float* src;  // [B, 2, sh, sw]
  float* dst;        // [B, 2, h, w]
  const LinearTap* taps;  // ResizeTapsKernel's
  int sh, sw, w;
  float scale;
  PFG_HD void operator()(const PlaneRow& r, int x) const {
    const float* s = src + r.b * sh * static_cast<int64_t>(sw);
    const LinearTap tx = taps[x], ty = taps[w + r.y];
    const float* r0 = s + ty.i0 * static_cast<int64_t>(sw);
    const float* r1 = s + ty.i1 * static_cast<int64_t>(sw);
    const float h0 = r0[tx.i0] * tx.a0 + r0[tx.i1] * tx.a1;
    const float h1 = r1[tx.i0] * tx.a0 + r1[tx.i1] * tx.a1;
    dst[(r.b * h + r.y) * static_cast<int64_t>(w) + x] = (h0 * ty.a0 + h1 * ty.a1) * scale;
  }
};

// --- 2. patch search -------------------------------------------------------------------------------
struct Level {
  int h, w;    // level size
  int hs, ws;  // patch grid: 1 + (h - patch) / stride rows, 1 + (w - patch) / stride columns
};

// Stripe s of kStripes covers the patch rows [begin, end) (OpenCV: ceil(hs / 8) rows a stripe).
PFG_HD int stripe_rows(int hs) { return (hs + kStripes - 1) / kStripes; }
PFG_HD int stripe_begin(int s, int hs) { int v = s * stripe_rows(hs); return v < hs ? v : hs; }
PFG_HD int stripe_end(int s, int hs) { return stripe_begin(s + 1, hs); }

struct Bilinear {
  const float* p;  // top-left of the sampled patch in the padded frame 1
  float w00, w01, w10, w11;
};

struct PatchSums {
  float ssd, dux, duy;
};

// The structure tensor of each patch of the grid: the sums over the patch of gx^2, gy^2, gx gy, gx,
// gy of the Sobel gradients of frame 0 (exact integer sums: |g| <= 4 * 255, so the sums of at most
// kBorder^2 products stay below 2^31), as floats. Rows: B * hs; columns: ws.
enum Structure { kHxx, kHyy, kHxy, kSx, kSy, kStructure };

struct StructureKernel : Rows {  // Rows{lv.hs}: y is the patch row
  static constexpr int64_t kItemCost = 16;  // work per item, for the CPU's rows per chunk: a patch's sums
  const float *gx, *gy;  // [B, h, w]
  float* out;            // [B, kStructure, hs, ws]
  Level lv;
  int patch, stride;
  PFG_HD void operator()(const PlaneRow& r, int js) const {
    const int64_t plane = static_cast<int64_t>(lv.h) * lv.w, grid = static_cast<int64_t>(lv.hs) * lv.ws;
    const int i = r.y * stride, j = js * stride;
    int sxx = 0, syy = 0, sxy = 0, s_x = 0, s_y = 0;
    for (int y = 0; y < patch; ++y) {
      const float* ax = gx + r.b * plane + (i + y) * static_cast<int64_t>(lv.w) + j;
      const float* ay = gy + r.b * plane + (i + y) * static_cast<int64_t>(lv.w) + j;
      for (int c = 0; c < patch; ++c) {
        const int vx = static_cast<int>(ax[c]), vy = static_cast<int>(ay[c]);
        sxx += vx * vx, syy += vy * vy, sxy += vx * vy, s_x += vx, s_y += vy;
      }
    }
    float* o = out + r.b * kStructure * grid + r.y * static_cast<int64_t>(lv.ws) + js;
    o[kHxx * grid] = static_cast<float>(sxx), o[kHyy * grid] = static_cast<float>(syy);
    o[kHxy * grid] = static_cast<float>(sxy), o[kSx * grid] = static_cast<float>(s_x), o[kSy * grid] = static_cast<float>(s_y);
  }
};

struct PatchSearch {
  const float* i0;   // [B, h, w]
  const float* i1p;  // [B, h + 2k, w + 2k]: frame 1 with its replicated border
  const float *gx, *gy;  // Sobel gradients of frame 0, [B, h, w]
  const float* flow;     // the coarser level's flow, upscaled: [B, 2, h, w]
  const float* structure;  // the patches' structure tensors: [B, kStructure, hs, ws] (StructureKernel)
  float* sparse;         // the patches' flows: [B, 2, hs, ws]
  Level lv;
  int patch, stride, inner_iters;
  bool mean_norm, propagate;
  bool backward;  // the second pass (from the bottom right), when propagating

  PFG_HD int64_t plane() const { return static_cast<int64_t>(lv.h) * lv.w; }
  PFG_HD int64_t grid() const { return static_cast<int64_t>(lv.hs) * lv.ws; }
  PFG_HD int pw() const { return lv.w + 2 * kBorder; }

  // OpenCV's INIT_BILINEAR_WEIGHTS: the patch's position in frame 1, clamped to the padded frame.
  PFG_HD Bilinear sampler(int64_t b, int i, int j, float ux, float uy) const {
    const float lo_i = static_cast<float>(kBorder - patch + 1), hi_i = static_cast<float>(kBorder + lv.h - 1);
    const float lo_j = static_cast<float>(kBorder - patch + 1), hi_j = static_cast<float>(kBorder + lv.w - 1);
    float yi = static_cast<float>(i) + uy + static_cast<float>(kBorder);
    float xj = static_cast<float>(j) + ux + static_cast<float>(kBorder);
    yi = yi > lo_i ? (yi < hi_i ? yi : hi_i) : lo_i;
    xj = xj > lo_j ? (xj < hi_j ? xj : hi_j) : lo_j;
    const float fy = floorf(yi), fx = floorf(xj);
    const int64_t ph = lv.h + 2 * kBorder;
    return {i1p + (b * ph + static_cast<int>(yi)) * pw() + static_cast<int>(xj), (fy + 1 - yi) * (fx + 1 - xj),
            (fy + 1 - yi) * (xj - fx), (yi - fy) * (fx + 1 - xj), (yi - fy) * (xj - fx)};
  }

  // SSD of the patch at (i, j) against frame 1 at the sampler (mean-normalised: minus the squared
  // mean difference), and, with kGrad, the gradient sums sum(diff * gx), sum(diff * gy) (likewise).
  // kPatch: the patch size when known at compile time (OpenCV's 8: loops the compiler unrolls), else 0
  template <bool kGrad, int kPatch>
  PFG_HD PatchSums sums(int64_t b, int i, int j, const Bilinear& s, float gsum_x, float gsum_y) const {
    const int patch = kPatch > 0 ? kPatch : this->patch;
    const F4 zero = splat4(0.0f), w00 = splat4(s.w00), w01 = splat4(s.w01), w10 = splat4(s.w10), w11 = splat4(s.w11);
    F4 l_ssd = zero, l_sum = zero, l_x = zero, l_y = zero;
    const float* a = i0 + b * plane() + i * static_cast<int64_t>(lv.w) + j;
    const float* ax = gx + b * plane() + i * static_cast<int64_t>(lv.w) + j;
    const float* ay = gy + b * plane() + i * static_cast<int64_t>(lv.w) + j;
    const int full = patch & ~3;  // columns in whole groups of four; the rest one by one, same lanes
    // a row's lower samples are the next row's upper ones: each row of frame 1 is loaded once
    F4 up0[kBorder / 4], up1[kBorder / 4];
    for (int c = 0; c < full; c += 4) up0[c / 4] = load4(s.p + c), up1[c / 4] = load4(s.p + c + 1);
    for (int r = 0; r < patch; ++r) {
      const float* p0 = s.p + r * static_cast<int64_t>(pw());
      const float* p1 = p0 + pw();
      F4 r_ssd = zero, r_sum = zero, r_x = zero, r_y = zero;
      for (int c = 0; c < full; c += 4) {
        const F4 lo0 = load4(p1 + c), lo1 = load4(p1 + c + 1);
        const F4 d = w00 * up0[c / 4] + w01 * up1[c / 4] + w10 * lo0 + w11 * lo1 - load4(a + c);
        up0[c / 4] = lo0, up1[c / 4] = lo1;
        r_ssd = r_ssd + d * d;
        r_sum = r_sum + d;
        if (kGrad) {
          r_x = r_x + d * load4(ax + c);
          r_y = r_y + d * load4(ay + c);
        }
      }
      for (int c = full; c < patch; ++c) {
        const float d = s.w00 * p0[c] + s.w01 * p0[c + 1] + s.w10 * p1[c] + s.w11 * p1[c + 1] - a[c];
        const int k = c & 3;
        r_ssd[k] += d * d;
        r_sum[k] += d;
        if (kGrad) {
          r_x[k] += d * ax[c];
          r_y[k] += d * ay[c];
        }
      }
      l_ssd = l_ssd + r_ssd;
      l_sum = l_sum + r_sum;
      if (kGrad) l_x = l_x + r_x, l_y = l_y + r_y;
      a += lv.w, ax += lv.w, ay += lv.w;
    }
    const float ssd = reduce4(l_ssd), dux = kGrad ? reduce4(l_x) : 0.0f, duy = kGrad ? reduce4(l_y) : 0.0f;
    if (!mean_norm) return {ssd, dux, duy};
    const float n = static_cast<float>(patch) * static_cast<float>(patch), sum = reduce4(l_sum);
    return {ssd - sum * sum / n, dux - sum * gsum_x / n, duy - sum * gsum_y / n};
  }

  template <bool kGrad>
  PFG_HD PatchSums sums(int64_t b, int i, int j, const Bilinear& s, float gsum_x, float gsum_y) const {
    return patch == 8 ? sums<kGrad, 8>(b, i, j, s, gsum_x, gsum_y) : sums<kGrad, 0>(b, i, j, s, gsum_x, gsum_y);
  }

  PFG_HD float ssd(int64_t b, int i, int j, float ux, float uy) const {
    return sums<false>(b, i, j, sampler(b, i, j, ux, uy), 0.0f, 0.0f).ssd;
  }

  // One patch (is, js) of the pass, within the stripe of patch rows [s0, s1).
  PFG_HD void visit(int64_t b, int is, int js, int s0, int s1) const {
    float* sx = sparse + b * 2 * grid();
    float* sy = sx + grid();
    const int64_t k = is * static_cast<int64_t>(lv.ws) + js;
    const int i = is * stride, j = js * stride;
    if (!backward) {  // the coarser level's flow at the patch centre starts the search
      const float* u = flow + b * 2 * plane();
      const int64_t c = (i + patch / 2) * static_cast<int64_t>(lv.w) + j + patch / 2;
      sx[k] = u[c];
      sy[k] = u[plane() + c];
    }
    if (propagate) {  // the better of its own and its neighbours' flows (left/up; right/down going back)
      float best = ssd(b, i, j, sx[k], sy[k]);
      const int dir = backward ? -1 : 1;
      const bool has_col = backward ? js < lv.ws - 1 : js > 0;
      const bool has_row = backward ? is < s1 - 1 : is > s0;
      if (has_col) {
        const int64_t n = k - dir;
        const float v = ssd(b, i, j, sx[n], sy[n]);
        if (v < best) best = v, sx[k] = sx[n], sy[k] = sy[n];
      }
      if (has_row) {
        const int64_t n = k - dir * static_cast<int64_t>(lv.ws);
        const float v = ssd(b, i, j, sx[n], sy[n]);
        if (v < best) best = v, sx[k] = sx[n], sy[k] = sy[n];
      }
    }
    // the patch's structure tensor (StructureKernel's, made once a level for both passes)
    const float* st = structure + b * kStructure * grid() + k;
    const float hxx = st[kHxx * grid()], hyy = st[kHyy * grid()], hxy = st[kHxy * grid()];
    const float s_x = st[kSx * grid()], s_y = st[kSy * grid()];
    float det = hxx * hyy - hxy * hxy;
    if (fabsf(det) < kEps) det = kEps;
    const float inv11 = hyy / det, inv12 = -hxy / det, inv22 = hxx / det;
    float ux = sx[k], uy = sy[k], prev = kInf;
    for (int t = 0; t < inner_iters; ++t) {  // inverse-compositional Gauss-Newton steps
      const PatchSums g = sums<true>(b, i, j, sampler(b, i, j, ux, uy), s_x, s_y);
      ux -= inv11 * g.dux + inv12 * g.duy;
      uy -= inv12 * g.dux + inv22 * g.duy;
      if (g.ssd >= prev) break;  // stop when the patch distance stops decreasing
      prev = g.ssd;
    }
    // a result more than a patch away from where the search started is not trusted
    const double dx = static_cast<double>(ux - sx[k]), dy = static_cast<double>(uy - sy[k]);
    if (sqrt(dx * dx + dy * dy) <= static_cast<double>(patch)) sx[k] = ux, sy[k] = uy;
  }

  // Stripe s of pair b, in the pass's order (the CPU driver; the CUDA one runs anti-diagonals).
  PFG_HD void run_stripe(int64_t b, int s) const {
    const int s0 = stripe_begin(s, lv.hs), s1 = stripe_end(s, lv.hs);
    if (!backward) {
      for (int is = s0; is < s1; ++is)
        for (int js = 0; js < lv.ws; ++js) visit(b, is, js, s0, s1);
    } else {
      for (int is = s1 - 1; is >= s0; --is)
        for (int js = lv.ws - 1; js >= 0; --js) visit(b, is, js, s0, s1);
    }
  }
  // The patch at step `diag` of the wavefront, row r of the stripe (false: none there).
  PFG_HD void visit_diagonal(int64_t b, int s, int r, int diag) const {
    const int s0 = stripe_begin(s, lv.hs), s1 = stripe_end(s, lv.hs), c = diag - r;
    if (r >= s1 - s0 || c < 0 || c >= lv.ws) return;
    if (!backward) visit(b, s0 + r, c, s0, s1);
    else visit(b, s1 - 1 - r, lv.ws - 1 - c, s0, s1);
  }
};

// --- 3. densification ---------------------------------------------------------------------------------
// The range [first, last] of patch rows (or columns) covering pixel row i: those starting at or
// before i and not ended before it, never fewer than the last patch (as OpenCV counts them).
PFG_HD void covering(int i, int patch, int stride, int cells, int& first, int& last) {
  last = i / stride;
  last = last < cells - 1 ? last : cells - 1;
  const int ended = i >= patch ? (i - patch) / stride + 1 : 0;
  first = ended < last ? ended : last;
}

struct Cover {
  int first, last;
};

// The patch columns covering each pixel column of a level (covering(), made once per level: a
// division per pixel otherwise). Rows: 1; columns: the level's width.
struct CoverKernel {
  Cover* columns;  // [w]
  int patch, stride, cells;
  PFG_HD int64_t row(int64_t r) const { return r; }
  PFG_HD void operator()(int64_t, int j) const { covering(j, patch, stride, cells, columns[j].first, columns[j].last); }
};

struct DensifyRow {
  int64_t b;
  int y;
  Cover rows;  // the patch rows covering row y
};

struct DensifyKernel {
  static constexpr int64_t kItemCost = 8;  // work per item, for the CPU's rows per chunk: a pixel sums the patches over it
  const float* sparse;  // [B, 2, hs, ws]
  const float *i0, *i1p;  // frame 0 [B, h, w] and padded frame 1
  float* flow;            // [B, 2, h, w]
  const Cover* columns;   // CoverKernel's
  Level lv;
  int patch, stride;

  PFG_HD DensifyRow row(int64_t r) const {
    DensifyRow d{r / lv.h, static_cast<int>(r % lv.h), {0, 0}};
    covering(d.y, patch, stride, lv.hs, d.rows.first, d.rows.last);
    return d;
  }
  PFG_HD void operator()(const DensifyRow& r, int j) const {
    const int64_t grid = static_cast<int64_t>(lv.hs) * lv.ws, plane = static_cast<int64_t>(lv.h) * lv.w;
    const int pw = lv.w + 2 * kBorder;
    const float* sx = sparse + r.b * 2 * grid;
    const float* sy = sx + grid;
    const float* p1 = i1p + (r.b * (lv.h + 2 * kBorder) + kBorder) * static_cast<int64_t>(pw) + kBorder;
    const float v0 = i0[r.b * plane + r.y * static_cast<int64_t>(lv.w) + j];
    const int is0 = r.rows.first, is1 = r.rows.last, js0 = columns[j].first, js1 = columns[j].last;
    float sum_x = 0.0f, sum_y = 0.0f, sum_c = 0.0f;
    for (int is = is0; is <= is1; ++is)
      for (int js = js0; js <= js1; ++js) {
        const int64_t k = is * static_cast<int64_t>(lv.ws) + js;
        const float jm = clamp_to(static_cast<float>(j) + sx[k], 0.0f, static_cast<float>(lv.w) - 1.0f - kEps);
        const float im = clamp_to(static_cast<float>(r.y) + sy[k], 0.0f, static_cast<float>(lv.h) - 1.0f - kEps);
        const int jl = static_cast<int>(jm), ju = jl + 1, il = static_cast<int>(im), iu = il + 1;
        const float diff = (jm - jl) * (im - il) * p1[iu * static_cast<int64_t>(pw) + ju] +
                           (ju - jm) * (im - il) * p1[iu * static_cast<int64_t>(pw) + jl] +
                           (jm - jl) * (iu - im) * p1[il * static_cast<int64_t>(pw) + ju] +
                           (ju - jm) * (iu - im) * p1[il * static_cast<int64_t>(pw) + jl] - v0;
        const float ad = fabsf(diff);
        const float coef = 1.0f / (ad > 1.0f ? ad : 1.0f);  // a max (maxss), not fmaxf: a libm call without -ffast-math
        sum_x += coef * sx[k];
        sum_y += coef * sy[k];
        sum_c += coef;
      }
    float* f = flow + r.b * 2 * plane + r.y * static_cast<int64_t>(lv.w) + j;
    f[0] = sum_x / sum_c;
    f[plane] = sum_y / sum_c;
  }
};

// --- 4. variational refinement ----------------------------------------------------------------------------
// OpenCV's VariationalRefinement with the flow W fixed and the increment dW solved for. In the
// pixel layout, deriv [kPixelDerivs, h, w] holds Ix, Iy, Iz, Ixz, Iyz (of the mean of frame 0 and
// the warped frame 1, and of their difference Iz; the other planes unused). Everything the fixed-point
// iterations read is then kept in the red-black layout below (as OpenCV does), where each pixel's
// neighbours are contiguous and the kernels take four pixels of a row at once: terms [kTerms] =
// the eight derivatives, the parts of the data terms that do not change with dW (the three gradient
// norms, the gradient-constancy quotients: once per level), W itself, and the smoothness weights of
// each pixel's right and lower edges (WR, WD: zero where the frame ends); dW [2]; the linear systems
// [kSystem] = A11, A12, A22, b1, b2.
enum Term { kIx, kIy, kIz, kIxx, kIxy, kIyy, kIxz, kIyz, kNorm, kNormX, kNormY, kQ11, kQ12, kQ22, kQB1, kQB2,
            kU, kV, kWR, kWD, kTerms };
constexpr int kPixelDerivs = kIyz + 1;  // the derivative planes in the pixel layout (kIx .. kIyz)
enum System { kA11, kA12, kA22, kB1, kB2, kSystem };

// The red-black layout of a level's planes: pixel (y, x) has colour c = (y + x) & 1 and lives at
// column k = x >> 1 of row y of its colour's plane. A plane has a zero border one row and one column
// wide, and each row is padded to whole groups of 4 columns (padding that the SOR updates and that
// stays zero: its terms are zero but for the norms, so b = 0 and its edge weights are zero). In row y
// of colour c, the pixel at k has its
// left and right neighbours at k + p - 1 and k + p of the other colour (p = (y + c) & 1), and its
// upper and lower ones at k of the other colour's rows y - 1 and y + 1.
struct RedBlack {
  int h, w;
  PFG_HD int groups() const { return ((w + 1) / 2 + 3) / 4; }  // groups of 4 columns a row
  PFG_HD int pitch() const { return 4 * groups() + 2; }
  PFG_HD int64_t plane() const { return static_cast<int64_t>(h + 2) * pitch(); }
  PFG_HD int64_t at(int y, int k) const { return static_cast<int64_t>(y + 1) * pitch() + 1 + k; }
  PFG_HD int64_t of_pixel(int y, int x) const { return at(y, x >> 1); }
  PFG_HD static int colour(int y, int x) { return (y + x) & 1; }
};

// Frame 1 warped by W (cv::remap INTER_LINEAR, BORDER_REPLICATE; OpenCV 5 samples at the float
// coordinate, 4.x rounded it to 1/32 pixel), then avg = I0 / 2 + warped / 2 and Iz = warped - I0 (deriv plane kIz).
struct WarpKernel : Rows {
  const float *i0, *i1, *flow;  // [B, h, w], [B, h, w], [B, 2, h, w]
  float *deriv, *avg;           // [B, kPixelDerivs, h, w], [B, h, w]
  int w;

  PFG_HD void operator()(const PlaneRow& r, int x) const {
    const int64_t plane = static_cast<int64_t>(h) * w, o = r.y * static_cast<int64_t>(w) + x;
    const float* f = flow + r.b * 2 * plane;
    const float sx = static_cast<float>(x) + f[o], sy = static_cast<float>(r.y) + f[plane + o];
    const float fx = floorf(sx), fy = floorf(sy);
    const float ax = sx - fx, ay = sy - fy;
    // a coordinate far outside (or NaN) clamps to the border before it is turned into an index
    const int x0 = static_cast<int>(clamp_to(fx, -1.0f, static_cast<float>(w)));
    const int y0 = static_cast<int>(clamp_to(fy, -1.0f, static_cast<float>(h)));
    const float* p = i1 + r.b * plane;
    auto at = [&](int yy, int xx) { return p[clamp_index(yy, h) * static_cast<int64_t>(w) + clamp_index(xx, w)]; };
    const float warped = at(y0, x0) * ((1.0f - ay) * (1.0f - ax)) + at(y0, x0 + 1) * ((1.0f - ay) * ax) +
                         at(y0 + 1, x0) * (ay * (1.0f - ax)) + at(y0 + 1, x0 + 1) * (ay * ax);
    const float v0 = i0[r.b * plane + o];
    avg[r.b * plane + o] = v0 * 0.5f + warped * 0.5f;
    deriv[r.b * kPixelDerivs * plane + kIz * plane + o] = warped - v0;
  }
};

// Central differences (cv::Sobel ksize 1, border replicated): src plane -> dst plane, d/dx or d/dy.
PFG_HD float central_diff(const float* p, int h, int w, int y, int x, bool dy) {
  if (dy) return p[clamp_index(y + 1, h) * static_cast<int64_t>(w) + x] - p[clamp_index(y - 1, h) * static_cast<int64_t>(w) + x];
  return p[y * static_cast<int64_t>(w) + clamp_index(x + 1, w)] - p[y * static_cast<int64_t>(w) + clamp_index(x - 1, w)];
}

// Stage 0: Ix, Iy from the mean image, Ixz, Iyz from Iz; stage 1 (after stage 0 everywhere): Ixx,
// Ixy from Ix and Iyy from Iy, and everything the iterations read that does not change with dW,
// written to the red-black terms.
struct DerivKernel : Rows {
  float* deriv;        // [B, kPixelDerivs, h, w]
  const float* avg;    // [B, h, w]: the mean image
  const float* flow;   // W [B, 2, h, w]
  float* terms;        // [B, 2 colours, kTerms, plane]
  int w, stage;

  PFG_HD void operator()(const PlaneRow& r, int x) const {
    const int64_t plane = static_cast<int64_t>(h) * w, o = r.y * static_cast<int64_t>(w) + x;
    float* d = deriv + r.b * kPixelDerivs * plane;
    if (stage == 0) {
      const float* a = avg + r.b * plane;
      d[kIx * plane + o] = central_diff(a, h, w, r.y, x, false);
      d[kIy * plane + o] = central_diff(a, h, w, r.y, x, true);
      d[kIxz * plane + o] = central_diff(d + kIz * plane, h, w, r.y, x, false);
      d[kIyz * plane + o] = central_diff(d + kIz * plane, h, w, r.y, x, true);
      return;
    }
    const float Ixx = central_diff(d + kIx * plane, h, w, r.y, x, false);
    const float Ixy = central_diff(d + kIx * plane, h, w, r.y, x, true);
    const float Iyy = central_diff(d + kIy * plane, h, w, r.y, x, true);
    const float Ix = d[kIx * plane + o], Iy = d[kIy * plane + o];
    const float Ixz = d[kIxz * plane + o], Iyz = d[kIyz * plane + o];
    const float zeta2 = kZeta * kZeta;
    const float norm = Ixx * Ixx + Ixy * Ixy + zeta2, norm2 = Iyy * Iyy + Ixy * Ixy + zeta2;
    const RedBlack rb{h, w};
    const int64_t P = rb.plane();
    float* t = terms + (r.b * 2 + RedBlack::colour(r.y, x)) * kTerms * P + rb.of_pixel(r.y, x);
    t[kIx * P] = Ix, t[kIy * P] = Iy, t[kIz * P] = d[kIz * plane + o];
    t[kIxx * P] = Ixx, t[kIxy * P] = Ixy, t[kIyy * P] = Iyy, t[kIxz * P] = Ixz, t[kIyz * P] = Iyz;
    t[kNorm * P] = Ix * Ix + Iy * Iy + zeta2;
    t[kNormX * P] = norm, t[kNormY * P] = norm2;
    t[kQ11 * P] = Ixx * Ixx / norm + Ixy * Ixy / norm2;
    t[kQ12 * P] = Ixx * Ixy / norm + Ixy * Iyy / norm2;
    t[kQ22 * P] = Ixy * Ixy / norm + Iyy * Iyy / norm2;
    t[kQB1 * P] = Ixx * Ixz / norm + Ixy * Iyz / norm2;
    t[kQB2 * P] = Ixy * Ixz / norm + Iyy * Iyz / norm2;
    const float* f = flow + r.b * 2 * plane + o;
    t[kU * P] = f[0], t[kV * P] = f[plane];
  }
};

// The pixels of one group of the red-black layout: row y, colour c, columns 4g .. 4g + 3 (x = 2k + p,
// p = (y + c) & 1) of pair `pair`; where its planes and its neighbours in the other colour's planes are.
struct Group {
  int64_t P, own, other, at;  // plane size; the pair's plane sets of this and the other colour; first column
  int x0;                     // the first pixel's x (the others at x0 + 2, + 4, + 6)
  int64_t left, right, up, down;  // the neighbours' offsets from `at` in the other colour's planes
  PFG_HD Group(int h, int w, int64_t pair, int colour, int y, int g) {
    const RedBlack rb{h, w};
    const int p = (y + colour) & 1;
    P = rb.plane(), own = pair * 2 + colour, other = pair * 2 + (1 - colour), at = rb.at(y, 4 * g);
    x0 = 8 * g + p;
    left = p - 1, right = p, up = -rb.pitch(), down = rb.pitch();
  }
  // the group in this colour's (mine) or the other colour's (theirs) planes of an array of `planes` a set
  template <typename T>
  PFG_HD T* mine(T* base, int planes) const { return base + own * planes * P + at; }
  template <typename T>
  PFG_HD T* theirs(T* base, int planes) const { return base + other * planes * P + at; }
  // 1 for the pixels x0 + 2i < limit, else 0
  PFG_HD F4 below(int limit) const {
    return F4{x0 < limit ? 1.0f : 0.0f, x0 + 2 < limit ? 1.0f : 0.0f, x0 + 4 < limit ? 1.0f : 0.0f,
              x0 + 6 < limit ? 1.0f : 0.0f};
  }
};

// The smoothness weights WR, WD of the pixels' right and lower edges from the current flow W + dW
// (differences to the right and lower neighbours): alpha/2 / sqrt(|grad|^2 + eps^2), and zero for a
// missing edge (the last column / row, and the padding). A missing neighbour counts as no difference,
// as OpenCV's border does. Rows: B * 2 colours * h (b: pair * 2 + colour); columns: groups.
struct WeightKernel : Rows {
  static constexpr int64_t kItemCost = 32;  // work per item, for the CPU's rows per chunk: 4 pixels
  float* terms;        // [B, 2 colours, kTerms, plane]: reads W, writes WR and WD
  const float* dflow;  // dW: [B, 2 colours, 2, plane]
  int w;
  float alpha, epsilon;

  PFG_HD void operator()(const PlaneRow& r, int g) const {
    const Group q(h, w, r.b >> 1, static_cast<int>(r.b & 1), r.y, g);
    const int64_t P = q.P;
    float* t = q.mine(terms, kTerms);
    const float *to = q.theirs(terms, kTerms), *d = q.mine(dflow, 2), *dn = q.theirs(dflow, 2);
    const F4 u = load4(t + kU * P) + load4(d), v = load4(t + kV * P) + load4(d + P);
    const F4 has_r = q.below(w - 1), has_d = r.y + 1 < h ? q.below(w) : splat4(0.0f);
    const F4 ux = (load4(to + kU * P + q.right) + load4(dn + q.right) - u) * has_r;
    const F4 vx = (load4(to + kV * P + q.right) + load4(dn + P + q.right) - v) * has_r;
    const F4 uy = (load4(to + kU * P + q.down) + load4(dn + q.down) - u) * has_d;
    const F4 vy = (load4(to + kV * P + q.down) + load4(dn + P + q.down) - v) * has_d;
    const F4 weight = splat4(alpha / 2) / sqrt4(ux * ux + vx * vx + uy * uy + vy * vy + splat4(epsilon * epsilon));
    store4(t + kWR * P, weight * has_r);
    store4(t + kWD * P, weight * has_d);
  }
};

// The linear system of each pixel: data terms (brightness and gradient constancy, robust weights
// from the current increment dW), then the smoothness edges in the order OpenCV adds them. Rows:
// B * 2 colours * h (b: pair * 2 + colour); columns: groups.
struct SystemKernel : Rows {
  static constexpr int64_t kItemCost = 64;  // work per item, for the CPU's rows per chunk: 4 pixels
  const float *terms, *dflow;
  float* system;  // [B, 2 colours, kSystem, plane]
  int w;
  float gamma, delta, epsilon;

  PFG_HD void operator()(const PlaneRow& r, int g) const { systems<F4>(r, g); }
  // the systems of group g (F4), or of groups g and g + 1 (8 lanes)
  template <typename V>
  PFG_HD_FLAT void systems(const PlaneRow& r, int g) const {
    const int colour = static_cast<int>(r.b & 1);
    const Group q(h, w, r.b >> 1, colour, r.y, g);
    const int64_t P = q.P;
    const float *t = q.mine(terms, kTerms), *to = q.theirs(terms, kTerms);
    const V Ix = vload<V>(t + kIx * P), Iy = vload<V>(t + kIy * P), Iz = vload<V>(t + kIz * P), Ixx = vload<V>(t + kIxx * P), Ixy = vload<V>(t + kIxy * P), Iyy = vload<V>(t + kIyy * P);
    const V Ixz = vload<V>(t + kIxz * P), Iyz = vload<V>(t + kIyz * P);
    const float* d = q.mine(dflow, 2);
    const V du = vload<V>(d), dv = vload<V>(d + P);
    const V zeta2 = vsplat<V>(kZeta * kZeta), eps2 = vsplat<V>(epsilon * epsilon);
    // brightness constancy
    const V norm1 = vload<V>(t + kNorm * P);
    const V ik1z = Iz + Ix * du + Iy * dv;
    V weight = (vsplat<V>(delta / 2) / vsqrt<V>(ik1z * ik1z / norm1 + eps2)) / norm1;
    V a11 = weight * (Ix * Ix) + zeta2, a12 = weight * (Ix * Iy), a22 = weight * (Iy * Iy) + zeta2;
    V b1 = vsplat<V>(0.0f) - weight * (Iz * Ix), b2 = vsplat<V>(0.0f) - weight * (Iz * Iy);
    // gradient constancy (the quotients of the derivatives alone were made once, by DerivKernel)
    const V norm = vload<V>(t + kNormX * P), norm2 = vload<V>(t + kNormY * P);
    const V ik1zx = Ixz + Ixx * du + Ixy * dv, ik1zy = Iyz + Ixy * du + Iyy * dv;
    weight = vsplat<V>(gamma / 2) / vsqrt<V>(ik1zx * ik1zx / norm + ik1zy * ik1zy / norm2 + eps2);
    a11 = a11 + weight * vload<V>(t + kQ11 * P);
    a12 = a12 + weight * vload<V>(t + kQ12 * P);
    a22 = a22 + weight * vload<V>(t + kQ22 * P);
    b1 = b1 - weight * vload<V>(t + kQB1 * P);
    b2 = b2 - weight * vload<V>(t + kQB2 * P);
    // smoothness: each edge (o, q) adds its weight to both ends' diagonal and w * (W(q) - W(o)) to
    // b(o); the weight is o's own for its right and lower edges, the neighbour's for the others. A
    // missing edge (the frame's border) has weight zero. Red pixels ((y + x) even) take their own
    // edge first, as OpenCV's red pass does: right, left, down, up; black ones left, right, up, down.
    const V u = vload<V>(t + kU * P), v = vload<V>(t + kV * P);
    const bool red = colour == 0;
    const int64_t nb[4] = {red ? q.right : q.left, red ? q.left : q.right, red ? q.down : q.up, red ? q.up : q.down};
    const V w_r = vload<V>(t + kWR * P), w_l = vload<V>(to + kWR * P + q.left), w_d = vload<V>(t + kWD * P), w_u = vload<V>(to + kWD * P + q.up);
    const V we[4] = {red ? w_r : w_l, red ? w_l : w_r, red ? w_d : w_u, red ? w_u : w_d};
    for (int e = 0; e < 4; ++e) {
      b1 = b1 + we[e] * (vload<V>(to + kU * P + nb[e]) - u);
      b2 = b2 + we[e] * (vload<V>(to + kV * P + nb[e]) - v);
      a11 = a11 + we[e];
      a22 = a22 + we[e];
    }
    float* s = q.mine(system, kSystem);
    vstore<V>(s + kA11 * P, a11), vstore<V>(s + kA12 * P, a12), vstore<V>(s + kA22 * P, a22);
    vstore<V>(s + kB1 * P, b1), vstore<V>(s + kB2 * P, b2);
  }
};

// One red-black SOR half-sweep: the pixels of one colour update dW, one group of four pixels of a
// row per call. Rows: B * h; columns: groups.
struct SorKernel : Rows {
  static constexpr int64_t kItemCost = 64;  // work per item, for the CPU's rows per chunk: 4 pixels
  const float *system, *terms;  // [B, 2 colours, kSystem, plane], [B, 2 colours, kTerms, plane]
  float* dflow;                 // [B, 2 colours, 2, plane]
  int w, colour;

  PFG_HD void operator()(const PlaneRow& r, int g) const { update<F4>(r, g); }
  // dW of group g (F4), or of groups g and g + 1 (8 lanes)
  template <typename V>
  PFG_HD_FLAT void update(const PlaneRow& r, int g) const {
    const Group q(h, w, r.b, colour, r.y, g);
    const int64_t P = q.P;
    const float *s = q.mine(system, kSystem), *t = q.mine(terms, kTerms), *to = q.theirs(terms, kTerms);
    float* du = q.mine(dflow, 2);
    float* dv = du + P;
    const float* ou = q.theirs(dflow, 2);  // the other colour's dW
    const float* ov = ou + P;
    const V wl = vload<V>(to + kWR * P + q.left), wr = vload<V>(t + kWR * P), wu = vload<V>(to + kWD * P + q.up);
    const V wd = vload<V>(t + kWD * P);
    const V su = wl * vload<V>(ou + q.left) + wr * vload<V>(ou + q.right) + wu * vload<V>(ou + q.up) + wd * vload<V>(ou + q.down);
    const V sv = wl * vload<V>(ov + q.left) + wr * vload<V>(ov + q.right) + wu * vload<V>(ov + q.up) + wd * vload<V>(ov + q.down);
    const V omega = vsplat<V>(kOmega), a12 = vload<V>(s + kA12 * P);
    const V u0 = vload<V>(du), v0 = vload<V>(dv);
    const V u = u0 + omega * ((su + vload<V>(s + kB1 * P) - v0 * a12) / vload<V>(s + kA11 * P) - u0);
    const V v = v0 + omega * ((sv + vload<V>(s + kB2 * P) - u * a12) / vload<V>(s + kA22 * P) - v0);
    vstore<V>(du, u);
    vstore<V>(dv, v);
  }
};

// The refinement's red-black planes before their first use: every plane zero but, in each group of
// `per_group` planes, the planes [one_first, one_first + one_count), which are one (the norms, so
// that the padding divides by 1). Rows: one per plane; columns: the plane's floats.
struct InitPlanesKernel {
  float* data;
  int64_t plane;
  int per_group, one_first, one_count;
  PFG_HD int64_t row(int64_t r) const { return r; }
  PFG_HD void operator()(int64_t r, int x) const {
    const int k = static_cast<int>(r % per_group);
    data[r * plane + x] = k >= one_first && k < one_first + one_count ? 1.0f : 0.0f;
  }
};

// flow += dW (the refined flow; dW in the red-black layout), per pixel of [B, 2, h, w] (rows: B * 2 * h,
// b: pair * 2 + channel).
struct AddKernel : Rows {
  float* flow;
  const float* dflow;
  int w;
  PFG_HD void operator()(const PlaneRow& r, int x) const {
    const RedBlack rb{h, w};
    const int64_t pair = r.b >> 1;
    const int c = static_cast<int>(r.b & 1);
    flow[(r.b * h + r.y) * static_cast<int64_t>(w) + x] +=
        dflow[((pair * 2 + RedBlack::colour(r.y, x)) * 2 + c) * rb.plane() + rb.of_pixel(r.y, x)];
  }
};

}  // namespace dis
}  // namespace pyframegan
