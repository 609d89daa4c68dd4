// Schemas and argument checks of pyframegan::pack_pairs and pyframegan::unpack_frames.
#include "pair_ops.h"

#include <torch/library.h>

#include "checks.h"

namespace pyframegan {

PackPlan plan_pack_pairs(const at::Tensor& pairs, int64_t multiple, at::ScalarType dtype) {
  check_uint8_image(pairs, "pairs", 5, "[B, 2, H, W, 3]");
  check_output_dtype(dtype);
  TORCH_CHECK_VALUE(pairs.size(1) == 2, "pyframegan: pairs must hold 2 frames per item ([B, 2, H, W, 3]), got ",
                    pairs.sizes());
  TORCH_CHECK_VALUE(pairs.size(2) > 0 && pairs.size(3) > 0, "pyframegan: frames are empty: ", pairs.sizes());
  const int m = checked_int(multiple, 1, 4096, "pack_pairs", "multiple");
  const int h = checked_int(pairs.size(2), 1, kMaxSide, "pack_pairs", "the frame height");
  const int w = checked_int(pairs.size(3), 1, kMaxSide, "pack_pairs", "the frame width");
  PackPlan plan{};
  plan.hp = (h + m - 1) / m * m;  // at most 2^16 + 4095: no overflow
  plan.wp = (w + m - 1) / m * m;
  plan.params = {pairs.data_ptr<uint8_t>(), pairs.stride(0), pairs.stride(1),
                 {pairs.stride(2), pairs.stride(3), pairs.stride(4)}, h, w};
  plan.out = at::empty({pairs.size(0), 6, plan.hp, plan.wp}, pairs.options().dtype(dtype));
  return plan;
}

UnpackPlan plan_unpack_frames(const at::Tensor& out, int64_t height, int64_t width) {
  TORCH_CHECK_TYPE(out.scalar_type() == at::kFloat || out.scalar_type() == at::kHalf ||
                       out.scalar_type() == at::kBFloat16,
                   "pyframegan: generator output must be float32, float16 or bfloat16, got ", out.scalar_type());
  TORCH_CHECK_VALUE(out.dim() == 4 && out.size(1) % 3 == 0 && out.size(1) > 0,
                    "pyframegan: generator output must have shape [B, 3*n, H, W], got ", out.sizes());
  TORCH_CHECK_VALUE(height >= 1 && width >= 1 && height <= out.size(2) && width <= out.size(3),
                    "pyframegan: cannot crop ", height, "x", width, " frames from a ", out.size(2), "x", out.size(3),
                    " generator output");
  UnpackPlan plan{};
  plan.params = {out.stride(0), out.stride(1), out.stride(2), out.stride(3)};
  plan.frames = checked_int(out.size(1) / 3, 1, 1 << 20, "unpack_frames", "the number of frames");
  plan.height = checked_int(height, 1, kMaxSide, "unpack_frames", "height");
  plan.width = checked_int(width, 1, kMaxSide, "unpack_frames", "width");
  plan.out = at::empty({out.size(0), plan.frames, height, width, 3}, out.options().dtype(at::kByte));
  return plan;
}

TORCH_LIBRARY_FRAGMENT(pyframegan, m) {
  m.def("pack_pairs(Tensor pairs, int multiple, ScalarType dtype) -> Tensor");
  m.def("unpack_frames(Tensor out, int height, int width) -> Tensor");
}

}  // namespace pyframegan
