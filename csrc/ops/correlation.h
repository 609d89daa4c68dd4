// correlation: the local cost volume of two feature maps, and its backward (both inputs' grads).
#pragma once
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/OpMathType.h>

#include <tuple>

#include "pyframegan/correlation_math.h"
#include "strided.h"

namespace pyframegan {

struct CorrelationPlan {
  CorrShape shape;
  int64_t batch;
  at::Tensor f1, f2;  // the features, channels-last contiguous (a copy only where they were not)
};

// Checks f1, f2 and max_displacement (clear ValueError / TypeError); grad, when given, too.
CorrelationPlan plan_correlation(const at::Tensor& f1, const at::Tensor& f2, int64_t max_displacement,
                                 const at::Tensor* grad = nullptr);

// Driver: CpuDriver (cpu/kernels.cpp) or CudaDriver (cuda/kernels.cu).
template <typename Driver>
at::Tensor run_correlation(const at::Tensor& f1, const at::Tensor& f2, int64_t max_displacement) {
  typename Driver::Guard guard(f1.device());
  const CorrelationPlan plan = plan_correlation(f1, f2, max_displacement);
  const CorrShape& s = plan.shape;
  at::Tensor out = at::empty({plan.batch, s.displacements(), s.height, s.width}, f1.options());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, f1.scalar_type(), "correlation", [&] {
    Driver::run(CorrelationKernel<scalar_t, at::opmath_type<scalar_t>>{plan.f1.const_data_ptr<scalar_t>(),
                                                                      plan.f2.const_data_ptr<scalar_t>(),
                                                                      out.data_ptr<scalar_t>(), s},
                plan.batch * s.height * s.displacements(), s.width);
  });
  return out;
}

// (grad_f1, grad_f2), channels-last, each summed in opmath precision and then cast to f1's dtype.
template <typename Driver>
std::tuple<at::Tensor, at::Tensor> run_correlation_backward(const at::Tensor& grad, const at::Tensor& f1,
                                                            const at::Tensor& f2, int64_t max_displacement) {
  typename Driver::Guard guard(f1.device());
  const CorrelationPlan plan = plan_correlation(f1, f2, max_displacement, &grad);
  const CorrShape& s = plan.shape;
  const auto opmath = at::toOpMathType(f1.scalar_type());
  const auto opts = f1.options().dtype(opmath).memory_format(at::MemoryFormat::ChannelsLast);
  at::Tensor g1 = at::empty(f1.sizes(), opts), g2 = at::empty(f1.sizes(), opts);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, f1.scalar_type(), "correlation_backward", [&] {
    using acc_t = at::opmath_type<scalar_t>;
    const Strided<scalar_t> g = strided<scalar_t>(grad);
    for (const bool wrt_f2 : {false, true})
      Driver::run(CorrelationGradKernel<scalar_t, acc_t>{g, (wrt_f2 ? plan.f1 : plan.f2).const_data_ptr<scalar_t>(),
                                                         (wrt_f2 ? g2 : g1).data_ptr<acc_t>(), s, wrt_f2},
                  plan.batch * s.height, s.width);
  });
  return {g1.to(f1.scalar_type()), g2.to(f1.scalar_type())};
}

}  // namespace pyframegan
