// Schema and argument checks of pyframegan::preprocess_strips (kernels: cpu/ and cuda/).
#include "preprocess_strips.h"

#include <torch/library.h>

#include "checks.h"

namespace pyframegan {

StripPlan plan_preprocess_strips(const at::Tensor& strips, int64_t frames, at::IntArrayRef inputs,
                                 at::IntArrayRef targets, int64_t size, std::optional<int64_t> load_size,
                                 const std::optional<at::Tensor>& offsets, const std::optional<at::Tensor>& flip,
                                 at::ScalarType dtype, OutputAllocator allocate, const at::Tensor* inp,
                                 const at::Tensor* tgt) {
  check_uint8_image(strips, "strips", 4, "[B, H, F*W, 3]");
  check_output_dtype(dtype);
  TORCH_CHECK_VALUE(frames >= 1 && frames <= kMaxStripFrames, "pyframegan: frames must be in [1, ", kMaxStripFrames,
                    "], got ", frames);
  const int64_t batch = strips.size(0), height = strips.size(1), strip_w = strips.size(2);
  TORCH_CHECK_VALUE(strip_w % frames == 0, "pyframegan: strip width ", strip_w, " is not divisible by frames=", frames);
  const int64_t tile_w = strip_w / frames;
  TORCH_CHECK_VALUE(height > 0 && tile_w > 0, "pyframegan: strips have empty tiles (", height, "x", tile_w, ")");
  TORCH_CHECK_VALUE(!inputs.empty() && !targets.empty(), "pyframegan: inputs and targets must each name at least one tile");
  TORCH_CHECK_VALUE(static_cast<int64_t>(inputs.size() + targets.size()) <= kMaxStripFrames,
                    "pyframegan: at most ", kMaxStripFrames, " tiles can be selected");
  checked_int(size, 1, kMaxSide, "preprocess_strips", "size");
  if (load_size) checked_int(*load_size, 1, kMaxSide, "preprocess_strips", "load_size");
  checked_int(height, 1, kMaxSide, "preprocess_strips", "the strip height");
  checked_int(tile_w, 1, kMaxSide, "preprocess_strips", "the tile width");
  const int64_t h = load_size ? *load_size : height, w = load_size ? *load_size : tile_w;
  TORCH_CHECK_VALUE(size <= h && size <= w, "pyframegan: crop size ", size, " is larger than the ",
                    load_size ? "resized " : "", "tile (", h, "x", w, ")");

  StripPlan plan{};
  StripParams& p = plan.params;
  p.n_in = static_cast<int>(inputs.size());
  p.n_sel = static_cast<int>(inputs.size() + targets.size());
  for (int k = 0; k < p.n_sel; ++k) {
    const int64_t t = k < p.n_in ? inputs[k] : targets[k - p.n_in];
    TORCH_CHECK_VALUE(t >= 0 && t < frames, "pyframegan: tile index ", t, " in ", k < p.n_in ? "inputs" : "targets",
                      " is out of range for frames=", frames);
    p.sel[k] = static_cast<int>(t);
  }
  if (offsets) {
    const at::Tensor& o = *offsets;
    check_same_device(o, "offsets", strips, "strips");
    TORCH_CHECK_TYPE(!at::isFloatingType(o.scalar_type()) && o.scalar_type() != at::kBool,
                     "pyframegan: offsets must be an integer tensor, got ", o.scalar_type());
    TORCH_CHECK_VALUE(o.dim() == 2 && o.size(0) == batch && o.size(1) == 2, "pyframegan: offsets must have shape [",
                      batch, ", 2] (y, x per strip), got ", o.sizes());
    const at::Tensor host = o.to(at::kCPU, at::kLong);
    const auto yx = host.accessor<int64_t, 2>();
    for (int64_t b = 0; b < batch; ++b) {
      const int64_t y = yx[b][0], x = yx[b][1];
      TORCH_CHECK_VALUE(y >= 0 && y <= h - size && x >= 0 && x <= w - size, "pyframegan: offsets[", b, "] = (", y,
                        ", ", x, ") puts the ", size, "x", size, " crop outside the ", h, "x", w,
                        " tile; y must be in [0, ", h - size, "] and x in [0, ", w - size, "]");
    }
    plan.offsets = o.to(at::kLong).contiguous();
    p.offsets = plan.offsets.data_ptr<int64_t>();
  }
  if (flip) {
    const at::Tensor& f = *flip;
    check_same_device(f, "flip", strips, "strips");
    TORCH_CHECK_VALUE(f.dim() == 1 && f.size(0) == batch, "pyframegan: flip must have shape [", batch, "], got ",
                      f.sizes());
    plan.flip = f.to(at::kBool).contiguous();
    p.flip = plan.flip.data_ptr<bool>();
  }
  p.src = strips.data_ptr<uint8_t>();
  p.sb = strips.stride(0);
  p.s = {strips.stride(1), strips.stride(2), strips.stride(3)};
  p.tile_h = static_cast<int>(height);
  p.tile_w = static_cast<int>(tile_w);
  p.load = load_size ? static_cast<int>(*load_size) : 0;
  p.scale_y = load_size ? static_cast<float>(height) / static_cast<float>(*load_size) : 1.0f;
  p.scale_x = load_size ? static_cast<float>(tile_w) / static_cast<float>(*load_size) : 1.0f;
  p.size = static_cast<int>(size);
  p.centre_y = static_cast<int>((h - size) / 2);
  p.centre_x = static_cast<int>((w - size) / 2);

  const auto opts = strips.options().dtype(dtype);
  const std::vector<int64_t> inp_shape{batch, 3 * static_cast<int64_t>(inputs.size()), size, size};
  const std::vector<int64_t> tgt_shape{batch, 3 * static_cast<int64_t>(targets.size()), size, size};
  if (inp && tgt) {
    check_output(*inp, "inp", inp_shape, dtype, strips);
    check_output(*tgt, "tgt", tgt_shape, dtype, strips);
    plan.inp = *inp, plan.tgt = *tgt;
  } else {
    plan.inp = allocate(inp_shape, opts);
    plan.tgt = allocate(tgt_shape, opts);
  }
  plan.rows = batch * p.n_sel * size;
  plan.width = size;
  return plan;
}

TORCH_LIBRARY_FRAGMENT(pyframegan, m) {
  m.def(
      "preprocess_strips(Tensor strips, int frames, int[] inputs, int[] targets, int size, int? load_size, "
      "Tensor? offsets, Tensor? flip, ScalarType dtype) -> (Tensor, Tensor)");
  m.def(
      "preprocess_strips_into(Tensor strips, int frames, int[] inputs, int[] targets, int size, int? load_size, "
      "Tensor? offsets, Tensor? flip, Tensor(a!) inp, Tensor(b!) tgt) -> ()");
}

}  // namespace pyframegan
