"""The fused strip op against the eager reference pipeline and against torch's own u8->f32 copy.

Cases (B=16, F=7, the seed layout, random crops and flips):
  crop:        132x132 tiles, 128 px crops           (strips already at load size, as the seed stored them)
  resize+crop: 256x256 tiles resized to 286, 256 px crops (pix2pix's 286 -> 256 jitter)
The floor is `out.copy_(u8)` over as many elements as the fused op writes (both outputs), into a
preallocated float32 tensor; "fused-out" writes into preallocated outputs too (preprocess_strips_into),
"fused" allocates them (for 88 MB of outputs, a fresh mmap whose page faults cost more than the copy). GB/s counts bytes read + written: for the fused op the strip tensor
plus both outputs, for the copy its uint8 source plus its float32 destination.
"""
import pytest
import torch

from pyframegan import ops
from pyframegan import reference as ref
from devices import DEVICES

CASES = {"crop-132-128": (132, None, 128), "resize-256-286-256": (256, 286, 256)}
B, F = 16, 7


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def setup_case(case, device):
    tile, load, size = CASES[case]
    gen = torch.Generator().manual_seed(0)
    strips = torch.randint(0, 256, (B, tile, F * tile, 3), dtype=torch.uint8, generator=gen).to(device)
    offsets, flip = ops.random_crops(B, (tile, tile), size, load, generator=gen, device=device)
    return strips, dict(size=size, load_size=load, offsets=offsets, flip=flip)


def gbps(benchmark, nbytes):
    if benchmark.stats is not None:  # None when benchmarks are disabled (plain `pytest`)
        benchmark.extra_info["GB/s"] = round(nbytes / benchmark.stats.stats.median / 1e9, 2)


IMPLS = {"fused": ops.preprocess_strips, "fused-out": ops.preprocess_strips, "eager-reference": ref.preprocess_strips_ref}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("impl", list(IMPLS))
def test_preprocess(benchmark, impl, case, device):
    """The fused op (allocating its outputs, and into preallocated outputs as the floor does) and the
    eager reference producing the same tensors."""
    benchmark.group = f"preprocess_strips {case} {device}"
    strips, kw = setup_case(case, device)
    if impl == "fused-out":
        kw["out"] = tuple(t.clone() for t in ops.preprocess_strips(strips, **kw))

    def run():
        out = IMPLS[impl](strips, **kw)
        sync(device)
        return out
    if impl.startswith("fused"):
        inp, tgt = benchmark(run)
    else:  # slow: few rounds
        inp, tgt = benchmark.pedantic(run, rounds=5, iterations=1, warmup_rounds=1)
    gbps(benchmark, strips.numel() + 4 * (inp.numel() + tgt.numel()))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", list(CASES))
def test_copy_floor(benchmark, case, device):
    """torch's contiguous uint8 -> float32 conversion of as many elements as the fused op writes."""
    benchmark.group = f"preprocess_strips {case} {device}"
    _, _, size = CASES[case]
    n = B * 3 * F * size * size
    src = torch.randint(0, 256, (n,), dtype=torch.uint8).to(device)
    out = torch.empty(n, dtype=torch.float32, device=device)

    def run():
        out.copy_(src)
        sync(device)
    benchmark(run)
    gbps(benchmark, 5 * n)
