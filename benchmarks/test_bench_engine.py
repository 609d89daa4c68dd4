"""The C++ inference engine against the eager Python pipeline, on a model of the shipped size.

Model: the architecture of the shipped default model (its config read from
pyframegan/weights/default.pt; a U-Net ngf 16 depth 7 if none is shipped), random weights,
exported with export_generator. One call = uint8 CPU frames in, uint8 CPU frames out:
  engine:           pyframegan.Interpolator.run -> pyframegan._C.Interpolator (pack_pairs -> TorchScript
                    generator -> unpack_frames in C++; pinned staging on CUDA)
  eager-reference:  pack_pairs_ref -> nn.Module generator -> unpack_frames_ref (pure torch, Python)
Batch 1; CPU float32, CUDA float16. Rounds are few: 1280x720 takes seconds per call on 2 CPU cores.
"""
import copy

import pytest
import torch

from pyframegan import export
from pyframegan.engine import DEFAULT_MODEL, Interpolator
from pyframegan.models import build_generator
from pyframegan.reference import pack_pairs_ref, unpack_frames_ref
from devices import CUDA

CONFIG = (export.read_metadata(DEFAULT_MODEL)["model"] if DEFAULT_MODEL.is_file()
          else {"arch": "unet", "n_in": 2, "n_out": 5, "ngf": 16, "depth": 7, "norm": "batch"})
SIZES = {"256x256": (256, 256), "512x384": (384, 512), "1280x720": (720, 1280)}  # name: (height, width)
VARIANTS = [pytest.param(("cpu", torch.float32), id="cpu-float32"),
            pytest.param(("cuda", torch.float16), id="cuda-float16", marks=CUDA.marks)]
ROUNDS = {("cpu", "1280x720"): 3}  # (device, size) -> rounds; otherwise 5 on the CPU, 30 on CUDA


@pytest.fixture(scope="module")
def shipped_size_model(tmp_path_factory):
    torch.manual_seed(0)
    g = build_generator(CONFIG, init=False).eval()
    path = tmp_path_factory.mktemp("model") / "generator.pt"
    export.export_generator(g, path)
    return path, g


def make_eager(g, device, dtype):
    g = copy.deepcopy(g).to(device, dtype)  # the fixture's module stays as it is

    @torch.inference_mode()
    def run(a, b):
        pairs = torch.stack([a, b], 1).to(device)
        x = pack_pairs_ref(pairs, g.multiple, dtype)
        return unpack_frames_ref(g(x), a.shape[1], a.shape[2]).cpu()
    return run


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("impl", ["engine", "eager-reference"])
def test_interpolate(benchmark, shipped_size_model, impl, size, variant):
    device, dtype = variant
    path, g = shipped_size_model
    h, w = SIZES[size]
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randint(0, 256, (1, h, w, 3), dtype=torch.uint8, generator=gen) for _ in range(2))
    run = Interpolator(path, device=device, dtype=dtype).run if impl == "engine" else make_eager(g, device, dtype)

    benchmark.group = f"interpolate {size} {device} {str(dtype).replace('torch.', '')}"
    rounds = ROUNDS.get((device, size), 5 if device == "cpu" else 30)
    out = benchmark.pedantic(run, args=(a, b), rounds=rounds, warmup_rounds=3, iterations=1)
    assert out.shape == (1, 5, h, w, 3)
    if benchmark.stats is not None:  # None with plain `pytest` (benchmarks disabled)
        benchmark.extra_info["frames/s"] = round(out.shape[1] / benchmark.stats.stats.median, 2)
