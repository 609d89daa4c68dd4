// The CPU driver of the pixel kernels in strip_math.h / pair_math.h / dis_math.h: rows in parallel
// (run_tasks, task_pool.h), pixels of a row in order. csrc/ops/cuda/launch.cuh is its CUDA twin.
#pragma once
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <type_traits>

#include "pyframegan/task_pool.h"

namespace pyframegan {

// Rows per parallel task: about 32 K pixels of work, at least one row.
inline int64_t row_grain(int64_t width) { return std::max<int64_t>(1, 32768 / width); }

// Hands out the rows [0, rows) in chunks of `grain` rows to whichever thread asks next.
class RowQueue {
 public:
  RowQueue(int64_t rows, int64_t grain) : rows_(rows), grain_(grain) {}
  int64_t chunks() const { return (rows_ + grain_ - 1) / grain_; }
  // The next chunk [begin, end); false when all are taken.
  bool next(int64_t& begin, int64_t& end) {
    const int64_t chunk = next_.fetch_add(1, std::memory_order_relaxed);
    if (chunk >= chunks()) return false;
    begin = chunk * grain_, end = std::min(rows_, begin + grain_);
    return true;
  }

 private:
  const int64_t rows_, grain_;
  std::atomic<int64_t> next_{0};
};

// Runs worker(queue) once for each of the threads (once in all when called from inside a parallel
// region); the workers take chunks of rows from the shared queue until none are left. Unlike a
// fixed share per thread, a thread slowed down by other work on the machine then does fewer chunks
// instead of holding up the others.
template <typename Worker>
void parallel_rows(int64_t rows, int64_t grain, const Worker& worker) {
  const int64_t chunks = (rows + grain - 1) / grain;
  RowQueue queue(rows, (rows + chunks - 1) / chunks);  // chunks of (nearly) equal size
  const int64_t threads = std::min<int64_t>(at::get_num_threads(), queue.chunks());
  cpu::run_tasks(threads, [&](int64_t) { worker(queue); });
}

// A kernel's work per item relative to one pixel of a simple pixel kernel: Kernel::kItemCost
// where it says (a red-black group of 4 pixels of the refinement, a pixel of the densification),
// else 1. The rows per chunk are chosen from it.
template <typename Kernel, typename = void>
struct ItemCost : std::integral_constant<int64_t, 1> {};
template <typename Kernel>
struct ItemCost<Kernel, std::void_t<decltype(Kernel::kItemCost)>> : std::integral_constant<int64_t, Kernel::kItemCost> {};

// Every pixel of the kernel's rows, rows in parallel, pixels of a row in order; where `use_vector`,
// vector(k, row, x) makes pixels x .. x + lanes - 1 (the CPU's SIMD row paths,
// csrc/ops/cpu/*_rows.cpp) and the kernel the pixels left over.
template <typename Kernel, typename Vector>
void for_each_pixel_vector(const Kernel& kernel, int64_t rows, int64_t width, int lanes, bool use_vector,
                           const Vector& vector) {
  if (rows <= 0 || width <= 0) return;
  parallel_rows(rows, row_grain(width * ItemCost<Kernel>::value), [&](RowQueue& queue) {
    const Kernel k = kernel;  // a private copy: the compiler knows output stores cannot change it
    for (int64_t begin, end; queue.next(begin, end);)
      for (int64_t row = begin; row < end; ++row) {
        const auto r = k.row(row);
        int x = 0;
        if (use_vector)
          for (; x + lanes <= width; x += lanes) vector(k, r, x);
        for (; x < static_cast<int>(width); ++x) k(r, x);
      }
  });
}

// Every pixel by the kernel itself.
template <typename Kernel>
void for_each_pixel_cpu(const Kernel& kernel, int64_t rows, int64_t width) {
  for_each_pixel_vector(kernel, rows, width, 1, false, [](const Kernel&, const auto&, int) {});
}

}  // namespace pyframegan
