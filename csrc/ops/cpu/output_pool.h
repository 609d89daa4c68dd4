// Large CPU outputs of preprocess_strips from a pool of blocks given back by freed outputs.
#pragma once
#include <ATen/ATen.h>

namespace pyframegan::cpu {

// An uninitialised CPU tensor, like at::empty. One of at least kPoolMinBytes gets a block of
// exactly its size from the pool (or a new 2 MiB-aligned block with a transparent-huge-page hint);
// when the tensor's storage is freed, the block goes back to the pool, which keeps at most
// kPoolMaxBytes. Smaller ones come from at::empty. A pooled tensor's storage cannot be resized
// (resize_ to a larger size raises).
constexpr size_t kPoolMinBytes = size_t{8} << 20;
constexpr size_t kPoolMaxBytes = size_t{512} << 20;
at::Tensor pooled_empty(at::IntArrayRef shape, const at::TensorOptions& options);

}  // namespace pyframegan::cpu
