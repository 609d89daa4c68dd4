// The CPU row paths of dis_flow's densification and refinement; see dis_rows.cpp. cpu/kernels.cpp routes it here.
#pragma once
#include <cstdint>

#include "pyframegan/dis_math.h"

namespace pyframegan::cpu {

// Every row of the kernel (rows in parallel, as for_each_pixel_cpu), the same flow.
void densify_rows(const dis::DensifyKernel& kernel, int64_t rows, int64_t width);
// The refinement's SOR half-sweeps and systems, two groups (8 pixels) at a time: the same bits.
void sor_rows(const dis::SorKernel& kernel, int64_t rows, int64_t width);
void system_rows(const dis::SystemKernel& kernel, int64_t rows, int64_t width);

}  // namespace pyframegan::cpu
