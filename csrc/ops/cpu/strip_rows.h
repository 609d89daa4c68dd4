// The CPU row paths of preprocess_strips for packed RGB strips and float32 outputs (the training
// case); see strip_rows.cpp. cpu/kernels.cpp routes those kernels here.
#pragma once
#include <cstdint>

#include "pyframegan/strip_math.h"

namespace pyframegan::cpu {

// Every row of the kernel, rows in parallel (parallel_rows) as in for_each_pixel_cpu.
template <bool kResize>
void strip_rows(const StripKernel<float, true, kResize>& kernel, int64_t rows, int64_t width);

}  // namespace pyframegan::cpu
