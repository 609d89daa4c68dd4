"""`pyframegan interpolate`: the frames between two images.

Writes ``DIR/frame_0.png`` (= A), ``frame_1.png`` .. ``frame_<n_out>.png`` (the in-between frames,
in time order) and ``frame_<n_out+1>.png`` (= B), and optionally a montage: all of them side by side
in one picture. Every file is written under a temporary name in its folder and renamed when
complete. Grayscale, palette, CMYK and RGBA images are converted to RGB with PIL (an alpha channel
is dropped, not composited).
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np
from PIL import Image

from pyframegan.model_options import add_model_options
from pyframegan.data.decode import load_rgb
from pyframegan.files import atomic_output


def _image_format(path: Path) -> str:
    """PIL's format name for the extension of ``path`` (ValueError for an unknown one)."""
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise ValueError(f"{path}: cannot write images with extension {path.suffix or '(none)'!r}; use .png or .jpg")
    return fmt


def write_image(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write a uint8 RGB image atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    fmt = _image_format(path)
    with atomic_output(path, f".partial{path.suffix}") as tmp:
        Image.fromarray(image).save(tmp, format=fmt)
    return path


def _load(path: Path) -> np.ndarray:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, not an image")
    return load_rgb(path)


def interpolate_images(a: str | os.PathLike, b: str | os.PathLike, output: str | os.PathLike, interpolator=None, *,
                       model: str | os.PathLike | None = None, device=None,
                       montage: str | os.PathLike | None = None, n: int | None = None) -> list[Path]:
    """Write A, the in-between frames and B as ``output/frame_<i>.png``; returns their paths in order.

    interpolator: a :class:`pyframegan.Interpolator`; if None one is made from ``model``/``device``.
    montage: also write this picture (every frame side by side, left to right in time order).
    n: in-between frames (evenly spaced); None: the model's ``n_out``. Any n needs a flow generator.
    """
    a, b, output = Path(a), Path(b), Path(output)
    if montage is not None:
        montage = Path(montage)
        _image_format(montage)
        if not montage.parent.is_dir():
            raise FileNotFoundError(f"{montage.parent}: the folder for the montage does not exist")
    if output.exists() and not output.is_dir():
        raise ValueError(f"{output}: exists and is not a folder")
    first, last = _load(a), _load(b)
    if first.shape != last.shape:
        raise ValueError(f"{a} is {first.shape[1]}x{first.shape[0]} but {b} is {last.shape[1]}x{last.shape[0]}; "
                         "the two images must have the same size")
    if interpolator is None:
        from pyframegan.engine import Interpolator
        interpolator = Interpolator(model, device)
    frames = [first] + interpolator.interpolate(first, last, n=n) + [last]
    output.mkdir(parents=True, exist_ok=True)
    paths = [write_image(output / f"frame_{i}.png", frame) for i, frame in enumerate(frames)]
    if montage is not None:
        write_image(montage, np.concatenate(frames, 1))
    return paths


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("a", metavar="A", help="the first image (png, jpg, ...; grayscale / RGBA / palette "
                                               "images are converted to RGB, alpha dropped)")
    parser.add_argument("b", metavar="B", help="the second image, same size as A")
    parser.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="folder (created) for frame_0.png (= A), frame_1..frame_N.png (the N in-between "
                             "frames) and frame_N+1.png (= B)")
    parser.add_argument("-n", type=int, default=None, metavar="N",
                        help="in-between frames, evenly spaced in time (default: the model's n_out, 5 for the "
                             "default model; any N needs a flow generator, like the default model)")
    add_model_options(parser)
    parser.add_argument("--montage", default=None, metavar="PATH",
                        help="also write all frames side by side (A, in-between..., B) as one picture")


def main(args: argparse.Namespace) -> int:
    paths = interpolate_images(args.a, args.b, args.output, model=args.model, device=args.device,
                               montage=args.montage, n=args.n)
    extra = f" and {args.montage}" if args.montage else ""
    print(f"wrote {len(paths)} frames to {args.output} ({paths[0].name} .. {paths[-1].name}){extra}")
    return 0
