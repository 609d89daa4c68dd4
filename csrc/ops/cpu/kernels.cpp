// CPU implementations: the shared pixel kernels driven by at::parallel_for.
#include "../register.h"
#include "pyframegan/for_each_pixel.h"
#include "strip_rows.h"

#include "output_pool.h"

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
  // A large output the op has just allocated (by at::empty, not yet touched): the same shape from
  // a small pool of blocks that earlier outputs gave back when they were freed. Fresh memory is
  // mapped and zeroed by the kernel page by page as it is first written, which for 88 MB of
  // outputs costs more than the op itself (measured: 27 ms allocating vs 13 ms into reused
  // outputs, 2 threads); a reused block is already mapped. The op writes every element, so what a
  // block held before never shows. Small outputs keep at::empty's memory.
  static at::Tensor fresh_output(at::Tensor t) { return cpu::reuse_large_output(std::move(t)); }
};

}  // namespace pyframegan

PYFRAMEGAN_REGISTER_KERNELS(CPU, ::pyframegan::CpuDriver)
