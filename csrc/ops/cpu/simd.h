// x86 SIMD for the CPU row paths: AVX2 functions are compiled for it (PFG_AVX2) and taken only
// where the CPU has it (have_avx2()); elsewhere the per-pixel kernels run. PYFRAMEGAN_NO_SIMD=1 in
// the environment turns the row paths off (the tests compare both: the same bits).
#pragma once
#include <cstdlib>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PFG_CPU_X86 1
#define PFG_AVX2 __attribute__((target("avx2")))
#endif

namespace pyframegan::cpu {

inline bool have_avx2() {
#ifdef PFG_CPU_X86
  static const bool yes = __builtin_cpu_supports("avx2") && std::getenv("PYFRAMEGAN_NO_SIMD") == nullptr;
  return yes;
#else
  return false;
#endif
}

#ifdef PFG_CPU_X86
// clamp_to (common.h) on 8 lanes: v > lo ? (v < hi ? v : hi) : lo, NaN to lo
PFG_AVX2 inline __m256 clamp8(__m256 v, __m256 lo, __m256 hi) {
  return _mm256_blendv_ps(lo, _mm256_min_ps(v, hi), _mm256_cmp_ps(v, lo, _CMP_GT_OQ));
}

// the columns x .. x + 7
PFG_AVX2 inline __m256i columns8(int x) {
  return _mm256_add_epi32(_mm256_set1_epi32(x), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
#endif

}  // namespace pyframegan::cpu
