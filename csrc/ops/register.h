// Registers the op kernels for one dispatch key with one Driver (see cpu/kernels.cpp, cuda/kernels.cu).
#pragma once
#include <torch/library.h>

#include "pair_ops.h"
#include "preprocess_strips.h"

#define PYFRAMEGAN_REGISTER_KERNELS(KEY, DRIVER)                                    \
  TORCH_LIBRARY_IMPL(pyframegan, KEY, m) {                                          \
    m.impl("preprocess_strips", &::pyframegan::run_preprocess_strips<DRIVER>);     \
    m.impl("preprocess_strips_into", &::pyframegan::run_preprocess_strips_into<DRIVER>); \
    m.impl("pack_pairs", &::pyframegan::run_pack_pairs<DRIVER>);                   \
    m.impl("unpack_frames", &::pyframegan::run_unpack_frames<DRIVER>);             \
  }
