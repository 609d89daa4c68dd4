// Schema and argument checks of pyframegan::warp_blend and warp_disagreement (its crossfade fallback's measure).
#include "warp_blend.h"

#include <torch/library.h>

#include "checks.h"

namespace pyframegan {

namespace {

void check_shape(const char* op, const at::Tensor& t, const char* name, at::IntArrayRef want, const char* layout) {
  TORCH_CHECK_VALUE(t.sizes() == want, "pyframegan: ", op, ": ", name, " must have shape ", want, " (", layout,
                    "), got ", t.sizes());
}

constexpr const char* kLayout = "[B, n, C, Hp, Wp] with B, Hp, Wp of i0 and n of flow_t0";

void check_dtype(const char* op, const at::Tensor& t, const char* name, at::ScalarType want, const char* why) {
  TORCH_CHECK_TYPE(t.scalar_type() == want, "pyframegan: ", op, ": ", name, " is ", t.scalar_type(), " but ", why,
                   " is ", want);
}

// The checks warp_blend and warp_disagreement (`op`) share: the frames, the flows and their devices;
// returns n.
int64_t check_frames_and_flows(const char* op, const at::Tensor& i0, const at::Tensor& i1, const at::Tensor& flow_t0,
                               const at::Tensor& flow_t1) {
  const auto dtype = i0.scalar_type();
  TORCH_CHECK_TYPE(dtype == at::kFloat || dtype == at::kHalf || dtype == at::kBFloat16,
                   "pyframegan: ", op, ": i0 must be float32, float16 or bfloat16, got ", dtype);
  TORCH_CHECK_VALUE(i0.dim() == 4 && i0.size(1) == 3, "pyframegan: ", op, ": i0 must have shape [B, 3, Hp, Wp], got ",
                    i0.sizes());
  const int64_t b = i0.size(0), hp = i0.size(2), wp = i0.size(3);
  TORCH_CHECK_VALUE(flow_t0.dim() == 5, "pyframegan: ", op, ": flow_t0 must have shape [B, n, 2, Hp, Wp], got ",
                    flow_t0.sizes());
  const int64_t n = flow_t0.size(1);
  TORCH_CHECK_VALUE(n >= 1, "pyframegan: ", op, ": the flows hold no frames (n = 0)");
  check_shape(op, i1, "i1", {b, 3, hp, wp}, "like i0");
  check_shape(op, flow_t0, "flow_t0", {b, n, 2, hp, wp}, kLayout);
  check_shape(op, flow_t1, "flow_t1", {b, n, 2, hp, wp}, kLayout);
  check_dtype(op, i1, "i1", dtype, "i0");
  TORCH_CHECK_TYPE(flow_t0.scalar_type() == at::kFloat || flow_t0.scalar_type() == dtype,
                   "pyframegan: ", op, ": the flows must be float32 or i0's dtype (", dtype, "), got ",
                   flow_t0.scalar_type());
  check_dtype(op, flow_t1, "flow_t1", flow_t0.scalar_type(), "flow_t0");
  for (const auto& [t, name] : {std::pair{&i1, "i1"}, {&flow_t0, "flow_t0"}, {&flow_t1, "flow_t1"}})
    check_same_device(*t, name, i0, "i0");
  TORCH_CHECK_VALUE(hp <= INT32_MAX && wp <= INT32_MAX && n <= INT32_MAX, "pyframegan: ", op, ": inputs too large: ",
                    flow_t0.sizes());
  return n;
}

}  // namespace

WarpBlendPlan plan_warp_blend(const at::Tensor& i0, const at::Tensor& i1, const at::Tensor& flow_t0,
                              const at::Tensor& flow_t1, const at::Tensor& mask,
                              const std::optional<at::Tensor>& residual, int64_t height, int64_t width,
                              const std::optional<at::Tensor>& fallback, const std::optional<at::Tensor>& times) {
  const int64_t n = check_frames_and_flows("warp_blend", i0, i1, flow_t0, flow_t1);
  const int64_t b = i0.size(0), hp = i0.size(2), wp = i0.size(3);
  const auto dtype = i0.scalar_type();
  check_shape("warp_blend", mask, "mask", {b, n, 1, hp, wp}, kLayout);
  check_dtype("warp_blend", mask, "mask", dtype, "i0");
  check_same_device(mask, "mask", i0, "i0");
  if (residual) {
    check_shape("warp_blend", *residual, "residual", {b, n, 3, hp, wp}, kLayout);
    check_dtype("warp_blend", *residual, "residual", dtype, "i0");
    check_same_device(*residual, "residual", i0, "i0");
  }
  TORCH_CHECK_VALUE(fallback.has_value() == times.has_value(), "pyframegan: warp_blend: the crossfade fallback needs "
                    "both fallback (alpha) and times, got ", fallback ? "fallback" : "times", " alone");
  if (fallback) {
    check_shape("warp_blend", *fallback, "fallback", {b, n, 1, hp, wp}, kLayout);
    check_dtype("warp_blend", *fallback, "fallback", dtype, "i0");
    check_same_device(*fallback, "fallback", i0, "i0");
    check_shape("warp_blend", *times, "times", {n}, "one time a frame");
    TORCH_CHECK_TYPE(times->scalar_type() == at::kFloat, "pyframegan: warp_blend: times must be float32, got ",
                     times->scalar_type());
    check_same_device(*times, "times", i0, "i0");
  }
  TORCH_CHECK_VALUE(height >= 1 && width >= 1 && height <= hp && width <= wp, "pyframegan: warp_blend: cannot crop ",
                    height, "x", width, " frames from ", hp, "x", wp, " inputs");
  WarpBlendPlan plan{};
  plan.out = at::empty({b, n, height, width, 3}, i0.options().dtype(at::kByte));
  plan.rows = {plan.out.data_ptr<uint8_t>(), static_cast<int>(n), static_cast<int>(height), static_cast<int>(width)};
  return plan;
}

void check_warp_disagreement(const at::Tensor& i0, const at::Tensor& i1, const at::Tensor& flow_t0,
                             const at::Tensor& flow_t1) {
  check_frames_and_flows("warp_disagreement", i0, i1, flow_t0, flow_t1);
}

TORCH_LIBRARY_FRAGMENT(pyframegan, m) {
  m.def("warp_blend(Tensor i0, Tensor i1, Tensor flow_t0, Tensor flow_t1, Tensor mask, Tensor? residual, "
        "int height, int width, Tensor? fallback=None, Tensor? times=None) -> Tensor");
  m.def("warp_disagreement(Tensor i0, Tensor i1, Tensor flow_t0, Tensor flow_t1) -> Tensor");
}

}  // namespace pyframegan
