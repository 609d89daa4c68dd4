// preprocess_strips: uint8 frame strips -> normalised NCHW input and target stacks, one kernel.
#pragma once
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>

#include <optional>
#include <tuple>

#include "pyframegan/strip_math.h"

namespace pyframegan {

struct StripPlan {
  StripParams params;
  at::Tensor inp, tgt;            // allocated outputs
  at::Tensor offsets, flip;       // normalised copies the params point into (kept alive here)
  int64_t rows, width;
};

// How a driver allocates the outputs it will fill completely (Driver::new_output).
using OutputAllocator = at::Tensor (*)(at::IntArrayRef shape, const at::TensorOptions& options);

// Checks every argument (clear ValueError / TypeError) and allocates the outputs with `allocate`,
// or checks the caller's outputs (preprocess_strips_into: inp and tgt given, their dtype is the
// output dtype; `allocate` unused).
StripPlan plan_preprocess_strips(const at::Tensor& strips, int64_t frames, at::IntArrayRef inputs,
                                 at::IntArrayRef targets, int64_t size, std::optional<int64_t> load_size,
                                 const std::optional<at::Tensor>& offsets, const std::optional<at::Tensor>& flip,
                                 at::ScalarType dtype, OutputAllocator allocate, const at::Tensor* inp = nullptr,
                                 const at::Tensor* tgt = nullptr);

// Runs the planned kernel; Driver is CpuDriver (cpu/kernels.cpp) or CudaDriver (cuda/kernels.cu).
template <typename Driver>
void run_strip_plan(const StripPlan& plan) {
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, plan.inp.scalar_type(), "preprocess_strips", [&] {
    scalar_t* inp = plan.inp.data_ptr<scalar_t>();
    scalar_t* tgt = plan.tgt.data_ptr<scalar_t>();
    const bool packed = plan.params.s.x == 3 && plan.params.s.c == 1, resize = plan.params.load > 0;
    auto run = [&](auto kernel) { Driver::run(kernel, plan.rows, plan.width); };
    if (packed && resize) run(StripKernel<scalar_t, true, true>{plan.params, inp, tgt});
    else if (packed) run(StripKernel<scalar_t, true, false>{plan.params, inp, tgt});
    else if (resize) run(StripKernel<scalar_t, false, true>{plan.params, inp, tgt});
    else run(StripKernel<scalar_t, false, false>{plan.params, inp, tgt});
  });
}

template <typename Driver>
std::tuple<at::Tensor, at::Tensor> run_preprocess_strips(
    const at::Tensor& strips, int64_t frames, at::IntArrayRef inputs, at::IntArrayRef targets,
    int64_t size, std::optional<int64_t> load_size, const std::optional<at::Tensor>& offsets,
    const std::optional<at::Tensor>& flip, at::ScalarType dtype) {
  typename Driver::Guard guard(strips.device());
  const StripPlan plan = plan_preprocess_strips(strips, frames, inputs, targets, size, load_size, offsets, flip,
                                                dtype, &Driver::new_output);
  run_strip_plan<Driver>(plan);
  return {plan.inp, plan.tgt};
}

// preprocess_strips_into: writes into preallocated inp and tgt (no allocation; reused across steps).
template <typename Driver>
void run_preprocess_strips_into(
    const at::Tensor& strips, int64_t frames, at::IntArrayRef inputs, at::IntArrayRef targets,
    int64_t size, std::optional<int64_t> load_size, const std::optional<at::Tensor>& offsets,
    const std::optional<at::Tensor>& flip, at::Tensor& inp, at::Tensor& tgt) {
  typename Driver::Guard guard(strips.device());
  run_strip_plan<Driver>(plan_preprocess_strips(strips, frames, inputs, targets, size, load_size, offsets, flip,
                                                inp.scalar_type(), nullptr, &inp, &tgt));
}

}  // namespace pyframegan
