// CPU row paths of the engine's warps (warp_math.h) for float frames and flows: 8 output pixels at
// a time with AVX2 (the sample points, their taps and weights as vectors, the frames read by
// gathers), in the same operations and order as the per-pixel math, so the frames are bitwise the
// same (no FMA: the target is avx2 alone). The pixels left over at a row's end, tensors whose rows
// are not contiguous or too large for 32-bit offsets, and CPUs without AVX2 take the per-pixel
// kernel. Measured on the demo's video before: the two warps were a quarter of its CPU time.
#include "warp_rows.h"

#include <algorithm>
#include <climits>
#include <vector>

#include "pyframegan/for_each_pixel.h"
#include "simd.h"

namespace pyframegan::cpu {

namespace {

using Params = WarpBlendParams<float, float>;
constexpr int kLanes = 8;

// Whether the vector path can read the tensors: unit column strides for the frames (gathered) and
// the flows, unit or zero (a value broadcast along the row, as the engine's per-time masks are) for
// the rest, and every plane offset y * sy + x of the sampled domain within int32 (the gathers' indices).
bool vector_path(const Params& p, bool blend) {
  const auto unit = [](const Strided<float>& s) { return s.data == nullptr || s.sx == 1; };
  const auto row = [](const Strided<float>& s) { return s.data == nullptr || s.sx == 1 || s.sx == 0; };
  bool ok = unit(p.i0) && unit(p.i1) && unit(p.flow0) && unit(p.flow1);
  if (blend) ok = ok && row(p.mask) && row(p.residual) && row(p.fallback);
  const int64_t sy = std::max(p.i0.sy, p.i1.sy);
  return ok && have_avx2() && std::min(p.i0.sy, p.i1.sy) >= 0 && static_cast<int64_t>(p.hp) * sy + p.wp < INT32_MAX;
}

#ifdef PFG_CPU_X86
// bilinear_taps + TapOffsets (warp_math.h) of frame pixels (y, x .. x + 7) displaced by the flow
// rows fx, fy, in a plane of row stride sy
struct Taps8 {
  __m256i o00, o01, o10, o11;
  __m256 w00, w01, w10, w11;
};

PFG_AVX2 inline Taps8 taps8(const float* fx, const float* fy, int y, int x, int wp, int hp, int sy) {
  __m256 sx = _mm256_add_ps(_mm256_cvtepi32_ps(columns8(x)), _mm256_loadu_ps(fx + x));
  __m256 sy_ = _mm256_add_ps(_mm256_set1_ps(static_cast<float>(y)), _mm256_loadu_ps(fy + x));
  sx = clamp8(sx, _mm256_setzero_ps(), _mm256_set1_ps(static_cast<float>(wp - 1)));
  sy_ = clamp8(sy_, _mm256_setzero_ps(), _mm256_set1_ps(static_cast<float>(hp - 1)));
  const __m256 flx = _mm256_floor_ps(sx), fly = _mm256_floor_ps(sy_);
  const __m256 wx = _mm256_sub_ps(sx, flx), wy = _mm256_sub_ps(sy_, fly);
  const __m256i x0 = _mm256_cvttps_epi32(flx), y0 = _mm256_cvttps_epi32(fly);
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i x1 = _mm256_min_epi32(_mm256_add_epi32(x0, one), _mm256_set1_epi32(wp - 1));
  const __m256i y1 = _mm256_min_epi32(_mm256_add_epi32(y0, one), _mm256_set1_epi32(hp - 1));
  const __m256i stride = _mm256_set1_epi32(sy);
  const __m256i r0 = _mm256_mullo_epi32(y0, stride), r1 = _mm256_mullo_epi32(y1, stride);
  const __m256 ones = _mm256_set1_ps(1.0f);
  const __m256 ux = _mm256_sub_ps(ones, wx), uy = _mm256_sub_ps(ones, wy);
  return {_mm256_add_epi32(r0, x0), _mm256_add_epi32(r0, x1), _mm256_add_epi32(r1, x0), _mm256_add_epi32(r1, x1),
          _mm256_mul_ps(uy, ux), _mm256_mul_ps(uy, wx), _mm256_mul_ps(wy, ux), _mm256_mul_ps(wy, wx)};
}

// elements x .. x + 7 of row y of plane (b, n, c) of s, whose column stride is 1 or 0
PFG_AVX2 inline __m256 row8(const Strided<float>& s, int64_t b, int n, int c, int y, int x) {
  const float* row = s.plane(b, n, c) + y * s.sy;
  return s.sx == 1 ? _mm256_loadu_ps(row + x) : _mm256_set1_ps(row[0]);
}

// bilinear_sample: p00 w00 + p01 w01 + p10 w10 + p11 w11, summed left to right
PFG_AVX2 inline __m256 sample8(const float* plane, const Taps8& t) {
  __m256 v = _mm256_mul_ps(_mm256_i32gather_ps(plane, t.o00, 4), t.w00);
  v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_i32gather_ps(plane, t.o01, 4), t.w01));
  v = _mm256_add_ps(v, _mm256_mul_ps(_mm256_i32gather_ps(plane, t.o10, 4), t.w10));
  return _mm256_add_ps(v, _mm256_mul_ps(_mm256_i32gather_ps(plane, t.o11, 4), t.w11));
}

// WarpBlendKernel::operator() for pixels x .. x + 7 of row r
PFG_AVX2 void blend8(const WarpBlendKernel<float, float>& k, const FrameRows::Row& r, int x) {
  const Params& p = k.p;
  const float* f0 = p.flow0.plane(r.b, r.n, 0) + r.y * p.flow0.sy;
  const float* f1 = p.flow1.plane(r.b, r.n, 0) + r.y * p.flow1.sy;
  const Taps8 t0 = taps8(f0, f0 + p.flow0.sc, r.y, x, p.wp, p.hp, static_cast<int>(p.i0.sy));
  const Taps8 t1 = taps8(f1, f1 + p.flow1.sc, r.y, x, p.wp, p.hp, static_cast<int>(p.i1.sy));
  const __m256 m = row8(p.mask, r.b, r.n, 0, r.y, x);
  const __m256 um = _mm256_sub_ps(_mm256_set1_ps(1.0f), m);
  const bool fallback = p.fallback.data != nullptr;
  const __m256 alpha = fallback ? row8(p.fallback, r.b, r.n, 0, r.y, x) : _mm256_setzero_ps();
  const __m256 t = _mm256_set1_ps(fallback ? p.times[r.n] : 0.0f);
  alignas(32) int32_t bytes[3][kLanes];
  for (int c = 0; c < 3; ++c) {
    const __m256 w0 = sample8(p.i0.plane(r.b, 0, c), t0), w1 = sample8(p.i1.plane(r.b, 0, c), t1);
    const __m256 res = p.residual.data != nullptr ? row8(p.residual, r.b, r.n, c, r.y, x) : _mm256_setzero_ps();
    __m256 v = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(m, w0), _mm256_mul_ps(um, w1)), res);
    if (fallback) {
      const __m256 a = _mm256_loadu_ps(p.i0.plane(r.b, 0, c) + r.y * p.i0.sy + x);
      const __m256 b = _mm256_loadu_ps(p.i1.plane(r.b, 0, c) + r.y * p.i1.sy + x);
      const __m256 fade = _mm256_add_ps(a, _mm256_mul_ps(t, _mm256_sub_ps(b, a)));
      v = _mm256_add_ps(v, _mm256_mul_ps(alpha, _mm256_sub_ps(fade, v)));
    }
    // unit_to_u8: rint(v * 127.5 + 127.5) clamped to [0, 255] (NaN to 0)
    const __m256 half = _mm256_set1_ps(127.5f);
    __m256 u = _mm256_round_ps(_mm256_add_ps(_mm256_mul_ps(v, half), half), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    u = clamp8(u, _mm256_setzero_ps(), _mm256_set1_ps(255.0f));
    _mm256_store_si256(reinterpret_cast<__m256i*>(bytes[c]), _mm256_cvttps_epi32(u));
  }
  uint8_t* out = r.out + 3 * x;
  for (int i = 0; i < kLanes; ++i)
    for (int c = 0; c < 3; ++c) out[3 * i + c] = static_cast<uint8_t>(bytes[c][i]);
}

// WarpDisagreementKernel::pixel for pixels x .. x + 7 of frame row y, into vals
PFG_AVX2 void disagreement8(const WarpDisagreementKernel<float, float>& k, int64_t b, int n, int y, int x,
                            float* vals) {
  const Params& p = k.p;
  const float* f0 = p.flow0.plane(b, n, 0) + y * p.flow0.sy;
  const float* f1 = p.flow1.plane(b, n, 0) + y * p.flow1.sy;
  const Taps8 t0 = taps8(f0, f0 + p.flow0.sc, y, x, p.wp, p.hp, static_cast<int>(p.i0.sy));
  const Taps8 t1 = taps8(f1, f1 + p.flow1.sc, y, x, p.wp, p.hp, static_cast<int>(p.i1.sy));
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 d = _mm256_setzero_ps();
  for (int c = 0; c < 3; ++c) {
    const __m256 diff = _mm256_sub_ps(sample8(p.i0.plane(b, 0, c), t0), sample8(p.i1.plane(b, 0, c), t1));
    d = _mm256_add_ps(d, _mm256_andnot_ps(sign, diff));  // fabsf
  }
  _mm256_storeu_ps(vals, _mm256_div_ps(d, _mm256_set1_ps(3.0f)));
}
#endif

}  // namespace

void warp_blend_rows(const WarpBlendKernel<float, float>& kernel, int64_t rows, int64_t width) {
#ifdef PFG_CPU_X86
  for_each_pixel_vector(kernel, rows, width, kLanes, vector_path(kernel.p, true), blend8);
#else
  for_each_pixel_cpu(kernel, rows, width);
#endif
}

// Rows: block rows (b, n, by); each is up to kBlock frame rows, summed per block in the kernel's
// order (frame row by row, pixels left to right)
void warp_disagreement_rows(const WarpDisagreementKernel<float, float>& kernel, int64_t rows, int64_t width) {
  if (rows <= 0 || width <= 0) return;
  const bool vector = vector_path(kernel.p, false);
  parallel_rows(rows, row_grain(width * kBlock * kBlock * 8), [&](RowQueue& queue) {
    const auto k = kernel;
    const int wp = k.p.wp;
    std::vector<float> sums(k.wb), vals(kLanes);
    for (int64_t begin, end; queue.next(begin, end);)
      for (int64_t row = begin; row < end; ++row) {
        const auto r = k.row(row);
        const int y0 = r.by * kBlock, y1 = k.block_end(y0, k.p.hp);
        std::fill(sums.begin(), sums.end(), 0.0f);
        for (int y = y0; y < y1; ++y) {
          int x = 0;
#ifdef PFG_CPU_X86
          if (vector)
            for (; x + kLanes <= wp; x += kLanes) {
              disagreement8(k, r.b, r.n, y, x, vals.data());
              for (int i = 0; i < kLanes; ++i) sums[(x + i) / kBlock] += vals[i];
            }
#endif
          for (; x < wp; ++x) sums[x / kBlock] += k.pixel(r.b, r.n, y, x);
        }
        for (int bx = 0; bx < k.wb; ++bx) {
          const int x0 = bx * kBlock;
          *k.at(r, bx) = sums[bx] / static_cast<float>((y1 - y0) * (k.block_end(x0, wp) - x0));
        }
      }
  });
}

}  // namespace pyframegan::cpu
