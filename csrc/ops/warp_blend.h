// warp_blend: the engine's fused post-op (warp both frames by their flows, blend, add the residual,
// convert to uint8 frames, crop the padding) in one kernel.
#pragma once
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>

#include <optional>

#include "pyframegan/warp_math.h"
#include "strided.h"

namespace pyframegan {

struct WarpBlendPlan {
  FrameRows rows;  // the output frames
  at::Tensor out;
};

// Checks every argument (clear ValueError / TypeError) and allocates the output.
WarpBlendPlan plan_warp_blend(const at::Tensor& i0, const at::Tensor& i1, const at::Tensor& flow_t0,
                              const at::Tensor& flow_t1, const at::Tensor& mask,
                              const std::optional<at::Tensor>& residual, int64_t height, int64_t width);

// Driver: CpuDriver (cpu/kernels.cpp) or CudaDriver (cuda/kernels.cu).
template <typename Driver>
at::Tensor run_warp_blend(const at::Tensor& i0, const at::Tensor& i1, const at::Tensor& flow_t0,
                          const at::Tensor& flow_t1, const at::Tensor& mask, const std::optional<at::Tensor>& residual,
                          int64_t height, int64_t width) {
  typename Driver::Guard guard(i0.device());
  WarpBlendPlan plan = plan_warp_blend(i0, i1, flow_t0, flow_t1, mask, residual, height, width);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, i0.scalar_type(), "warp_blend", [&] {
    // flows are float32 or the images' dtype; the sample coordinates are fp32 either way
    auto run = [&](auto flow_type) {
      using flow_t = decltype(flow_type);
      const WarpBlendParams<scalar_t, flow_t> p{strided<scalar_t>(i0), strided<scalar_t>(i1),
                                                strided<flow_t>(flow_t0), strided<flow_t>(flow_t1),
                                                strided<scalar_t>(mask), strided<scalar_t>(residual.value_or(at::Tensor())),
                                                static_cast<int>(i0.size(2)), static_cast<int>(i0.size(3))};
      Driver::run(WarpBlendKernel<scalar_t, flow_t>{plan.rows, p}, plan.rows.rows(i0.size(0)), plan.rows.width);
    };
    if (flow_t0.scalar_type() == at::kFloat) run(float{});
    else run(scalar_t{});
  });
  return plan.out;
}

}  // namespace pyframegan
