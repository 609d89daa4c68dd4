// Argument checks shared by the ops: messages name the argument and what was expected.
#pragma once
#include <ATen/ATen.h>

namespace pyframegan {

constexpr int64_t kMaxSide = int64_t{1} << 16;  // the largest image / tile side, and crop or load size, an op takes

// An integer argument checked against [lo, hi] before it is narrowed to int: a ValueError naming
// it, never a wrapped value (2^32 + k would otherwise read as k).
inline int checked_int(int64_t v, int64_t lo, int64_t hi, const char* op, const char* name) {
  TORCH_CHECK_VALUE(v >= lo && v <= hi, "pyframegan: ", op, ": ", name, " must be in [", lo, ", ", hi, "], got ", v);
  return static_cast<int>(v);
}

inline void check_output_dtype(at::ScalarType dtype) {
  TORCH_CHECK_TYPE(dtype == at::kFloat || dtype == at::kHalf || dtype == at::kBFloat16,
                   "pyframegan: dtype must be torch.float32, torch.float16 or torch.bfloat16, got ", dtype);
}

inline void check_uint8_image(const at::Tensor& t, const char* name, int64_t dim, const char* layout) {
  TORCH_CHECK_TYPE(t.scalar_type() == at::kByte, "pyframegan: ", name, " must be a uint8 tensor, got ",
                   t.scalar_type());
  TORCH_CHECK_VALUE(t.dim() == dim, "pyframegan: ", name, " must have shape ", layout, " (", dim,
                    " dimensions), got ", t.sizes());
  TORCH_CHECK_VALUE(t.size(dim - 1) == 3, "pyframegan: ", name, " must have 3 (RGB) channels in its last dimension, got ",
                    t.sizes());
}

// A tensor that must sit on the same device as the image it goes with.
inline void check_same_device(const at::Tensor& t, const char* name, const at::Tensor& ref, const char* ref_name) {
  TORCH_CHECK_VALUE(t.device() == ref.device(), "pyframegan: ", name, " is on ", t.device(), " but ", ref_name,
                    " is on ", ref.device(), "; put them on the same device");
}

// A caller-supplied output (.out overloads): given shape, dtype and device, contiguous.
inline void check_output(const at::Tensor& t, const char* name, at::IntArrayRef shape, at::ScalarType dtype,
                         const at::Tensor& input) {
  check_output_dtype(t.scalar_type());
  TORCH_CHECK_TYPE(t.scalar_type() == dtype, "pyframegan: ", name, " is ", t.scalar_type(), " but the other output is ",
                   dtype, "; both outputs must have the same dtype");
  check_same_device(t, name, input, "the input");
  TORCH_CHECK_VALUE(t.sizes() == shape, "pyframegan: ", name, " must have shape ", shape, ", got ", t.sizes());
  TORCH_CHECK_VALUE(t.is_contiguous(), "pyframegan: ", name, " must be contiguous");
}

}  // namespace pyframegan
