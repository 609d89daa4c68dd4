"""Training-step throughput of pix2pix unet_128 (strips/s), as `pyframegan train` runs it.

One step = random crops + the fused preprocess of uint8 strips (7 tiles of 132x132, 128 px crops:
the seed's setting) + the D update + the G update (Adam), on the device; mixed precision on CUDA
(`--amp auto`). G: U-Net depth 7, ngf 64 (41.9M parameters); D: PatchGAN 70x70, ndf 64.
Rounds are few so that the CPU cases stay well under a minute on 2 cores.
"""
import pytest
import torch

from pyframegan import ops
from pyframegan import training as train
from devices import DEVICES

TILE, SIZE, FRAMES = 132, 128, 7
ROUNDS = {("cpu", 1): (4, 1), ("cpu", 16): (2, 1)}  # (rounds, warmup rounds); CUDA: (20, 5)


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("batch", [1, 16])
def test_train_step_unet128(benchmark, batch, device):
    cfg = train.TrainConfig(data=["-"], size=SIZE, depth=7, ngf=64, ndf=64, batch_size=batch,
                            steps=10**6, amp="auto")
    train.resolve_layout(cfg)
    torch.manual_seed(0)
    model = train.Pix2Pix(cfg, torch.device(device))
    gen = torch.Generator().manual_seed(0)
    strips = torch.randint(0, 256, (batch, TILE, FRAMES * TILE, 3), dtype=torch.uint8, generator=gen).to(device)

    def step():
        offsets, flips = ops.random_crops(batch, (TILE, TILE), SIZE, generator=gen, device=device)
        inp, tgt = ops.preprocess_strips(strips, size=SIZE, offsets=offsets, flip=flips)
        losses = model.step(inp, tgt)
        sync(device)
        return losses

    rounds, warmup = ROUNDS.get((device, batch), (20, 5))
    benchmark.group = f"train step unet_128 {device}"
    benchmark.name = f"batch {batch}" + (f" amp {model.amp_dtype}" if model.amp_dtype else "")
    losses = benchmark.pedantic(step, rounds=rounds, warmup_rounds=warmup, iterations=1)
    assert all(torch.isfinite(v) for v in losses.values())
    if benchmark.stats is not None:  # None with plain `pytest` (benchmarks disabled)
        benchmark.extra_info["strips/s"] = round(batch / benchmark.stats.stats.median, 2)
