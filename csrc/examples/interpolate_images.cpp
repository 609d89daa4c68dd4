// interpolate_images: the frames between two images, with an exported pyframegan generator, in C++.
//
//   interpolate_images MODEL.pt A.ppm B.ppm OUT_PREFIX [--device cpu|cuda|cuda:N] [--dtype float32|float16|bfloat16]
//
// writes OUT_PREFIX_1.ppm ... OUT_PREFIX_<n>.ppm (n = the model's n_out), in time order.
#include <c10/util/Exception.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "engine/interpolator.h"
#include "ppm.h"

namespace {

constexpr const char* kUsage =
    "usage: interpolate_images MODEL.pt A.ppm B.ppm OUT_PREFIX [--device cpu|cuda|cuda:N] "
    "[--dtype float32|float16|bfloat16]\n"
    "  writes OUT_PREFIX_1.ppm ... OUT_PREFIX_n.ppm: the n frames between A and B (binary PPM, P6)\n";

struct Options {
  std::string model, a, b, prefix, device = "cpu";
  at::ScalarType dtype = at::kFloat;
};

at::ScalarType parse_dtype(const std::string& name) {
  static const std::map<std::string, at::ScalarType> dtypes{
      {"float32", at::kFloat}, {"float16", at::kHalf}, {"bfloat16", at::kBFloat16}};
  auto it = dtypes.find(name);
  if (it == dtypes.end()) throw std::invalid_argument("unknown --dtype " + name);
  return it->second;
}

Options parse(int argc, char** argv) {
  Options options;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--device" || arg == "--dtype") && i + 1 < argc) {
      const std::string value = argv[++i];
      if (arg == "--device") options.device = value;
      else options.dtype = parse_dtype(value);
    } else if (arg.rfind("--", 0) == 0) {
      throw std::invalid_argument("unknown or incomplete option " + arg);
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 4) throw std::invalid_argument("expected 4 arguments, got " + std::to_string(positional.size()));
  options.model = positional[0];
  options.a = positional[1];
  options.b = positional[2];
  options.prefix = positional[3];
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  try {
    options = parse(argc, argv);
  } catch (const std::invalid_argument& e) {
    std::cerr << "interpolate_images: " << e.what() << "\n" << kUsage;
    return 2;
  }
  try {
    const at::Tensor a = pyframegan::ppm::read(options.a);
    const at::Tensor b = pyframegan::ppm::read(options.b);
    pyframegan::Interpolator engine(options.model, options.device, options.dtype);
    const at::Tensor frames = engine.run(a, b);  // [n_out, H, W, 3]
    for (int64_t i = 0; i < frames.size(0); ++i) {
      const std::string path = options.prefix + "_" + std::to_string(i + 1) + ".ppm";
      pyframegan::ppm::write(path, frames[i]);
      std::cout << "wrote " << path << "\n";
    }
  } catch (const c10::Error& e) {  // checks of the engine and the ops: the message without a C++ backtrace
    std::cerr << "interpolate_images: " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "interpolate_images: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
