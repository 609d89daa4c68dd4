// pyframegan::Interpolator: runs an exported pyframegan generator on pairs of uint8 frames, in C++.
//
//   pyframegan::Interpolator engine("model.pt", "cuda", at::kHalf);
//   at::Tensor frames = engine.run(a, b);   // uint8 [B, H, W, 3] x2 -> uint8 [B, n_out, H, W, 3] (CPU)
//
// One call = pyframegan::pack_pairs (uint8 pairs -> padded, normalised NCHW in the model's dtype)
// -> the TorchScript generator -> pyframegan::unpack_frames (-> uint8 frames, padding cropped),
// under inference mode on the engine's device. The ops are called through the dispatcher, so the
// library that registers them (pyframegan_ops, or the Python extension) must be loaded.
#pragma once
#include <ATen/ATen.h>
#include <c10/core/Event.h>
#include <torch/csrc/jit/api/module.h>

#include <mutex>
#include <optional>
#include <string>

#include "metadata.h"

namespace pyframegan {

// "cpu", "cuda" or "cuda:N" (c10::Error with a clear message otherwise).
c10::Device parse_device(const std::string& device);

// What a flow or hybrid generator's components() / components_at() return (Python:
// pyframegan.models.components.Components): for b pairs and k times, the frames are
// v = mask * warp(I0, flow_t0) + (1 - mask) * warp(I1, flow_t1) + residual, and with the crossfade
// fallback v + fallback * (I0 + t * (I1 - I0) - v), t the frame's time.
struct Components {
  at::Tensor flow_t0, flow_t1;        // [b, k, 2, h, w], pixels
  at::Tensor mask;                    // [b, k, 1, h, w]
  at::Tensor residual;                // [b, k, 3, h, w]
  std::optional<at::Tensor> fallback;  // [b, k, 1, h, w]: alpha (none: no fallback)
  std::optional<at::Tensor> times;     // [k] float32, with the fallback
  // From the module's return value; c10::Error unless it is a tuple of 4 tensors, or of 6 whose last
  // two are tensors or None (models exported before the fallback return 4).
  static Components from(const c10::IValue& out, const std::string& model_path);
};

class Interpolator {
 public:
  static constexpr int64_t kMinSide = 8;  // smallest frame height / width accepted

  // Loads the model at `model_path` onto `device`, its weights converted to `dtype` (float32,
  // float16 or bfloat16). Throws ModelNotFoundError / InvalidModelError for a missing file or
  // one that is not a pyframegan generator, c10::Error for an unusable device or dtype.
  Interpolator(const std::string& model_path, c10::Device device = c10::kCPU, at::ScalarType dtype = at::kFloat);
  Interpolator(const std::string& model_path, const std::string& device, at::ScalarType dtype = at::kFloat);

  // The n_out frames between each pair (a[i], b[i]), in time order.
  //   a, b: uint8 [B, H, W, 3] (or one pair [H, W, 3]), on the CPU or the engine's device;
  //         H, W >= kMinSide; any strides.
  //   returns uint8 [B, n_out, H, W, 3] (or [n_out, H, W, 3] for one pair) on the CPU; from a CUDA
  //   engine it is pinned memory.
  // Calls on one Interpolator run one at a time (they share the model and the staging buffer).
  at::Tensor run(const at::Tensor& a, const at::Tensor& b);

  // The frames at `times` (each in (0, 1), in any order) between each pair: uint8 [B, k, H, W, 3]
  // (or [k, H, W, 3]) for k times. Only generators that export components_at() (the flow
  // generator, see any_times()) can; others throw a ValueError.
  at::Tensor run_at(const at::Tensor& a, const at::Tensor& b, const std::vector<double>& times);
  // Like run / run_at (no times: the model's n_out), with context: `before` is the frame as far
  // before a as b is after it, `after` likewise after b (same shapes as a and b). Only generators
  // that use context (context(): the hybrid generator's quadratic motion) can; others throw a ValueError.
  at::Tensor run_context(const at::Tensor& a, const at::Tensor& b, const at::Tensor& before, const at::Tensor& after,
                         const std::vector<double>& times);

  const ModelMetadata& metadata() const { return meta_; }
  int64_t n_in() const { return meta_.n_in; }
  int64_t n_out() const { return meta_.n_out; }
  int64_t multiple() const { return meta_.multiple; }
  c10::Device device() const { return device_; }  // with its index, e.g. cuda:0 for "cuda"
  at::ScalarType dtype() const { return dtype_; }
  bool fused_post_op() const { return fused_post_; }  // frames composed by warp_blend (flow generators)
  bool any_times() const { return any_times_; }         // run_at() works: the module exports components_at()
  bool context() const { return context_; }             // run_context() works: the module uses context frames
  const std::string& model_path() const { return model_path_; }

 private:
  at::Tensor to_device_pairs(const at::Tensor& a, const at::Tensor& b);
  at::Tensor generate(const at::Tensor& packed);
  at::Tensor interpolate(const at::Tensor& a, const at::Tensor& b, const std::vector<double>* times,
                         const at::Tensor* before = nullptr, const at::Tensor* after = nullptr);
  void check_times(const std::vector<double>& times) const;
  at::Tensor compose(const at::Tensor& packed, int64_t height, int64_t width, const std::vector<double>* times);
  // frames made per pair: one per given time, else the model's n_out
  int64_t frames_per_pair(const std::vector<double>* times) const {
    return times ? static_cast<int64_t>(times->size()) : n_out();
  }
  at::Tensor to_cpu(const at::Tensor& frames);
  c10::Stream current_stream() const;  // of the engine's device

  std::string model_path_;
  ModelMetadata meta_;
  c10::Device device_;
  at::ScalarType dtype_;
  torch::jit::Module module_;
  bool fused_post_ = false;  // the module exports components(): compose with the fused warp_blend
  bool any_times_ = false;   // the module exports components_at(x, times)
  bool context_ = false;     // the module exports context_frames(): x may hold a, b, before, after (12 channels)
  at::Tensor staging_;  // CUDA engines: pinned host bytes that inputs pass through, grown as needed
  std::optional<c10::Event> staging_read_;  // recorded after each copy out of staging_
  std::mutex mutex_;
};

}  // namespace pyframegan
