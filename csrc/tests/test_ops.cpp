// C++ test of the fused ops through the dispatcher (libtorch only, no Python), run by ctest.
#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <cstdio>
#include <optional>
#include <tuple>

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
  if (!ok) ++failures;
}

using StripsFn = std::tuple<at::Tensor, at::Tensor>(const at::Tensor&, int64_t, at::IntArrayRef, at::IntArrayRef,
                                                     int64_t, std::optional<int64_t>,
                                                     const std::optional<at::Tensor>&,
                                                     const std::optional<at::Tensor>&, at::ScalarType);

template <typename Fn>
auto op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Fn>();
}

}  // namespace

int main() {
  auto strips_op = op<StripsFn>("pyframegan::preprocess_strips");
  auto pack_op = op<at::Tensor(const at::Tensor&, int64_t, at::ScalarType)>("pyframegan::pack_pairs");
  auto unpack_op = op<at::Tensor(const at::Tensor&, int64_t, int64_t)>("pyframegan::unpack_frames");

  // Seed layout: tile i filled with 30*i; inputs are tiles 5, 6 and targets 0..4.
  at::Tensor strips = (at::arange(7, at::kByte) * 30).view({1, 1, 7, 1, 1}).expand({2, 16, 7, 16, 3})
                          .reshape({2, 16, 7 * 16, 3});
  std::vector<int64_t> inputs{5, 6}, targets{0, 1, 2, 3, 4};
  auto [inp, tgt] = strips_op.call(strips, 7, inputs, targets, 8, std::nullopt, std::nullopt, std::nullopt,
                                   at::kFloat);
  expect(inp.sizes() == at::IntArrayRef({2, 6, 8, 8}) && tgt.sizes() == at::IntArrayRef({2, 15, 8, 8}),
         "preprocess_strips output shapes");
  expect(std::abs(inp[0][0][3][3].item<float>() - (150.0f / 127.5f - 1.0f)) < 1e-6 &&
             std::abs(inp[1][5][0][7].item<float>() - (180.0f / 127.5f - 1.0f)) < 1e-6 &&
             std::abs(tgt[0][14][7][0].item<float>() - (120.0f / 127.5f - 1.0f)) < 1e-6,
         "preprocess_strips picks the seed layout's tiles and normalises to [-1, 1]");

  // Resizing a constant tile keeps the constant; flip of a constant is the constant.
  auto [inp2, tgt2] = strips_op.call(strips, 7, inputs, targets, 20, 24, std::nullopt,
                                     at::ones({2}, at::kBool), at::kHalf);
  expect(inp2.scalar_type() == at::kHalf && inp2.size(2) == 20 &&
             (inp2.to(at::kFloat)[0][3] - (180.0f / 127.5f - 1.0f)).abs().max().item<float>() < 2e-3,
         "preprocess_strips with resize + flip to float16");

  // pack_pairs then unpack_frames gives the frames back (odd size, padded to 16).
  at::Tensor pairs = at::randint(0, 256, {2, 2, 13, 19, 3}, at::kByte);
  at::Tensor packed = pack_op.call(pairs, 16, at::kFloat);
  expect(packed.sizes() == at::IntArrayRef({2, 6, 16, 32}), "pack_pairs pads to a multiple of 16");
  expect(at::equal(unpack_op.call(packed, 13, 19), pairs), "unpack_frames(pack_pairs(x)) == x");

  // Bad input raises a c10::ValueError naming the problem.
  bool raised = false;
  try {
    strips_op.call(strips, 5, inputs, targets, 8, std::nullopt, std::nullopt, std::nullopt, at::kFloat);
  } catch (const c10::ValueError& e) {
    raised = std::string(e.what_without_backtrace()).find("not divisible by frames=5") != std::string::npos;
  }
  expect(raised, "a strip width not divisible by frames raises ValueError");

  std::printf("%d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
