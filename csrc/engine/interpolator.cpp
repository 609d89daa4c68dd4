// pyframegan::Interpolator: load + check the model, then pack_pairs -> generator -> unpack_frames,
// or, for a generator that exports components() (the flow generator), pack_pairs -> components ->
// warp_blend: the warp, blend, residual and uint8 conversion of its last step in one fused kernel.
#include "interpolator.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/DeviceGuard.h>
#include <c10/core/InferenceMode.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <torch/csrc/jit/serialization/import.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace pyframegan {
namespace {

constexpr const char* kPackPairs = "pyframegan::pack_pairs";
constexpr const char* kUnpackFrames = "pyframegan::unpack_frames";
constexpr const char* kWarpBlend = "pyframegan::warp_blend";
constexpr const char* kComponents = "components";
constexpr const char* kComponentsAt = "components_at";
constexpr const char* kContextFrames = "context_frames";

// The fused ops, through the dispatcher: it picks the CPU or CUDA kernel from the tensors' device.
at::Tensor pack_pairs(const at::Tensor& pairs, int64_t multiple, at::ScalarType dtype) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow(kPackPairs, "")
                             .typed<at::Tensor(const at::Tensor&, int64_t, at::ScalarType)>();
  return op.call(pairs, multiple, dtype);
}

at::Tensor unpack_frames(const at::Tensor& out, int64_t height, int64_t width) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow(kUnpackFrames, "")
                             .typed<at::Tensor(const at::Tensor&, int64_t, int64_t)>();
  return op.call(out, height, width);
}

at::Tensor warp_blend(const at::Tensor& packed, const Components& parts, int64_t height, int64_t width) {
  using Optional = std::optional<at::Tensor>;
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow(kWarpBlend, "")
                             .typed<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                               const at::Tensor&, const at::Tensor&, const Optional&, int64_t, int64_t,
                                               const Optional&, const Optional&)>();
  return op.call(packed.narrow(1, 0, 3), packed.narrow(1, 3, 3), parts.flow_t0, parts.flow_t1, parts.mask,
                 parts.residual, height, width, parts.fallback, parts.times);
}

// The ops are registered and have kernels for `device` (a CPU-only build has no CUDA kernels).
void check_kernels(c10::Device device) {
  for (const char* name : {kPackPairs, kUnpackFrames, kWarpBlend}) {
    auto op = c10::Dispatcher::singleton().findSchema({name, ""});
    TORCH_CHECK(op.has_value(), "pyframegan: the op ", name, " is not registered: load the library that "
                "defines it (link pyframegan_ops with -Wl,--no-as-needed, or import pyframegan._C)");
    TORCH_CHECK(!device.is_cuda() || op->hasKernelForDispatchKey(c10::DispatchKey::CUDA),
                "pyframegan: device ", device, " was asked for, but pyframegan was built without its CUDA "
                "kernels; rebuild it with CUDA (FORCE_CUDA=1 pip install --no-build-isolation .) or use "
                "device \"cpu\"");
  }
}

// cpu, or cuda with an index that exists (the current device for plain "cuda").
c10::Device resolve_device(c10::Device device) {
  TORCH_CHECK_VALUE(device.is_cpu() || device.is_cuda(), "pyframegan: the engine runs on \"cpu\" or \"cuda\", got ",
                    device);
  if (device.is_cpu()) return c10::Device(c10::kCPU);
  TORCH_CHECK(at::hasCUDA(), "pyframegan: device ", device, " was asked for, but CUDA is not available (no GPU "
              "visible, or torch / this program was built without CUDA); use device \"cpu\"");
  const auto& cuda = at::detail::getCUDAHooks();
  const c10::DeviceIndex index = device.has_index() ? device.index() : cuda.getCurrentDevice();
  TORCH_CHECK_VALUE(index < cuda.deviceCount(), "pyframegan: device ", device, " does not exist (",
                    static_cast<int>(cuda.deviceCount()), " CUDA device(s) visible)");
  return c10::Device(c10::kCUDA, index);
}

torch::jit::Module load_module(const std::string& path, c10::Device device) {
  try {
    return torch::jit::load(path, device);
  } catch (const c10::Error& e) {
    throw InvalidModelError(path + ": the TorchScript model could not be loaded (" + e.what_without_backtrace() + ")");
  }
}

void check_frames(const at::Tensor& a, const at::Tensor& b, c10::Device device) {
  for (const auto& [t, name] : {std::pair{&a, "a"}, std::pair{&b, "b"}}) {
    TORCH_CHECK_VALUE(t->layout() == at::kStrided, "pyframegan: frames ", name, " must be a dense tensor, got the ",
                      t->layout(), " layout");
    TORCH_CHECK_TYPE(t->scalar_type() == at::kByte, "pyframegan: frames ", name, " must be uint8 (0..255), got ",
                     t->scalar_type());
    TORCH_CHECK_VALUE(t->dim() == 3 || t->dim() == 4, "pyframegan: frames ", name, " must have shape [B, H, W, 3] ",
                      "or [H, W, 3], got ", t->sizes());
    TORCH_CHECK_VALUE(t->size(-1) == 3, "pyframegan: frames ", name, " must be RGB (3 channels in the last "
                      "dimension), got ", t->sizes());
    TORCH_CHECK_VALUE(t->device().is_cpu() || t->device() == device, "pyframegan: frames ", name, " are on ",
                      t->device(), "; pass them on the CPU or on the engine's device ", device);
  }
  TORCH_CHECK_VALUE(a.sizes() == b.sizes(), "pyframegan: a is ", a.sizes(), " but b is ", b.sizes(),
                    "; frames must have the same shape");
  TORCH_CHECK_VALUE(a.device() == b.device(), "pyframegan: a is on ", a.device(), " but b is on ", b.device());
  const int64_t h = a.size(-3), w = a.size(-2);
  TORCH_CHECK_VALUE(std::min(h, w) >= Interpolator::kMinSide, "pyframegan: frames are ", h, "x", w,
                    "; they must be at least ", Interpolator::kMinSide, "x", Interpolator::kMinSide);
}

}  // namespace

Components Components::from(const c10::IValue& out, const std::string& model_path) {
  const auto n = out.isTuple() ? out.toTupleRef().elements().size() : 0;
  TORCH_CHECK(n == 4 || n == 6, "pyframegan: ", model_path, ": components() must return (flow_t0, flow_t1, mask, "
              "residual[, fallback, times]), got a ", out.tagKind(), n > 0 ? c10::str(" of ", n) : std::string());
  const auto& parts = out.toTupleRef().elements();
  for (size_t k = 0; k < n; ++k)
    TORCH_CHECK(parts[k].isTensor() || (k >= 4 && parts[k].isNone()), "pyframegan: ", model_path,
                ": components() returned a ", parts[k].tagKind(), " as its element ", k);
  Components c{parts[0].toTensor(), parts[1].toTensor(), parts[2].toTensor(), parts[3].toTensor(), {}, {}};
  if (n == 6 && parts[4].isTensor()) c.fallback = parts[4].toTensor();
  if (n == 6 && parts[5].isTensor()) c.times = parts[5].toTensor();
  return c;
}

c10::Device parse_device(const std::string& device) {
  try {
    return c10::Device(device);
  } catch (const c10::Error&) {
    C10_THROW_ERROR(ValueError,
                    c10::str("pyframegan: unknown device \"", device, "\"; use \"cpu\", \"cuda\" or \"cuda:N\""));
  }
}

Interpolator::Interpolator(const std::string& model_path, const std::string& device, at::ScalarType dtype)
    : Interpolator(model_path, parse_device(device), dtype) {}

Interpolator::Interpolator(const std::string& model_path, c10::Device device, at::ScalarType dtype)
    : model_path_(model_path), device_(resolve_device(device)), dtype_(dtype) {
  TORCH_CHECK_TYPE(dtype == at::kFloat || dtype == at::kHalf || dtype == at::kBFloat16,
                   "pyframegan: dtype must be float32, float16 or bfloat16, got ", dtype);
  check_kernels(device_);
  meta_ = read_metadata(model_path);  // before loading: clear errors for files that are not models
  if (meta_.n_in != 2) {
    throw InvalidModelError(model_path + ": the generator reads " + std::to_string(meta_.n_in) +
                            " frames; this engine interpolates between 2 (n_in = 2)");
  }
  module_ = load_module(model_path, device_);
  module_.eval();
  module_.to(dtype_);
  fused_post_ = module_.find_method(kComponents).has_value();
  any_times_ = module_.find_method(kComponentsAt).has_value();
  context_ = fused_post_ && any_times_ && module_.find_method(kContextFrames).has_value();
}

at::Tensor Interpolator::run(const at::Tensor& a, const at::Tensor& b) { return interpolate(a, b, nullptr); }

at::Tensor Interpolator::run_at(const at::Tensor& a, const at::Tensor& b, const std::vector<double>& times) {
  TORCH_CHECK_VALUE(any_times_, "pyframegan: ", model_path_, " makes exactly ", n_out(),
                    " frames at fixed times; frames at other times need a flow generator (--arch flow), "
                    "which exports components_at()");
  check_times(times);
  return interpolate(a, b, &times);
}

void Interpolator::check_times(const std::vector<double>& times) const {
  TORCH_CHECK_VALUE(!times.empty(), "pyframegan: no times given");
  for (double t : times)
    TORCH_CHECK_VALUE(t > 0.0 && t < 1.0, "pyframegan: times must lie strictly between 0 (a) and 1 (b), got ", t);
}

at::Tensor Interpolator::run_context(const at::Tensor& a, const at::Tensor& b, const at::Tensor& before,
                                     const at::Tensor& after, const std::vector<double>& times) {
  TORCH_CHECK_VALUE(context_, "pyframegan: ", model_path_, " does not use context frames (before, after); "
                    "the hybrid generator (--arch hybrid) does");
  if (!times.empty()) check_times(times);
  for (const auto& [frame, name] : {std::pair{&before, "before"}, std::pair{&after, "after"}}) {
    TORCH_CHECK_VALUE(frame->sizes() == a.sizes(), "pyframegan: ", name, " is ", frame->sizes(), " but a is ",
                      a.sizes(), "; context frames must have the shape of the pair");
  }
  check_frames(before, after, device_);
  return interpolate(a, b, times.empty() ? nullptr : &times, &before, &after);
}

at::Tensor Interpolator::interpolate(const at::Tensor& a, const at::Tensor& b, const std::vector<double>* times,
                                     const at::Tensor* before, const at::Tensor* after) {
  check_frames(a, b, device_);
  const bool one_pair = a.dim() == 3;
  const at::Tensor a4 = one_pair ? a.unsqueeze(0) : a, b4 = one_pair ? b.unsqueeze(0) : b;
  const int64_t height = a4.size(1), width = a4.size(2);
  const int64_t n = frames_per_pair(times);
  if (a4.size(0) == 0) return at::empty({0, n, height, width, 3}, at::kByte);

  std::lock_guard<std::mutex> lock(mutex_);
  c10::InferenceMode inference;
  c10::DeviceGuard on_device(device_);
  at::Tensor packed = pack_pairs(to_device_pairs(a4, b4), meta_.multiple, dtype_);
  if (before != nullptr) {  // channels 6-11: the frames before a and after b, packed the same way
    const at::Tensor c0 = one_pair ? before->unsqueeze(0) : *before, c1 = one_pair ? after->unsqueeze(0) : *after;
    packed = at::cat({packed, pack_pairs(to_device_pairs(c0, c1), meta_.multiple, dtype_)}, 1);
  }
  at::Tensor frames = to_cpu(fused_post_ || times || before ? compose(packed, height, width, times)
                                                  : unpack_frames(generate(packed), height, width));
  return one_pair ? frames.squeeze(0) : frames;
}

// [B, 2, H, W, 3] on the engine's device. From the CPU to a GPU, through the pinned staging buffer:
// an asynchronous copy on the current stream, after the previous copy out of the buffer has finished.
at::Tensor Interpolator::to_device_pairs(const at::Tensor& a, const at::Tensor& b) {
  if (a.device() == device_) return at::stack({a, b}, 1);
  const std::vector<int64_t> shape{a.size(0), 2, a.size(1), a.size(2), 3};
  const int64_t bytes = c10::multiply_integers(shape);
  if (!staging_read_) staging_read_.emplace(device_.type());
  staging_read_->synchronize();  // returns at once unless a failed run left a copy in flight
  if (!staging_.defined() || staging_.numel() < bytes)
    staging_ = at::empty({bytes}, at::TensorOptions(at::kByte).pinned_memory(true));
  at::Tensor pairs = staging_.narrow(0, 0, bytes).view(shape);
  at::stack_out(pairs, {a, b}, 1);
  at::Tensor on_device = pairs.to(device_, /*non_blocking=*/true);
  staging_read_->record(current_stream());
  return on_device;
}

at::Tensor Interpolator::generate(const at::Tensor& packed) {
  c10::IValue out = module_.forward({packed});
  TORCH_CHECK(out.isTensor(), "pyframegan: ", model_path_, ": the generator returned a ", out.tagKind(),
              ", not a tensor");
  at::Tensor frames = out.toTensor();
  const auto want = std::vector<int64_t>{packed.size(0), 3 * n_out(), packed.size(2), packed.size(3)};
  TORCH_CHECK(frames.sizes() == want, "pyframegan: ", model_path_, ": the generator returned ", frames.sizes(),
              " for an input of ", packed.sizes(), "; its metadata promises ", c10::IntArrayRef(want));
  return frames;
}

// uint8 frames [B, n, height, width, 3] from the generator's components() (or components_at(times))
// and the fused post-op.
at::Tensor Interpolator::compose(const at::Tensor& packed, int64_t height, int64_t width,
                                 const std::vector<double>* times) {
  c10::IValue out =
      times ? module_.get_method(kComponentsAt)(
                  {packed, at::tensor(c10::ArrayRef<double>(*times), at::kFloat).to(device_)})
            : module_.get_method(kComponents)({packed});
  const Components parts = Components::from(out, model_path_);
  const int64_t n = frames_per_pair(times);
  const auto want = std::vector<int64_t>{packed.size(0), n, 2, packed.size(2), packed.size(3)};
  TORCH_CHECK(parts.flow_t0.sizes() == want, "pyframegan: ", model_path_, ": components() returned flows of shape ",
              parts.flow_t0.sizes(), " for an input of ", packed.sizes(), "; expected ", c10::IntArrayRef(want));
  return warp_blend(packed, parts, height, width);
}

// A GPU result comes back through pinned memory (asynchronous copy, then a wait on the stream).
at::Tensor Interpolator::to_cpu(const at::Tensor& frames) {
  if (frames.is_cpu()) return frames;
  at::Tensor host = at::empty(frames.sizes(), at::TensorOptions(at::kByte).pinned_memory(true));
  host.copy_(frames, /*non_blocking=*/true);
  current_stream().synchronize();
  return host;
}

c10::Stream Interpolator::current_stream() const {
  return c10::impl::VirtualGuardImpl(device_.type()).getStream(device_);
}

}  // namespace pyframegan
