// Schemas and argument checks of pyframegan::correlation and pyframegan::correlation_backward.
#include "correlation.h"

#include <torch/library.h>

#include "checks.h"

namespace pyframegan {

namespace {

void check_features(const at::Tensor& t, const char* name) {
  TORCH_CHECK_TYPE(at::isFloatingType(t.scalar_type()), "pyframegan: correlation: ", name,
                   " must be float32, float64, float16 or bfloat16, got ", t.scalar_type());
  TORCH_CHECK_VALUE(t.dim() == 4, "pyframegan: correlation: ", name, " must have shape [B, C, H, W], got ", t.sizes());
}

}  // namespace

CorrelationPlan plan_correlation(const at::Tensor& f1, const at::Tensor& f2, int64_t max_displacement,
                                 const at::Tensor* grad) {
  check_features(f1, "f1");
  check_features(f2, "f2");
  TORCH_CHECK_TYPE(f1.scalar_type() == f2.scalar_type(), "pyframegan: correlation: f1 is ", f1.scalar_type(),
                   " but f2 is ", f2.scalar_type(), "; both must have the same dtype");
  check_same_device(f2, "f2", f1, "f1");
  TORCH_CHECK_VALUE(f1.sizes() == f2.sizes(), "pyframegan: correlation: f1 and f2 must have the same shape, got ",
                    f1.sizes(), " and ", f2.sizes());
  TORCH_CHECK_VALUE(f1.size(1) >= 1, "pyframegan: correlation: the features need at least one channel, got ",
                    f1.sizes());
  TORCH_CHECK_VALUE(max_displacement >= 0 && max_displacement <= 1024,
                    "pyframegan: correlation: max_displacement must be in [0, 1024], got ", max_displacement);
  TORCH_CHECK_VALUE(f1.size(1) <= INT32_MAX && f1.size(2) <= INT32_MAX && f1.size(3) <= INT32_MAX,
                    "pyframegan: correlation: features too large: ", f1.sizes());
  CorrelationPlan plan{};
  plan.shape = {static_cast<int>(f1.size(1)), static_cast<int>(f1.size(2)), static_cast<int>(f1.size(3)),
                static_cast<int>(max_displacement)};
  plan.batch = f1.size(0);
  if (grad != nullptr) {
    const std::vector<int64_t> shape{plan.batch, plan.shape.displacements(), plan.shape.height, plan.shape.width};
    TORCH_CHECK_VALUE(grad->sizes() == at::IntArrayRef(shape), "pyframegan: correlation_backward: grad must have shape ",
                      at::IntArrayRef(shape), ", got ", grad->sizes());
    TORCH_CHECK_TYPE(grad->scalar_type() == f1.scalar_type(), "pyframegan: correlation_backward: grad is ",
                     grad->scalar_type(), " but the features are ", f1.scalar_type());
    check_same_device(*grad, "grad", f1, "f1");
  }
  plan.f1 = f1.contiguous(at::MemoryFormat::ChannelsLast);
  plan.f2 = f2.contiguous(at::MemoryFormat::ChannelsLast);
  return plan;
}

TORCH_LIBRARY_FRAGMENT(pyframegan, m) {
  m.def("correlation(Tensor f1, Tensor f2, int max_displacement) -> Tensor");
  m.def("correlation_backward(Tensor grad, Tensor f1, Tensor f2, int max_displacement) -> (Tensor, Tensor)");
}

}  // namespace pyframegan
