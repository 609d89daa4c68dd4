// Large CPU outputs of preprocess_strips from a pool of blocks given back by freed outputs.
#pragma once
#include <ATen/ATen.h>

namespace pyframegan::cpu {

// An uninitialised CPU tensor, like at::empty. One of at least kPoolMinBytes gets a block of
// exactly its size from the pool, or a new one (of 2 MiB or more: 2 MiB-aligned with a
// transparent-huge-page hint; smaller: cache-line aligned); when the tensor's storage is freed,
// the block goes back to the pool, which keeps at most kPoolMaxBytes. Smaller ones come from
// at::empty. A pooled tensor's storage cannot be resized (resize_ to a larger size raises).
// dis_flow's buffers of a few hundred KB each come from here too: from malloc, freed ones went
// back to the system and every call paid page faults and zeroing (~7% of a 512x384 flow, perf).
constexpr size_t kPoolMinBytes = size_t{64} << 10;
constexpr size_t kPoolMaxBytes = size_t{512} << 20;
at::Tensor pooled_empty(at::IntArrayRef shape, const at::TensorOptions& options);

}  // namespace pyframegan::cpu
