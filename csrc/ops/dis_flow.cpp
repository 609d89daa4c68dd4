// Schema and argument checks of pyframegan::dis_flow, and OpenCV's choice of pyramid scales.
#include "dis_flow.h"

#include <torch/library.h>

#include <algorithm>
#include <cmath>

#include "checks.h"

namespace pyframegan {

namespace {

// uint8 RGB [B, H, W, 3] or float grey [B, 1, H, W]; returns the frame as the kernels read it.
at::Tensor check_frame(const at::Tensor& t, const char* name) {
  if (t.scalar_type() == at::kByte) {
    check_uint8_image(t, name, 4, "[B, H, W, 3]");
    return t;
  }
  TORCH_CHECK_TYPE(at::isFloatingType(t.scalar_type()), "pyframegan: dis_flow: ", name,
                   " must be uint8 RGB [B, H, W, 3] or float grey [B, 1, H, W] in [0, 1], got ", t.scalar_type());
  TORCH_CHECK_VALUE(t.dim() == 4 && t.size(1) == 1, "pyframegan: dis_flow: ", name,
                    " is float, so it must be grey with shape [B, 1, H, W], got ", t.sizes());
  return t.select(1, 0).to(at::kFloat).contiguous();
}

void check_range(int64_t v, int64_t lo, int64_t hi, const char* name) {
  TORCH_CHECK_VALUE(v >= lo && v <= hi, "pyframegan: dis_flow: ", name, " must be in [", lo, ", ", hi, "], got ", v);
}

void check_weight(double v, const char* name) {
  TORCH_CHECK_VALUE(std::isfinite(v) && v >= 0 && v <= 1e6, "pyframegan: dis_flow: ", name,
                    " must be a finite number in [0, 1e6], got ", v);
}

}  // namespace

DisPlan plan_dis_flow(const at::Tensor& first, const at::Tensor& second, int64_t finest_scale, int64_t coarsest_scale,
                      int64_t patch_size, int64_t patch_stride, int64_t grad_descent_iters, int64_t refine_iters,
                      double alpha, double gamma, double delta, double epsilon, bool mean_normalization,
                      bool spatial_propagation) {
  DisPlan p{};
  p.frames[0] = check_frame(first, "first");
  p.frames[1] = check_frame(second, "second");
  TORCH_CHECK_TYPE((first.scalar_type() == at::kByte) == (second.scalar_type() == at::kByte),
                   "pyframegan: dis_flow: first is ", first.scalar_type(), " but second is ", second.scalar_type(),
                   "; give both as uint8 RGB or both as float grey");
  check_same_device(second, "second", first, "first");
  TORCH_CHECK_VALUE(first.sizes() == second.sizes(), "pyframegan: dis_flow: first and second must have the same shape, got ",
                    first.sizes(), " and ", second.sizes());
  check_range(finest_scale, 0, 10, "finest_scale");
  check_range(coarsest_scale, -1, 10, "coarsest_scale (-1: chosen from the frame size)");
  check_range(patch_size, 2, dis::kBorder, "patch_size");
  check_range(patch_stride, 1, patch_size, "patch_stride (at most patch_size)");
  check_range(grad_descent_iters, 1, 1000, "grad_descent_iters");
  check_range(refine_iters, 0, 1000, "refine_iters");
  check_weight(alpha, "alpha");
  check_weight(gamma, "gamma");
  check_weight(delta, "delta");
  check_weight(epsilon, "epsilon");
  TORCH_CHECK_VALUE(epsilon > 0, "pyframegan: dis_flow: epsilon must be positive, got ", epsilon);
  const bool rgb = first.scalar_type() == at::kByte;
  const int64_t h = rgb ? first.size(1) : first.size(2), w = rgb ? first.size(2) : first.size(3);
  TORCH_CHECK_VALUE(h <= 16384 && w <= 16384, "pyframegan: dis_flow: frames of ", w, "x", h,
                    " are too large (at most 16384 pixels a side)");
  p.batch = first.size(0), p.height = static_cast<int>(h), p.width = static_cast<int>(w);
  p.finest = static_cast<int>(finest_scale), p.patch = static_cast<int>(patch_size);
  p.stride = static_cast<int>(patch_stride), p.iters = static_cast<int>(grad_descent_iters);
  p.refine_iters = static_cast<int>(refine_iters);
  p.alpha = static_cast<float>(alpha), p.gamma = static_cast<float>(gamma), p.delta = static_cast<float>(delta);
  p.epsilon = static_cast<float>(epsilon);
  p.mean_norm = mean_normalization, p.propagate = spatial_propagation;

  // OpenCV's scales: the coarsest level's side is about 4 patches, and at least one patch
  const auto too_small = [&] {
    return c10::str("pyframegan: dis_flow: frames of ", w, "x", h, " are too small for patches of ", p.patch,
                    " pixels (each side must be at least the patch size, and one side at least 12 pixels)");
  };
  TORCH_CHECK_VALUE(std::min(h, w) >= p.patch, too_small());
  if (coarsest_scale >= 0) {
    TORCH_CHECK_VALUE(coarsest_scale >= finest_scale, "pyframegan: dis_flow: coarsest_scale (", coarsest_scale,
                      ") must be at least finest_scale (", finest_scale, "), or -1 to choose it from the frame size");
    p.coarsest = static_cast<int>(coarsest_scale);
  } else {
    p.coarsest = std::min(static_cast<int>(std::log(std::max(w, h) / (4.0 * p.patch)) / std::log(2.0) + 0.5),
                          static_cast<int>(std::log(static_cast<double>(std::min(w, h) / p.patch)) / std::log(2.0)));
    TORCH_CHECK_VALUE(p.coarsest >= 0, too_small());
  }
  if (p.coarsest < p.finest) {  // small frames: OpenCV picks the patch size and both scales from the width
    p.patch = (p.finest == 3 || p.finest == 4) ? 12 : 8;
    const float ratio = (2.0f * static_cast<float>(w)) / (5.0f * static_cast<float>(p.patch));
    p.coarsest = std::max(0, static_cast<int>(std::floor(std::log2(ratio))));
    // a frame far wider than high (or the reverse): scales from the width alone leave the coarse levels
    // fewer rows than a patch (OpenCV fails there, 9x333: an empty resize); fewer levels instead
    while (p.coarsest > 0 && (std::min(h, w) >> p.coarsest) < p.patch) --p.coarsest;
    p.finest = std::max(p.coarsest - (p.finest == 3 ? 4 : p.finest == 4 ? 5 : 2), 0);
    p.stride = std::min(p.stride, p.patch);
  }
  p.levels.resize(p.coarsest + 1);
  int lh = p.height, lw = p.width;
  for (int s = 0; s <= p.coarsest; ++s) {
    if (s > 0) lh /= 2, lw /= 2;
    if (s < p.finest) continue;
    TORCH_CHECK_VALUE(lh >= p.patch && lw >= p.patch, too_small());
    p.levels[s] = {lh, lw, 1 + (lh - p.patch) / p.stride, 1 + (lw - p.patch) / p.stride};
  }
  return p;
}

TORCH_LIBRARY_FRAGMENT(pyframegan, m) {
  m.def(
      "dis_flow(Tensor first, Tensor second, int finest_scale, int coarsest_scale, int patch_size, int patch_stride, "
      "int grad_descent_iters, int refine_iters, float alpha, float gamma, float delta, float epsilon, "
      "bool mean_normalization, bool spatial_propagation) -> Tensor");
}

}  // namespace pyframegan
