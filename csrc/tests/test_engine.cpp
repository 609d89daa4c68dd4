// C++ test of pyframegan::Interpolator and its metadata reader (libtorch only, no Python), run by ctest:
//   test_engine MODEL.pt     (tests/data/tiny_generator.pt, made by tests/data/make_tiny_model.py)
#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/jit/serialization/import.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "engine/interpolator.h"

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
  std::printf("%s: %s\n", ok ? "PASS" : "FAIL", what.c_str());
  if (!ok) ++failures;
}

// `fn` throws an Error whose message contains `text`.
template <typename Error>
void expect_error(const std::function<void()>& fn, const std::string& text, const std::string& what) {
  std::string message = "(no exception)";
  try {
    fn();
  } catch (const Error& e) {
    message = e.what();
  } catch (const std::exception& e) {
    message = std::string("(another exception type) ") + e.what();
  }
  const bool ok = message.find(text) != std::string::npos;
  expect(ok, what);
  if (!ok) std::printf("  message: %s\n", message.c_str());
}

// The pipeline spelled out: pack_pairs -> the TorchScript model -> unpack_frames.
at::Tensor run_directly(const std::string& model_path, const at::Tensor& a, const at::Tensor& b, int64_t multiple) {
  c10::InferenceMode inference;
  auto& dispatcher = c10::Dispatcher::singleton();
  auto pack = dispatcher.findSchemaOrThrow("pyframegan::pack_pairs", "")
                  .typed<at::Tensor(const at::Tensor&, int64_t, at::ScalarType)>();
  auto unpack = dispatcher.findSchemaOrThrow("pyframegan::unpack_frames", "")
                    .typed<at::Tensor(const at::Tensor&, int64_t, int64_t)>();
  torch::jit::Module model = torch::jit::load(model_path);
  model.eval();
  at::Tensor out = model.forward({pack.call(at::stack({a, b}, 1), multiple, at::kFloat)}).toTensor();
  return unpack.call(out, a.size(1), a.size(2));
}

void test_json_members() {
  auto members = pyframegan::json_object_members(
      R"( {"format": "x \"}{\" y", "model": {"n_out": 9, "list": [1, {"a": "]"}]}, "n_out" : 5,
          "flag": true, "empty": {}} )");
  expect(members.size() == 5 && members["n_out"] == "5" && members["format"] == R"("x \"}{\" y")" &&
             members["flag"] == "true" && members["empty"] == "{}",
         "json_object_members: top-level members only, strings and nesting skipped correctly");
  for (const char* bad : {"", "[1]", "{\"a\": 1", "{\"a\" 1}", "{\"a\": 1} x", "{\"a\": \"open}"}) {
    expect_error<std::invalid_argument>([&] { pyframegan::json_object_members(bad); }, "invalid JSON",
                                        std::string("json_object_members rejects ") + bad);
  }
}

void test_parse_metadata() {
  auto meta = pyframegan::parse_metadata(
      R"({"format": "pyframegan-generator", "version": 1, "n_in": 2, "n_out": 5, "multiple": 128,
          "model": {"n_out": 7, "multiple": 1}})",
      "m.pt");
  expect(meta.n_in == 2 && meta.n_out == 5 && meta.multiple == 128, "parse_metadata reads the top-level fields");
  using pyframegan::InvalidModelError;
  expect_error<InvalidModelError>([] { pyframegan::parse_metadata(R"({"format": "other", "version": 1})", "m.pt"); },
                                  "m.pt is not a pyframegan generator (format \"other\")", "a foreign format");
  expect_error<InvalidModelError>(
      [] { pyframegan::parse_metadata(R"({"format": "pyframegan-generator", "version": 2})", "m.pt"); },
      "format version 2; this pyframegan reads version 1", "a newer format version");
  expect_error<InvalidModelError>(
      [] {
        pyframegan::parse_metadata(R"({"format": "pyframegan-generator", "version": 1, "n_in": 2, "n_out": "5"})",
                                   "m.pt");
      },
      "no integer \"n_out\" (got \"5\")", "a field of the wrong type");
  expect_error<InvalidModelError>([] { pyframegan::parse_metadata("{", "m.pt"); }, "m.pt: unreadable pyframegan.json",
                                  "unreadable JSON");
}

void test_engine_matches_the_pipeline(const std::string& model_path) {
  pyframegan::Interpolator engine(model_path);
  expect(engine.n_in() == 2 && engine.n_out() == 5 && engine.multiple() == 8 && engine.device().is_cpu() &&
             engine.dtype() == at::kFloat,
         "the engine reads the tiny model's metadata (n_in 2, n_out 5, multiple 8)");
  at::manual_seed(0);
  const at::Tensor a = at::randint(0, 256, {2, 13, 21, 3}, at::kByte);
  const at::Tensor b = at::randint(0, 256, {2, 13, 21, 3}, at::kByte);
  const at::Tensor frames = engine.run(a, b);
  const at::Tensor want = run_directly(model_path, a, b, engine.multiple());
  expect(frames.sizes() == at::IntArrayRef({2, 5, 13, 21, 3}) && frames.scalar_type() == at::kByte,
         "run: uint8 [B, n_out, H, W, 3] for odd frame sizes");
  expect(at::equal(frames, want), "run equals pack_pairs -> model.forward -> unpack_frames");
  expect(want.to(at::kFloat).std().item<float>() > 5, "the model's output varies from pixel to pixel");

  const at::Tensor one = engine.run(a[1], b[1]);
  expect(one.sizes() == at::IntArrayRef({5, 13, 21, 3}) && at::equal(one, frames[1]),
         "one pair [H, W, 3] gives [n_out, H, W, 3], equal to its batched result");
  // Non-contiguous inputs (a channel-last view of NCHW tensors) give the same frames.
  const at::Tensor a_nchw = a.permute({0, 3, 1, 2}).contiguous(), b_nchw = b.permute({0, 3, 1, 2}).contiguous();
  expect(at::equal(engine.run(a_nchw.permute({0, 2, 3, 1}), b_nchw.permute({0, 2, 3, 1})), frames),
         "strided inputs give the same frames");

  pyframegan::Interpolator half(model_path, "cpu", at::kHalf);
  const at::Tensor diff = (half.run(a, b).to(at::kInt) - want.to(at::kInt)).abs();
  expect(diff.to(at::kFloat).mean().item<float>() < 1.0f && diff.max().item<int>() <= 8,
         "float16 on the CPU stays close to float32");
}

void test_errors(const std::string& model_path, const std::string& data_dir) {
  using pyframegan::InvalidModelError;
  using pyframegan::Interpolator;
  expect_error<pyframegan::ModelNotFoundError>([] { Interpolator("no/such/model.pt"); },
                                               "no model file at no/such/model.pt", "a missing model file");
  expect_error<InvalidModelError>([&] { Interpolator(data_dir + "/a.ppm"); }, "not a TorchScript archive",
                                  "a file that is not an archive");
  expect_error<c10::ValueError>([&] { Interpolator(model_path, "tpu"); }, "unknown device \"tpu\"", "a bad device");
  expect_error<c10::TypeError>([&] { Interpolator(model_path, "cpu", at::kInt); }, "dtype must be float32",
                               "a bad dtype");

  Interpolator engine(model_path);
  const at::Tensor a = at::zeros({1, 16, 16, 3}, at::kByte);
  expect_error<c10::TypeError>([&] { engine.run(a.to(at::kFloat), a); }, "frames a must be uint8", "float frames");
  expect_error<c10::ValueError>([&] { engine.run(a, a.to_sparse()); }, "frames b must be a dense tensor",
                                "sparse frames");
  expect_error<c10::ValueError>([&] { engine.run(a, a.narrow(2, 0, 12)); }, "frames must have the same shape",
                                "frames of different sizes");
  expect_error<c10::ValueError>([&] { engine.run(a.narrow(1, 0, 7), a.narrow(1, 0, 7)); },
                                "must be at least 8x8", "frames that are too small");
  expect_error<c10::ValueError>([&] { engine.run(a.narrow(3, 0, 1), a.narrow(3, 0, 1)); }, "must be RGB",
                                "grayscale frames");
  expect(engine.run(a.narrow(0, 0, 0), a.narrow(0, 0, 0)).sizes() == at::IntArrayRef({0, 5, 16, 16, 3}),
         "an empty batch gives an empty result");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: test_engine MODEL.pt\n");
    return 2;
  }
  const std::string model_path = argv[1];
  const std::string data_dir = std::filesystem::path(model_path).parent_path().string();
  test_json_members();
  test_parse_metadata();
  test_engine_matches_the_pipeline(model_path);
  test_errors(model_path, data_dir);
  std::printf("%d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
