// Large CPU outputs of preprocess_strips from a pool of blocks given back by freed outputs.
#pragma once
#include <ATen/ATen.h>

namespace pyframegan::cpu {

// Outputs of at least kPoolMinBytes get a block of exactly their size from the pool (or a new
// 2 MiB-aligned block with a transparent-huge-page hint); when the tensor's storage is freed, the
// block goes back to the pool, which keeps at most kPoolMaxBytes. Smaller outputs are returned as
// they are. Such a tensor's storage cannot be resized (resize_ to a larger size raises).
constexpr size_t kPoolMinBytes = size_t{8} << 20;
constexpr size_t kPoolMaxBytes = size_t{512} << 20;
at::Tensor reuse_large_output(at::Tensor fresh);

}  // namespace pyframegan::cpu
