// The CPU row paths of warp_blend and warp_disagreement for float frames and flows (the engine's
// case); see warp_rows.cpp. cpu/kernels.cpp routes those kernels here.
#pragma once
#include <cstdint>

#include "pyframegan/warp_math.h"

namespace pyframegan::cpu {

// Every row of the kernel (rows in parallel, as for_each_pixel_cpu), the same frames.
void warp_blend_rows(const WarpBlendKernel<float, float>& kernel, int64_t rows, int64_t width);
void warp_disagreement_rows(const WarpDisagreementKernel<float, float>& kernel, int64_t rows, int64_t width);

}  // namespace pyframegan::cpu
