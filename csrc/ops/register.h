// Registers the op kernels for one dispatch key with one Driver (see cpu/kernels.cpp, cuda/kernels.cu).
#pragma once
#include <torch/library.h>

#include "correlation.h"
#include "dis_flow.h"
#include "pair_ops.h"
#include "preprocess_strips.h"
#include "warp_blend.h"

#define PYFRAMEGAN_REGISTER_KERNELS(KEY, DRIVER)                                    \
  TORCH_LIBRARY_IMPL(pyframegan, KEY, m) {                                          \
    m.impl("preprocess_strips", &::pyframegan::run_preprocess_strips<DRIVER>);     \
    m.impl("preprocess_strips_into", &::pyframegan::run_preprocess_strips_into<DRIVER>); \
    m.impl("pack_pairs", &::pyframegan::run_pack_pairs<DRIVER>);                   \
    m.impl("unpack_frames", &::pyframegan::run_unpack_frames<DRIVER>);             \
    m.impl("correlation", &::pyframegan::run_correlation<DRIVER>);                 \
    m.impl("correlation_backward", &::pyframegan::run_correlation_backward<DRIVER>); \
    m.impl("warp_blend", &::pyframegan::run_warp_blend<DRIVER>);                   \
    m.impl("warp_disagreement", &::pyframegan::run_warp_disagreement<DRIVER>);     \
    m.impl("dis_flow", &::pyframegan::run_dis_flow<DRIVER>);                       \
  }
