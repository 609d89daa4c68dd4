// CPU implementations: the shared pixel kernels driven by at::parallel_for.
#include "../register.h"
#include "pyframegan/for_each_pixel.h"
#include "strip_rows.h"

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace pyframegan {

struct CpuDriver {
  struct Guard {
    explicit Guard(const at::Device&) {}
  };
  template <typename Kernel>
  static void run(const Kernel& kernel, int64_t rows, int64_t width) {
    for_each_pixel_cpu(kernel, rows, width);
  }
  // float32 outputs from packed strips (training): whole rows at once, same math (strip_rows.cpp)
  template <bool kResize>
  static void run(const StripKernel<float, true, kResize>& kernel, int64_t rows, int64_t width) {
    cpu::strip_rows(kernel, rows, width);
  }
  // A large output the op has just allocated: ask for transparent huge pages before its first
  // touch. Fresh memory is mapped page by page as it is first written; with 4 KiB pages that
  // costs more than the kernel itself for 88 MB of outputs (measured: 70 -> 52 ms, 1 thread).
  static void fresh_output(const at::Tensor& t) {
#ifdef __linux__
    constexpr uintptr_t kHuge = uintptr_t{2} << 20;
    const auto begin = reinterpret_cast<uintptr_t>(t.data_ptr()), end = begin + t.nbytes();
    const uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1), last = end & ~(kHuge - 1);
    if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);  // a hint only
#endif
  }
};

}  // namespace pyframegan

PYFRAMEGAN_REGISTER_KERNELS(CPU, ::pyframegan::CpuDriver)
