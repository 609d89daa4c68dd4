"""The CPU's 8-pixel (AVX2) row paths give the same bits as the per-pixel kernels: every op that has
one, run here and in a process with PYFRAMEGAN_NO_SIMD=1 (csrc/ops/cpu/simd.h), on the same inputs."""
import os
import subprocess
import sys

import numpy as np
import torch

CASES = r'''
import sys, numpy as np, torch
from pyframegan import ops
torch.manual_seed(0)
out = {}
for k, (h, w) in enumerate([(96, 128), (61, 83)]):
    a = torch.randint(0, 256, (2, h + 8, w + 8, 3), dtype=torch.uint8)
    a = torch.nn.functional.avg_pool2d(a.permute(0, 3, 1, 2).float(), 5, 1, 2).permute(0, 2, 3, 1).byte()
    first, second = a[:, 4:h + 4, 4:w + 4].contiguous(), a[:, 1:h + 1, 6:w + 6].contiguous()
    for preset in ("ultrafast", "medium"):
        out[f"dis-{k}-{preset}"] = ops.dis_flow(first, second, preset).numpy()
        out[f"dis1-{k}-{preset}"] = ops.dis_flow(first[0], second[0], preset).numpy()
    i0, i1 = torch.rand(2, 3, h, w) * 2 - 1, torch.rand(2, 3, h, w) * 2 - 1
    f0, f1 = torch.randn(2, 3, 2, h, w) * 6, torch.randn(2, 3, 2, h, w) * 6
    f0[0, 0, 0, 3, 5] = float("nan")
    mask, alpha = torch.rand(2, 3, 1, h, w), torch.rand(2, 3, 1, h, w)
    per_time = mask[:, :, :, :1, :1].expand_as(mask)
    out[f"blend-{k}"] = ops.warp_blend(i0, i1, f0, f1, mask, None, h, w, alpha, torch.rand(3)).numpy()
    out[f"blend-bcast-{k}"] = ops.warp_blend(i0, i1, f0, f1, per_time, None, h - 1, w - 3).numpy()
    out[f"disagreement-{k}"] = ops.warp_disagreement(i0, i1, f0, f1).numpy()
    strips = torch.randint(0, 256, (4, 64, 7 * 64, 3), dtype=torch.uint8)
    for size, load in ((48, None), (32, 56), (64, 80)):  # crops; resized down and up
        x, y = ops.preprocess_strips(strips, size=size, load_size=load)
        out[f"strips-{k}-{size}"] = np.concatenate([x.numpy().ravel(), y.numpy().ravel()])
np.savez(sys.argv[1], **out)
'''


def run(path, no_simd):
    env = dict(os.environ)
    env.pop("PYFRAMEGAN_NO_SIMD", None)
    if no_simd:
        env["PYFRAMEGAN_NO_SIMD"] = "1"
    subprocess.run([sys.executable, "-c", CASES, str(path)], check=True, env=env, timeout=300)
    return np.load(path)


def test_the_row_paths_give_the_per_pixel_kernels_bits(tmp_path):
    simd, plain = run(tmp_path / "simd.npz", False), run(tmp_path / "plain.npz", True)
    assert sorted(simd.files) == sorted(plain.files)
    for name in simd.files:
        assert np.array_equal(simd[name], plain[name], equal_nan=True), name
