// dis_flow: Dense Inverse Search optical flow of B frame pairs (the math: pyframegan/dis_math.h).
#pragma once
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>

#include <vector>

#include "pyframegan/dis_math.h"

namespace pyframegan {

// The parameters after the checks and OpenCV's choice of scales for the frame size.
struct DisPlan {
  int64_t batch;
  int height, width;
  int finest, coarsest;  // pyramid levels used (0: full resolution)
  int patch, stride, iters, refine_iters;
  float alpha, gamma, delta, epsilon;
  bool mean_norm, propagate;
  std::vector<dis::Level> levels;  // levels[s] for s in [finest, coarsest]; others unused
  at::Tensor frames[2];  // each uint8 RGB [B, H, W, 3] (any strides) or float32 grey [B, H, W] contiguous
};

// Checks both frames and every parameter (clear ValueError / TypeError) and picks the scales.
DisPlan plan_dis_flow(const at::Tensor& first, const at::Tensor& second, int64_t finest_scale, int64_t coarsest_scale,
                      int64_t patch_size, int64_t patch_stride, int64_t grad_descent_iters, int64_t refine_iters,
                      double alpha, double gamma, double delta, double epsilon, bool mean_normalization,
                      bool spatial_propagation);

template <typename Driver>
at::Tensor dis_grey(const DisPlan& p, const at::Tensor& frames, const at::TensorOptions& opts) {
  at::Tensor out = Driver::new_output({p.batch, p.height, p.width}, opts);
  dis::GreyKernel k{};
  k.h = p.height, k.w = p.width, k.out = out.data_ptr<float>();
  if (frames.scalar_type() == at::kByte) {
    k.rgb = frames.const_data_ptr<uint8_t>();
    k.sb = frames.stride(0), k.sy = frames.stride(1), k.sx = frames.stride(2), k.sc = frames.stride(3);
  } else {
    k.grey = frames.const_data_ptr<float>();
  }
  Driver::run(k, p.batch * p.height, p.width);
  return out;
}

// The pyramid levels [finest, coarsest] of one frame (others undefined).
template <typename Driver>
std::vector<at::Tensor> dis_pyramid(const DisPlan& p, const at::Tensor& grey) {
  std::vector<at::Tensor> levels(p.coarsest + 1);
  at::Tensor src = grey;
  for (int s = p.finest; s <= p.coarsest; ++s) {
    const dis::Level& lv = p.levels[s];
    at::Tensor dst = Driver::new_output({p.batch, lv.h, lv.w}, grey.options());
    Driver::run(dis::AreaDownKernel{{lv.h}, src.const_data_ptr<float>(), dst.data_ptr<float>(),
                                    static_cast<int>(src.size(1)), static_cast<int>(src.size(2)), lv.w},
                p.batch * lv.h, lv.w);
    levels[s] = src = dst;
  }
  return levels;
}

// into `out` [B, 2, h, w] contiguous when it is given
template <typename Driver>
at::Tensor dis_resize_flow(const at::Tensor& flow, int h, int w, float scale, at::Tensor out = {}) {
  const int sh = static_cast<int>(flow.size(2)), sw = static_cast<int>(flow.size(3));
  at::Tensor taps = at::empty({static_cast<int64_t>((w + h) * sizeof(dis::LinearTap))}, flow.options().dtype(at::kByte));
  auto* t = reinterpret_cast<dis::LinearTap*>(taps.data_ptr<uint8_t>());
  Driver::run(dis::ResizeTapsKernel{t, sh, sw, h, w}, 1, w + h);
  if (!out.defined()) out = Driver::new_output({flow.size(0), 2, h, w}, flow.options());
  Driver::run(dis::ResizeFlowKernel{{h}, flow.const_data_ptr<float>(), out.data_ptr<float>(), t, sh, sw, w, scale},
              flow.size(0) * 2 * h, w);
  return out;
}

// Variational refinement of `flow` [B, 2, h, w] in place (frames i0, i1 of the level).
template <typename Driver>
void dis_refine(const DisPlan& p, const dis::Level& lv, const at::Tensor& i0, const at::Tensor& i1, at::Tensor& flow) {
  using namespace dis;
  const int64_t rows = p.batch * lv.h;
  const Rows r{lv.h};
  const RedBlack rb{lv.h, lv.w};
  at::Tensor deriv = Driver::new_output({p.batch, kPixelDerivs, lv.h, lv.w}, flow.options());
  at::Tensor avg = Driver::new_output({p.batch, lv.h, lv.w}, flow.options());
  // the red-black planes: their border and padding zero (the norms one, so that padding divides by
  // 1); by a kernel of ours, not at::zero_ (on the CPU an OpenMP region, which inside a pool task or
  // with the cores shared costs more than the fill)
  at::Tensor terms = Driver::new_output({p.batch, 2, kTerms, rb.plane()}, flow.options());
  Driver::run(InitPlanesKernel{terms.data_ptr<float>(), rb.plane(), kTerms, kNorm, 3}, p.batch * 2 * kTerms, rb.plane());
  at::Tensor dflow = Driver::new_output({p.batch, 2, 2, rb.plane()}, flow.options());
  Driver::run(InitPlanesKernel{dflow.data_ptr<float>(), rb.plane(), 2, 0, 0}, p.batch * 2 * 2, rb.plane());
  at::Tensor system = Driver::new_output({p.batch, 2, kSystem, rb.plane()}, flow.options());
  float *d = deriv.data_ptr<float>(), *t = terms.data_ptr<float>(), *df = dflow.data_ptr<float>();
  float* sys = system.data_ptr<float>();
  const float* f = flow.const_data_ptr<float>();
  Driver::run(WarpKernel{r, i0.const_data_ptr<float>(), i1.const_data_ptr<float>(), f, d, avg.data_ptr<float>(), lv.w},
              rows, lv.w);
  for (int stage = 0; stage < 2; ++stage)
    Driver::run(DerivKernel{r, d, avg.const_data_ptr<float>(), f, t, lv.w, stage}, rows, lv.w);
  for (int it = 0; it < p.refine_iters; ++it) {
    Driver::run(WeightKernel{r, t, df, lv.w, p.alpha, p.epsilon}, 2 * rows, rb.groups());
    Driver::run(SystemKernel{r, t, df, sys, lv.w, p.gamma, p.delta, p.epsilon}, 2 * rows, rb.groups());
    for (int sor = 0; sor < kSorIterations; ++sor)
      for (int colour = 0; colour < 2; ++colour) Driver::run(SorKernel{r, sys, t, df, lv.w, colour}, rows, rb.groups());
  }
  Driver::run(AddKernel{r, flow.data_ptr<float>(), df, lv.w}, p.batch * 2 * lv.h, lv.w);
}

// The flows of all the pairs of `p`, each kernel over all of them at once (into `out` when given).
template <typename Driver>
at::Tensor dis_flow_of(const DisPlan& p, const at::TensorOptions& opts, at::Tensor out = {}) {
  using namespace dis;
  const std::vector<at::Tensor> pyr0 = dis_pyramid<Driver>(p, dis_grey<Driver>(p, p.frames[0], opts));
  const std::vector<at::Tensor> pyr1 = dis_pyramid<Driver>(p, dis_grey<Driver>(p, p.frames[1], opts));
  at::Tensor flow = at::zeros({p.batch, 2, p.levels[p.coarsest].h, p.levels[p.coarsest].w}, opts);
  for (int s = p.coarsest; s >= p.finest; --s) {
    const Level& lv = p.levels[s];
    const int64_t rows = p.batch * lv.h;
    at::Tensor gx = Driver::new_output({p.batch, lv.h, lv.w}, opts), gy = Driver::new_output({p.batch, lv.h, lv.w}, opts);
    Driver::run(SobelKernel{{lv.h}, pyr0[s].const_data_ptr<float>(), gx.data_ptr<float>(), gy.data_ptr<float>(), lv.w},
                rows, lv.w);
    at::Tensor padded = Driver::new_output({p.batch, lv.h + 2 * kBorder, lv.w + 2 * kBorder}, opts);
    Driver::run(PadKernel{pyr1[s].const_data_ptr<float>(), padded.data_ptr<float>(), lv.h, lv.w},
                p.batch * (lv.h + 2 * kBorder), lv.w + 2 * kBorder);
    at::Tensor sparse = at::empty({p.batch, 2, lv.hs, lv.ws}, opts);
    at::Tensor structure = at::empty({p.batch, kStructure, lv.hs, lv.ws}, opts);
    Driver::run(StructureKernel{{lv.hs}, gx.const_data_ptr<float>(), gy.const_data_ptr<float>(),
                                structure.data_ptr<float>(), lv, p.patch, p.stride},
                p.batch * lv.hs, lv.ws);
    PatchSearch search{pyr0[s].const_data_ptr<float>(), padded.const_data_ptr<float>(), gx.const_data_ptr<float>(),
                       gy.const_data_ptr<float>(), flow.const_data_ptr<float>(), structure.const_data_ptr<float>(),
                       sparse.data_ptr<float>(), lv,
                       p.patch, p.stride, p.propagate ? p.iters / 2 : p.iters, p.mean_norm, p.propagate, false};
    Driver::run_stripes(search, p.batch);
    if (p.propagate) {
      search.backward = true;
      Driver::run_stripes(search, p.batch);
    }
    at::Tensor dense = Driver::new_output({p.batch, 2, lv.h, lv.w}, opts);
    at::Tensor cover = at::empty({static_cast<int64_t>(lv.w * sizeof(Cover))}, opts.dtype(at::kByte));
    auto* columns = reinterpret_cast<Cover*>(cover.data_ptr<uint8_t>());
    Driver::run(CoverKernel{columns, p.patch, p.stride, lv.ws}, 1, lv.w);
    Driver::run(DensifyKernel{sparse.const_data_ptr<float>(), pyr0[s].const_data_ptr<float>(),
                              padded.const_data_ptr<float>(), dense.data_ptr<float>(), columns, lv, p.patch, p.stride},
                rows, lv.w);
    if (p.refine_iters > 0) dis_refine<Driver>(p, lv, pyr0[s], pyr1[s], dense);
    flow = s > p.finest ? dis_resize_flow<Driver>(dense, p.levels[s - 1].h, p.levels[s - 1].w, 2.0f) : dense;
  }
  return dis_resize_flow<Driver>(flow, p.height, p.width, static_cast<float>(1 << p.finest), out);
}

// Driver: CpuDriver (cpu/kernels.cpp) or CudaDriver (cuda/kernels.cu); besides run(kernel, rows,
// width) it has run_stripes(PatchSearch, batch), which visits every stripe of every pair.
template <typename Driver>
at::Tensor run_dis_flow(const at::Tensor& first, const at::Tensor& second, int64_t finest_scale,
                        int64_t coarsest_scale, int64_t patch_size, int64_t patch_stride, int64_t grad_descent_iters,
                        int64_t refine_iters, double alpha, double gamma, double delta, double epsilon,
                        bool mean_normalization, bool spatial_propagation) {
  using namespace dis;
  typename Driver::Guard guard(first.device());
  const DisPlan p = plan_dis_flow(first, second, finest_scale, coarsest_scale, patch_size, patch_stride,
                                  grad_descent_iters, refine_iters, alpha, gamma, delta, epsilon, mean_normalization,
                                  spatial_propagation);
  const auto opts = first.options().dtype(at::kFloat);
  if (p.batch == 0) return at::empty({0, 2, p.height, p.width}, opts);
  if constexpr (Driver::kPairsInParallel) {
    // Each pair on one thread from start to end, its kernels inline, when there are at least as
    // many pairs as threads or the frames are small (under a megapixel): kernel by kernel, a flow
    // is hundreds of short parallel calls, which cost more than their work as soon as other threads
    // share the cores (measured with at::parallel_for, 640x272 medium, 2 cores busy with other
    // work: 8 pairs 1.0 s kernel by kernel, 0.35 s pair by pair). A single pair runs kernel by
    // kernel, each kernel over the threads.
    if (p.batch > 1 && (p.batch >= at::get_num_threads() || static_cast<int64_t>(p.height) * p.width < (int64_t{1} << 20))) {
      at::Tensor out = Driver::new_output({p.batch, 2, p.height, p.width}, opts);
      const at::ThreadLocalState caller;  // inference / grad mode of the caller, for the worker threads
      Driver::run_tasks(p.batch, [&](int64_t b) {
        const at::ThreadLocalStateGuard as_caller(caller);
        DisPlan one = p;
        one.batch = 1;
        for (int k = 0; k < 2; ++k) one.frames[k] = p.frames[k].narrow(0, b, 1);
        dis_flow_of<Driver>(one, opts, out.narrow(0, b, 1));
      });
      return out;
    }
  }
  return dis_flow_of<Driver>(p, opts);
}

}  // namespace pyframegan
