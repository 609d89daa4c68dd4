// CPU implementations: the shared pixel kernels driven by at::parallel_for.
#include "../register.h"
#include "pyframegan/for_each_pixel.h"

namespace pyframegan {

struct CpuDriver {
  struct Guard {
    explicit Guard(const at::Device&) {}
  };
  template <typename Kernel>
  static void run(const Kernel& kernel, int64_t rows, int64_t width) {
    for_each_pixel_cpu(kernel, rows, width);
  }
};

}  // namespace pyframegan

PYFRAMEGAN_REGISTER_KERNELS(CPU, ::pyframegan::CpuDriver)
