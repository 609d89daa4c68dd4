// CPU implementations: the shared pixel kernels driven by run_tasks (task_pool.h).
#include "../register.h"
#include "pyframegan/for_each_pixel.h"
#include "dis_rows.h"
#include "strip_rows.h"
#include "warp_rows.h"

#include "output_pool.h"
#include "pyframegan/task_pool.h"

namespace pyframegan {

struct CpuDriver {
  static constexpr bool kPairsInParallel = true;  // dis_flow: many pairs run one per thread
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
  // the engine's warps on float frames and flows: 8 pixels at a time (warp_rows.cpp), same math
  static void run(const WarpBlendKernel<float, float>& kernel, int64_t rows, int64_t width) {
    cpu::warp_blend_rows(kernel, rows, width);
  }
  static void run(const WarpDisagreementKernel<float, float>& kernel, int64_t rows, int64_t width) {
    cpu::warp_disagreement_rows(kernel, rows, width);
  }
  // dis_flow's densification and refinement: 8 pixels at a time (dis_rows.cpp), same math
  static void run(const dis::DensifyKernel& kernel, int64_t rows, int64_t width) { cpu::densify_rows(kernel, rows, width); }
  static void run(const dis::SorKernel& kernel, int64_t rows, int64_t width) { cpu::sor_rows(kernel, rows, width); }
  static void run(const dis::SystemKernel& kernel, int64_t rows, int64_t width) { cpu::system_rows(kernel, rows, width); }
  // dis_flow: tasks in parallel (pairs, one per thread), nested calls inline
  static void run_tasks(int64_t tasks, c10::function_ref<void(int64_t)> task) { cpu::run_tasks(tasks, task); }
  // dis_flow's patch search: every stripe of every pair in parallel, each in its own order
  static void run_stripes(const dis::PatchSearch& search, int64_t batch) {
    cpu::run_tasks(batch * dis::kStripes,
                   [&](int64_t t) { search.run_stripe(t / dis::kStripes, static_cast<int>(t % dis::kStripes)); });
  }
  // An output (or scratch buffer) the op will fill completely: large ones from a small pool of
  // blocks that earlier ones gave back when they were freed. Fresh memory is mapped and zeroed by
  // the kernel page by page as it is first written, which for 88 MB of outputs costs more than the op itself
  // (measured: 27 ms allocating vs 13 ms into reused outputs, 2 threads); a reused block is
  // already mapped. The op writes every element, so what a block held before never shows.
  static at::Tensor new_output(at::IntArrayRef shape, const at::TensorOptions& options) {
    return cpu::pooled_empty(shape, options);
  }
};

}  // namespace pyframegan

PYFRAMEGAN_REGISTER_KERNELS(CPU, ::pyframegan::CpuDriver)
