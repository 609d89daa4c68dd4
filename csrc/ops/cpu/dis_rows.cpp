// dis_flow's densification and refinement on the CPU, 8 pixels of a row at a time with AVX2. The 8 pixels share
// their patch rows; for each patch column that covers any of them, in the order the per-pixel
// kernel visits patches, every lane computes the kernel's term (the patch's flow is one value for
// all lanes: the frame is read by gathers) and adds it where the patch covers its pixel, +0
// elsewhere: each pixel's sums see the same additions in the same order, so the flow is the
// same bits (sums never are -0, so adding +0 changes nothing; no FMA: the target is avx2 alone).
// Measured before: the densification was 12% of a 512x384 flow on one thread.
// The kernels' 8-lane instantiations (SorKernel::update<F8>, SystemKernel::systems<F8>) are always
// inlined into the AVX2 functions below, so no call passes an 8-lane vector; GCC still notes the
// ABI of such calls where it instantiates them.
#pragma GCC diagnostic ignored "-Wpsabi"
#include "dis_rows.h"

#include <cstring>


#include "pyframegan/for_each_pixel.h"
#include "simd.h"

#ifdef PFG_CPU_X86
namespace pyframegan::dis {
// 8 float lanes (a 256-bit vector with AVX2): the refinement kernels' lane type for two groups at once
typedef float F8 __attribute__((vector_size(32)));
template <> PFG_AVX2 inline F8 vload<F8>(const float* p) {
  F8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <> PFG_AVX2 inline F8 vsplat<F8>(float v) { return F8{v, v, v, v, v, v, v, v}; }
template <> PFG_AVX2 inline void vstore<F8>(float* p, const F8& v) { std::memcpy(p, &v, sizeof v); }
template <> PFG_AVX2 inline F8 vsqrt<F8>(const F8& v) { return _mm256_sqrt_ps(v); }
}  // namespace pyframegan::dis
#endif

namespace pyframegan::cpu {

namespace {

constexpr int kLanes = 8;

#ifdef PFG_CPU_X86
// DensifyKernel::operator() for pixels j .. j + 7 of row r
PFG_AVX2 void densify8(const dis::DensifyKernel& k, const dis::DensifyRow& r, int j) {
  using dis::kBorder;
  const dis::Level& lv = k.lv;
  const int64_t grid = static_cast<int64_t>(lv.hs) * lv.ws, plane = static_cast<int64_t>(lv.h) * lv.w;
  const int pw = lv.w + 2 * kBorder;
  const float* sx = k.sparse + r.b * 2 * grid;
  const float* sy = sx + grid;
  const float* p1 = k.i1p + (r.b * (lv.h + 2 * kBorder) + kBorder) * static_cast<int64_t>(pw) + kBorder;
  const __m256 v0 = _mm256_loadu_ps(k.i0 + r.b * plane + r.y * static_cast<int64_t>(lv.w) + j);
  alignas(32) int32_t first[kLanes], last[kLanes];
  for (int l = 0; l < kLanes; ++l) first[l] = k.columns[j + l].first, last[l] = k.columns[j + l].last;
  const __m256i lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(first));
  const __m256i hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(last));
  const __m256 jf = _mm256_cvtepi32_ps(columns8(j));
  const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f);
  const __m256 max_j = _mm256_set1_ps(static_cast<float>(lv.w) - 1.0f - dis::kEps);
  const float max_i = static_cast<float>(lv.h) - 1.0f - dis::kEps;
  const __m256i one_i = _mm256_set1_epi32(1);
  __m256 sum_x = zero, sum_y = zero, sum_c = zero;
  for (int is = r.rows.first; is <= r.rows.last; ++is)
    for (int js = first[0]; js <= last[kLanes - 1]; ++js) {
      const int64_t kk = is * static_cast<int64_t>(lv.ws) + js;
      const __m256i js_v = _mm256_set1_epi32(js);
      const __m256 covers = _mm256_castsi256_ps(_mm256_andnot_si256(
          _mm256_or_si256(_mm256_cmpgt_epi32(lo, js_v), _mm256_cmpgt_epi32(js_v, hi)), _mm256_set1_epi32(-1)));
      const __m256 fx = _mm256_set1_ps(sx[kk]), fy = _mm256_set1_ps(sy[kk]);
      const __m256 jm = clamp8(_mm256_add_ps(jf, fx), zero, max_j);
      const float im = clamp_to(static_cast<float>(r.y) + sy[kk], 0.0f, max_i);
      const __m256i jl = _mm256_cvttps_epi32(jm), ju = _mm256_add_epi32(jl, one_i);
      const int il = static_cast<int>(im), iu = il + 1;
      const __m256 a = _mm256_sub_ps(jm, _mm256_cvtepi32_ps(jl)), b = _mm256_sub_ps(_mm256_cvtepi32_ps(ju), jm);
      const __m256 c = _mm256_set1_ps(im - static_cast<float>(il)), d = _mm256_set1_ps(static_cast<float>(iu) - im);
      const float *up = p1 + iu * static_cast<int64_t>(pw), *down = p1 + il * static_cast<int64_t>(pw);
      __m256 diff = _mm256_mul_ps(_mm256_mul_ps(a, c), _mm256_i32gather_ps(up, ju, 4));
      diff = _mm256_add_ps(diff, _mm256_mul_ps(_mm256_mul_ps(b, c), _mm256_i32gather_ps(up, jl, 4)));
      diff = _mm256_add_ps(diff, _mm256_mul_ps(_mm256_mul_ps(a, d), _mm256_i32gather_ps(down, ju, 4)));
      diff = _mm256_add_ps(diff, _mm256_mul_ps(_mm256_mul_ps(b, d), _mm256_i32gather_ps(down, jl, 4)));
      diff = _mm256_sub_ps(diff, v0);
      const __m256 ad = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), diff);
      const __m256 coef = _mm256_div_ps(one, _mm256_max_ps(ad, one));  // ad > 1 ? ad : 1 (NaN: 1)
      sum_x = _mm256_add_ps(sum_x, _mm256_and_ps(covers, _mm256_mul_ps(coef, fx)));
      sum_y = _mm256_add_ps(sum_y, _mm256_and_ps(covers, _mm256_mul_ps(coef, fy)));
      sum_c = _mm256_add_ps(sum_c, _mm256_and_ps(covers, coef));
    }
  float* f = k.flow + r.b * 2 * plane + r.y * static_cast<int64_t>(lv.w) + j;
  _mm256_storeu_ps(f, _mm256_div_ps(sum_x, sum_c));
  _mm256_storeu_ps(f + plane, _mm256_div_ps(sum_y, sum_c));
}

// The SOR and system kernels for groups g and g + 1 (8 pixels of one colour, contiguous in the
// red-black planes) at once
PFG_AVX2 void sor8(const dis::SorKernel& k, const dis::PlaneRow& r, int g) { k.update<dis::F8>(r, g); }
PFG_AVX2 void system8(const dis::SystemKernel& k, const dis::PlaneRow& r, int g) { k.systems<dis::F8>(r, g); }
#endif

}  // namespace

#ifdef PFG_CPU_X86
void densify_rows(const dis::DensifyKernel& k, int64_t rows, int64_t width) {
  for_each_pixel_vector(k, rows, width, kLanes, have_avx2(), densify8);
}
void sor_rows(const dis::SorKernel& k, int64_t rows, int64_t width) {
  for_each_pixel_vector(k, rows, width, 2, have_avx2(), sor8);  // 2 groups of 4
}
void system_rows(const dis::SystemKernel& k, int64_t rows, int64_t width) {
  for_each_pixel_vector(k, rows, width, 2, have_avx2(), system8);
}
#else
void densify_rows(const dis::DensifyKernel& k, int64_t rows, int64_t width) { for_each_pixel_cpu(k, rows, width); }
void sor_rows(const dis::SorKernel& k, int64_t rows, int64_t width) { for_each_pixel_cpu(k, rows, width); }
void system_rows(const dis::SystemKernel& k, int64_t rows, int64_t width) { for_each_pixel_cpu(k, rows, width); }
#endif

}  // namespace pyframegan::cpu
