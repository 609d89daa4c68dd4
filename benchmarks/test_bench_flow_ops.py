"""The flow ops against their pure-torch references in the same run.

  correlation:  B=4, C=32, 64x64, d=4 (81 displacements), float32, normalize=False; forward alone
                and forward + backward (grads of both inputs). The reference: zero-pad f2, then a
                multiply and channel mean per displacement, autograd for its backward.
  warp_blend:   one 1280x720 pair padded to 1280x736, n=5 frames, float32, with residual. The
                reference: grid_sample of both frames for each flow, blend, residual, unpack_frames_ref.
"""
import pytest
import torch

from pyframegan import ops
from pyframegan import reference as ref
from devices import DEVICES


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def run_bench(benchmark, impl, fn, device):
    def run():
        out = fn()
        sync(device)
        return out
    if "reference" in impl:  # slow: few rounds
        return benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    return benchmark(run)


CORR = {"fused": lambda a, b: ops.correlation(a, b, 4, normalize=False),
        "reference": lambda a, b: ref.correlation_ref(a, b, 4, normalize=False)}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("backward", [False, True], ids=["forward", "forward+backward"])
@pytest.mark.parametrize("impl", list(CORR))
def test_correlation(benchmark, impl, backward, device):
    benchmark.group = f"correlation B4 C32 64x64 d4 {'forward+backward' if backward else 'forward'} {device}"
    gen = torch.Generator().manual_seed(0)
    f1, f2 = (torch.randn(4, 32, 64, 64, generator=gen).to(device).requires_grad_(backward) for _ in range(2))
    grad = torch.randn(4, 81, 64, 64, generator=gen).to(device)

    def step():
        out = CORR[impl](f1, f2)
        if backward:
            torch.autograd.grad(out, (f1, f2), grad)
        return out
    run_bench(benchmark, impl, step, device)


WARP = {"fused": ops.warp_blend, "grid_sample-reference": ref.warp_blend_ref}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("impl", list(WARP))
def test_warp_blend(benchmark, impl, device):
    benchmark.group = f"warp_blend 1280x720 n5 {device}"
    b, n, hp, wp = 1, 5, 736, 1280
    gen = torch.Generator().manual_seed(0)
    packed = (torch.rand(b, 6, hp, wp, generator=gen) * 2 - 1).to(device)
    flows = [(torch.randn(b, n, 2, hp, wp, generator=gen) * 8).to(device) for _ in range(2)]
    mask = torch.rand(b, n, 1, hp, wp, generator=gen).to(device)
    res = (torch.rand(b, n, 3, hp, wp, generator=gen) * 0.2 - 0.1).to(device)
    args = (packed[:, :3], packed[:, 3:], *flows, mask, res, 720, 1280)
    out = run_bench(benchmark, impl, lambda: WARP[impl](*args), device)
    if benchmark.stats is not None:  # None when benchmarks are disabled (plain `pytest`)
        benchmark.extra_info["Mpix/s"] = round(out[..., 0].numel() / benchmark.stats.stats.median / 1e6, 1)
