#include "output_pool.h"

#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace pyframegan::cpu {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;  // a transparent huge page
constexpr size_t kCacheLine = 64;

class OutputPool {
 public:
  void* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = free_.begin(); it != free_.end(); ++it) {
        if (it->first == bytes) {
          void* block = it->second;
          free_.erase(it);
          held_ -= bytes;
          return block;
        }
      }
    }
    const size_t align = bytes >= kHugePage ? kHugePage : kCacheLine;
    void* block = std::aligned_alloc(align, (bytes + align - 1) / align * align);
#ifdef __linux__
    if (block && align == kHugePage) madvise(block, bytes, MADV_HUGEPAGE);  // a hint only
#endif
    return block;
  }

  void give(void* block, size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (held_ + bytes <= kPoolMaxBytes) {
        free_.emplace_back(bytes, block);
        held_ += bytes;
        return;
      }
    }
    std::free(block);
  }

 private:
  std::mutex mutex_;
  std::vector<std::pair<size_t, void*>> free_;  // (size, block), most recently given back last
  size_t held_ = 0;
};

// Never destroyed: outputs may be freed during interpreter shutdown, after static destructors.
OutputPool& pool() {
  static auto* instance = new OutputPool();
  return *instance;
}

}  // namespace

at::Tensor pooled_empty(at::IntArrayRef shape, const at::TensorOptions& options) {
  const size_t bytes = static_cast<size_t>(c10::multiply_integers(shape)) * options.dtype().itemsize();
  if (bytes < kPoolMinBytes) return at::empty(shape, options);
  void* block = pool().take(bytes);
  if (block == nullptr) return at::empty(shape, options);  // no memory for a new block: let torch try (and report)
  return at::from_blob(block, shape, [bytes](void* p) { pool().give(p, bytes); }, options);
}

}  // namespace pyframegan::cpu
