// The CPU row paths of preprocess_strips for packed RGB strips and float32 outputs (the training
// case). The per-pixel loop over strip_pixel (strip_math.h) is correct for every layout but does
// not vectorise: each pixel deinterleaves 3 bytes and, when resizing, recomputes its bilinear
// taps and blends 12 bytes. Here a whole output row is done at once, with the same math:
//   crop:   16 pixels at a time, deinterleaved with SSSE3 shuffles (mirrored rows by reversed
//           shuffles), converted with u8_to_unit's multiply-add (SSE4.1);
//   resize: separable. vertical_lerp once per source column of the row, deinterleaved into one
//           float plane per channel (SSE4.1), then horizontal_lerp 8 pixels at a time (AVX2) with
//           taps computed once per strip (they depend only on its crop offset and flip).
// Each SIMD path has a scalar twin for the row's tail and for CPUs without the instructions.
// Results are bit-identical to strip_pixel: the same operations in the same order (separate
// multiplies and adds, no FMA); tests/test_ops.py checks it.
#include "strip_rows.h"

#include "pyframegan/for_each_pixel.h"

#include <algorithm>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PFG_CPU_X86 1
#endif

namespace pyframegan::cpu {

// Output pixels [x, width) of a crop row, one at a time.
static void crop_row_scalar(const StripRow& r, int x, int width, float* out, int64_t plane) {
  for (; x < width; ++x) {
    const uint8_t* px = r.r0 + 3 * static_cast<int64_t>(r.x0 + r.dx * x);
    for (int c = 0; c < 3; ++c) out[c * plane + x] = u8_to_unit(px[c]);
  }
}

#ifdef PFG_CPU_X86
// Shuffle masks gathering channel c of 16 packed RGB pixels (48 bytes in three 16-byte vectors)
// into one vector: masks[mirrored][c][v] picks the bytes that vector v contributes.
struct DeinterleaveMasks {
  __m128i m[2][3][3];
  DeinterleaveMasks() {
    for (int mirrored = 0; mirrored < 2; ++mirrored)
      for (int c = 0; c < 3; ++c)
        for (int v = 0; v < 3; ++v) {
          alignas(16) int8_t lanes[16];
          for (int j = 0; j < 16; ++j) {
            const int byte = 3 * (mirrored ? 15 - j : j) + c;
            lanes[j] = byte / 16 == v ? static_cast<int8_t>(byte % 16) : static_cast<int8_t>(-128);
          }
          m[mirrored][c][v] = _mm_load_si128(reinterpret_cast<const __m128i*>(lanes));
        }
  }
};

static const DeinterleaveMasks kMasks;

// Channels 0, 1, 2 of the 16 packed RGB pixels at src, in pixel order or (mirrored) reversed.
__attribute__((target("sse4.1"))) static inline void deinterleave16(const uint8_t* src, bool mirrored,
                                                                    __m128i out[3]) {
  const auto& m = kMasks.m[mirrored];
  const auto* p = reinterpret_cast<const __m128i*>(src);
  const __m128i a = _mm_loadu_si128(p), b = _mm_loadu_si128(p + 1), c = _mm_loadu_si128(p + 2);
  for (int ch = 0; ch < 3; ++ch)
    out[ch] = _mm_or_si128(_mm_or_si128(_mm_shuffle_epi8(a, m[ch][0]), _mm_shuffle_epi8(b, m[ch][1])),
                           _mm_shuffle_epi8(c, m[ch][2]));
}

// Bytes 4q..4q+3 of v as 4 floats.
__attribute__((target("sse4.1"))) static inline __m128 quarter(__m128i v, int q) {
  switch (q) {
    case 0: return _mm_cvtepi32_ps(_mm_cvtepu8_epi32(v));
    case 1: return _mm_cvtepi32_ps(_mm_cvtepu8_epi32(_mm_srli_si128(v, 4)));
    case 2: return _mm_cvtepi32_ps(_mm_cvtepu8_epi32(_mm_srli_si128(v, 8)));
    default: return _mm_cvtepi32_ps(_mm_cvtepu8_epi32(_mm_srli_si128(v, 12)));
  }
}

// Output pixels [0, returned) of a crop row, 16 at a time; the caller finishes the rest.
__attribute__((target("sse4.1"))) static int crop_row_sse41(const StripRow& r, int width, float* out,
                                                             int64_t plane) {
  const __m128 scale = _mm_set1_ps(1.0f / 127.5f), one = _mm_set1_ps(1.0f);
  const bool mirrored = r.dx < 0;
  int x = 0;
  for (; x + 16 <= width; x += 16) {
    const int leftmost = mirrored ? r.x0 - x - 15 : r.x0 + x;  // source pixel of the 16 furthest left
    __m128i v[3];
    deinterleave16(r.r0 + 3 * static_cast<int64_t>(leftmost), mirrored, v);
    for (int c = 0; c < 3; ++c)
      for (int q = 0; q < 4; ++q)  // u8_to_unit
        _mm_storeu_ps(out + c * plane + x + 4 * q, _mm_sub_ps(_mm_mul_ps(quarter(v[c], q), scale), one));
  }
  return x;
}

static bool have_sse41() {
  static const bool yes = __builtin_cpu_supports("sse4.1");
  return yes;
}
#endif

static void crop_row(const StripRow& r, int width, float* out, int64_t plane) {
  int x = 0;
#ifdef PFG_CPU_X86
  if (have_sse41()) x = crop_row_sse41(r, width, out, plane);
#endif
  crop_row_scalar(r, x, width, out, plane);
}

// Horizontal bilinear taps of one strip's crop row (the same for all its rows and tiles).
struct Taps {
  int lo = 0;                // first source column used
  int columns = 0;           // source columns used: [lo, lo + columns)
  std::vector<int> i0, i1;   // per output x: the two tap columns, counted from lo
  std::vector<float> w1;

  void build(const StripParams& p, const StripRow& r) {
    const int S = p.size;
    i0.resize(S), i1.resize(S), w1.resize(S);
    const int first = r.dx > 0 ? r.x0 : r.x0 - (S - 1), last = first + S - 1;  // resized-tile columns
    lo = lerp_index(first, p.scale_x, p.tile_w).i0;
    columns = lerp_index(last, p.scale_x, p.tile_w).i1 - lo + 1;
    for (int x = 0; x < S; ++x) {
      const Lerp l = lerp_index(r.x0 + r.dx * x, p.scale_x, p.tile_w);
      i0[x] = l.i0 - lo, i1[x] = l.i1 - lo, w1[x] = l.w1;
    }
  }
};

// Blended source columns of one row, one plane per channel: v[c][j] = vertical_lerp at column lo + j.
struct Columns {
  std::vector<float> v;
  int stride = 0;  // floats per plane (columns + 16 slack floats: the AVX2 path loads 16 at a time)
  float* plane(int c) { return v.data() + static_cast<size_t>(c) * stride; }
  void resize(int columns) {
    stride = columns + 16;
    v.assign(3 * static_cast<size_t>(stride), 0.0f);
  }
};

// vertical_lerp of columns [j, n) of two packed rows, deinterleaved into the planes.
static void vertical_scalar(const uint8_t* r0, const uint8_t* r1, float wy, int j, int n, Columns& out) {
  for (; j < n; ++j)
    for (int c = 0; c < 3; ++c) out.plane(c)[j] = vertical_lerp(r0, r1, 3 * j + c, wy);
}

// Channel c of output pixels [x, width) of a resized row.
static void horizontal_scalar(const Taps& t, const float* v, int x, int width, float* out) {
  for (; x < width; ++x) out[x] = u8_to_unit(horizontal_lerp(v[t.i0[x]], v[t.i1[x]], t.w1[x]));
}

#ifdef PFG_CPU_X86
// vertical_scalar 16 columns at a time; returns where it stopped.
__attribute__((target("sse4.1"))) static int vertical_sse41(const uint8_t* r0, const uint8_t* r1, float wy, int n,
                                                             Columns& out) {
  const __m128 w0v = _mm_set1_ps(1.0f - wy), w1v = _mm_set1_ps(wy);
  int j = 0;
  for (; j + 16 <= n; j += 16) {
    __m128i a[3], b[3];
    deinterleave16(r0 + 3 * j, false, a);
    deinterleave16(r1 + 3 * j, false, b);
    for (int c = 0; c < 3; ++c)
      for (int q = 0; q < 4; ++q)  // vertical_lerp
        _mm_storeu_ps(out.plane(c) + j + 4 * q,
                      _mm_add_ps(_mm_mul_ps(w0v, quarter(a[c], q)), _mm_mul_ps(w1v, quarter(b[c], q))));
  }
  return j;
}

// horizontal_scalar 8 pixels at a time; returns where it stopped. The 8 pixels' taps lie within
// 16 consecutive columns unless the tile is shrunk more than 2x: then two 8-float loads, lane
// permutes and a blend fetch them; otherwise two gathers.
__attribute__((target("avx2"))) static inline __m256 fetch16(__m256 lo, __m256 hi, __m256i index) {
  const __m256 upper = _mm256_castsi256_ps(_mm256_cmpgt_epi32(index, _mm256_set1_epi32(7)));
  return _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo, index), _mm256_permutevar8x32_ps(hi, index), upper);
}

__attribute__((target("avx2"))) static int horizontal_avx2(const Taps& t, const float* v, int width, float* out) {
  const __m256 one = _mm256_set1_ps(1.0f), scale = _mm256_set1_ps(1.0f / 127.5f);
  int x = 0;
  for (; x + 8 <= width; x += 8) {
    const __m256i i0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.i0.data() + x));
    const __m256i i1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.i1.data() + x));
    const int lo = std::min(t.i0[x], t.i0[x + 7]), hi = std::max(t.i1[x], t.i1[x + 7]);
    __m256 left, right;
    if (hi - lo < 16) {
      const __m256 w_lo = _mm256_loadu_ps(v + lo), w_hi = _mm256_loadu_ps(v + lo + 8);
      const __m256i base = _mm256_set1_epi32(lo);
      left = fetch16(w_lo, w_hi, _mm256_sub_epi32(i0, base));
      right = fetch16(w_lo, w_hi, _mm256_sub_epi32(i1, base));
    } else {
      left = _mm256_i32gather_ps(v, i0, 4), right = _mm256_i32gather_ps(v, i1, 4);
    }
    const __m256 w1 = _mm256_loadu_ps(t.w1.data() + x);
    const __m256 blend = _mm256_add_ps(_mm256_mul_ps(_mm256_sub_ps(one, w1), left), _mm256_mul_ps(w1, right));
    _mm256_storeu_ps(out + x, _mm256_sub_ps(_mm256_mul_ps(blend, scale), one));  // u8_to_unit
  }
  return x;
}

static bool have_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

static void vertical_pass(const uint8_t* r0, const uint8_t* r1, float wy, int n, Columns& out) {
  int j = 0;
#ifdef PFG_CPU_X86
  if (have_sse41()) j = vertical_sse41(r0, r1, wy, n, out);
#endif
  vertical_scalar(r0, r1, wy, j, n, out);
}

static void horizontal_pass(const Taps& t, const float* v, int width, float* out) {
  int x = 0;
#ifdef PFG_CPU_X86
  if (have_avx2()) x = horizontal_avx2(t, v, width, out);
#endif
  horizontal_scalar(t, v, x, width, out);
}

template <bool kResize>
void strip_rows(const StripKernel<float, true, kResize>& kernel, int64_t rows, int64_t width) {
  if (rows <= 0 || width <= 0) return;
  const int S = static_cast<int>(width);
  const int64_t plane = static_cast<int64_t>(S) * S, rows_per_strip = static_cast<int64_t>(S) * kernel.p.n_sel;
  at::parallel_for(0, rows, row_grain(width), [&](int64_t begin, int64_t end) {
    const auto k = kernel;
    Taps taps;
    Columns columns;
    int64_t taps_of = -1;  // the strip the taps were built for
    for (int64_t row = begin; row < end; ++row) {
      const auto r = k.row(row);
      if (!kResize) {
        crop_row(r.src, S, r.out, plane);
        continue;
      }
      if (row / rows_per_strip != taps_of) {
        taps_of = row / rows_per_strip;
        taps.build(k.p, r.src);
        columns.resize(taps.columns);
      }
      vertical_pass(r.src.r0 + 3 * taps.lo, r.src.r1 + 3 * taps.lo, r.src.wy, taps.columns, columns);
      for (int c = 0; c < 3; ++c) horizontal_pass(taps, columns.plane(c), S, r.out + c * plane);
    }
  });
}

template void strip_rows<false>(const StripKernel<float, true, false>&, int64_t, int64_t);
template void strip_rows<true>(const StripKernel<float, true, true>&, int64_t, int64_t);

}  // namespace pyframegan::cpu
