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

}  // namespace pyframegan::cpu
