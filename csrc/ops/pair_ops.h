// The inference-side fused ops: pack_pairs (uint8 frame pairs -> padded, normalised NCHW) and
// unpack_frames (generator output in [-1, 1] -> uint8 frames, padding cropped).
#pragma once
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>

#include "pyframegan/pair_math.h"

namespace pyframegan {

struct PackPlan {
  PairParams params;
  at::Tensor out;
  int hp, wp;
};
PackPlan plan_pack_pairs(const at::Tensor& pairs, int64_t multiple, at::ScalarType dtype);

struct UnpackPlan {
  UnpackParams params;
  at::Tensor out;
  int frames, height, width;
};
UnpackPlan plan_unpack_frames(const at::Tensor& out, int64_t height, int64_t width);

// Driver: CpuDriver (cpu/kernels.cpp) or CudaDriver (cuda/kernels.cu).
template <typename Driver>
at::Tensor run_pack_pairs(const at::Tensor& pairs, int64_t multiple, at::ScalarType dtype) {
  typename Driver::Guard guard(pairs.device());
  PackPlan plan = plan_pack_pairs(pairs, multiple, dtype);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, "pack_pairs", [&] {
    Driver::run(PackKernel<scalar_t>{plan.params, plan.out.data_ptr<scalar_t>(), plan.hp, plan.wp},
          plan.out.size(0) * 2 * plan.hp, plan.wp);
  });
  return plan.out;
}

template <typename Driver>
at::Tensor run_unpack_frames(const at::Tensor& out, int64_t height, int64_t width) {
  typename Driver::Guard guard(out.device());
  UnpackPlan plan = plan_unpack_frames(out, height, width);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, out.scalar_type(), "unpack_frames", [&] {
    const FrameRows rows{plan.out.data_ptr<uint8_t>(), plan.frames, plan.height, plan.width};
    Driver::run(UnpackKernel<scalar_t>{rows, out.data_ptr<scalar_t>(), plan.params}, rows.rows(plan.out.size(0)),
                plan.width);
  });
  return plan.out;
}

}  // namespace pyframegan
