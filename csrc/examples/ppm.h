// Binary PPM images (P6, 8 bits per sample) as uint8 [H, W, 3] tensors: enough image I/O for the
// example without an image library. Errors are std::runtime_error naming the file and the problem.
#pragma once
#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace pyframegan::ppm {

namespace detail {

// The next header number, after whitespace and # comments.
inline int64_t header_number(const std::string& data, size_t& pos, const std::string& path, const char* what) {
  while (pos < data.size()) {
    if (data[pos] == '#') pos = std::min(data.find('\n', pos), data.size());
    else if (std::isspace(static_cast<unsigned char>(data[pos]))) ++pos;
    else break;
  }
  const size_t start = pos;
  while (pos < data.size() && std::isdigit(static_cast<unsigned char>(data[pos]))) ++pos;
  if (pos == start || pos - start > 6)
    throw std::runtime_error(path + ": bad PPM header (" + what + (pos == start ? " missing)" : " too large)"));
  return std::stoll(data.substr(start, pos - start));
}

}  // namespace detail

inline at::Tensor read(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error(path + ": cannot open the file");
  const std::string data((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (data.compare(0, 2, "P6") != 0)
    throw std::runtime_error(path + ": not a binary PPM image (P6); convert it, e.g. `convert IN.png OUT.ppm`");
  size_t pos = 2;
  const int64_t width = detail::header_number(data, pos, path, "width");
  const int64_t height = detail::header_number(data, pos, path, "height");
  const int64_t maxval = detail::header_number(data, pos, path, "maximum value");
  if (width < 1 || height < 1) throw std::runtime_error(path + ": the image is empty");
  if (maxval != 255)
    throw std::runtime_error(path + ": PPM with maximum value " + std::to_string(maxval) +
                             "; only 8-bit images (255) are supported");
  if (pos >= data.size() || !std::isspace(static_cast<unsigned char>(data[pos])))
    throw std::runtime_error(path + ": bad PPM header");
  ++pos;  // the single whitespace character before the pixels
  const int64_t bytes = width * height * 3;
  if (static_cast<int64_t>(data.size() - pos) < bytes)
    throw std::runtime_error(path + ": truncated PPM (" + std::to_string(data.size() - pos) + " of " +
                             std::to_string(bytes) + " pixel bytes)");
  at::Tensor image = at::empty({height, width, 3}, at::kByte);
  std::copy_n(data.data() + pos, bytes, reinterpret_cast<char*>(image.data_ptr<uint8_t>()));
  return image;
}

inline void write(const std::string& path, const at::Tensor& image) {
  TORCH_CHECK(image.dim() == 3 && image.size(2) == 3 && image.scalar_type() == at::kByte,
              "ppm::write: expected a uint8 [H, W, 3] image, got ", image.sizes(), " ", image.scalar_type());
  const at::Tensor pixels = image.cpu().contiguous();
  std::ofstream file(path, std::ios::binary);
  file << "P6\n" << pixels.size(1) << ' ' << pixels.size(0) << "\n255\n";
  file.write(reinterpret_cast<const char*>(pixels.data_ptr<uint8_t>()), pixels.numel());
  if (!file) throw std::runtime_error(path + ": cannot write the file");
}

}  // namespace pyframegan::ppm
