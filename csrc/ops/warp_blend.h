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
                              const std::optional<at::Tensor>& residual, int64_t height, int64_t width,
                              const std::optional<at::Tensor>& fallback, const std::optional<at::Tensor>& times);

// Checks the arguments of warp_disagreement (those of warp_blend it shares).
void check_warp_disagreement(const at::Tensor& i0, const at::Tensor& i1, const at::Tensor& flow_t0,
                             const at::Tensor& flow_t1);

// Runs fn(params) with the WarpBlendParams of the inputs, for their dtypes (flows float32 or i0's).
template <typename Fn>
void with_warp_params(const at::Tensor& i0, const at::Tensor& i1, const at::Tensor& flow_t0, const at::Tensor& flow_t1,
                      const at::Tensor& mask, const at::Tensor& residual, const at::Tensor& fallback,
                      const at::Tensor& times, const Fn& fn) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, i0.scalar_type(), "warp_blend", [&] {
    // flows are float32 or the images' dtype; the sample coordinates are fp32 either way
    auto run = [&](auto flow_type) {
      using flow_t = decltype(flow_type);
      fn(WarpBlendParams<scalar_t, flow_t>{strided<scalar_t>(i0), strided<scalar_t>(i1), strided<flow_t>(flow_t0),
                                           strided<flow_t>(flow_t1), strided<scalar_t>(mask),
                                           strided<scalar_t>(residual), strided<scalar_t>(fallback),
                                           times.defined() ? times.const_data_ptr<float>() : nullptr,
                                           static_cast<int>(i0.size(2)), static_cast<int>(i0.size(3))});
    };
    if (flow_t0.scalar_type() == at::kFloat) run(float{});
    else run(scalar_t{});
  });
}

// Driver: CpuDriver (cpu/kernels.cpp) or CudaDriver (cuda/kernels.cu).
template <typename Driver>
at::Tensor run_warp_blend(const at::Tensor& i0, const at::Tensor& i1, const at::Tensor& flow_t0,
                          const at::Tensor& flow_t1, const at::Tensor& mask, const std::optional<at::Tensor>& residual,
                          int64_t height, int64_t width, const std::optional<at::Tensor>& fallback,
                          const std::optional<at::Tensor>& times) {
  typename Driver::Guard guard(i0.device());
  WarpBlendPlan plan = plan_warp_blend(i0, i1, flow_t0, flow_t1, mask, residual, height, width, fallback, times);
  const at::Tensor t = times ? times->contiguous() : at::Tensor();
  with_warp_params(i0, i1, flow_t0, flow_t1, mask, residual.value_or(at::Tensor()), fallback.value_or(at::Tensor()),
                   t, [&](const auto& p) {
                     Driver::run(WarpBlendKernel<typename decltype(p.i0)::value_type,
                                                 typename decltype(p.flow0)::value_type>{plan.rows, p},
                                 plan.rows.rows(i0.size(0)), plan.rows.width);
                   });
  return plan.out;
}

template <typename Driver>
at::Tensor run_warp_disagreement(const at::Tensor& i0, const at::Tensor& i1, const at::Tensor& flow_t0,
                                 const at::Tensor& flow_t1) {
  typename Driver::Guard guard(i0.device());
  check_warp_disagreement(i0, i1, flow_t0, flow_t1);
  const int64_t b = i0.size(0), n = flow_t0.size(1);
  const int hb = static_cast<int>((i0.size(2) + kBlock - 1) / kBlock), wb = static_cast<int>((i0.size(3) + kBlock - 1) / kBlock);
  at::Tensor out = at::empty({b, n, 1, hb, wb}, i0.options().dtype(at::kFloat));
  with_warp_params(i0, i1, flow_t0, flow_t1, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), [&](const auto& p) {
    using K = WarpDisagreementKernel<typename decltype(p.i0)::value_type, typename decltype(p.flow0)::value_type>;
    Driver::run(K{p, out.data_ptr<float>(), static_cast<int>(n), hb, wb}, b * n * hb, wb);
  });
  return out;
}

}  // namespace pyframegan
