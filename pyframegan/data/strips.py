"""Strips: F frames side by side in one uint8 image [H, F*W, 3] — layout, windows, image files.

Seed layout (F = 7): tiles in the order of time ``1 2 3 4 5 | 0 6``. Tile i shows time ``order[i]``;
tiles 0..F-3 are the targets (times 1..F-2), tiles F-2 and F-1 the inputs (times 0 and F-1).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
from PIL import Image

from .scenecut import SceneCutDetector
from ..files import atomic_write
from .decode import load_rgb, open_image, resize_image

from ..layout import seed_layout  # noqa: F401  (the layout, re-exported for the data modules)

STRIP_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
JPEG_QUALITY = 95


# --- layout ---------------------------------------------------------------------------------------
def make_strip(window: Sequence[np.ndarray], frames: int | None = None) -> np.ndarray:
    """Frames in time order (all uint8 [H, W, 3], one size) -> strip [H, F*W, 3] in the seed layout."""
    frames = len(window) if frames is None else frames
    if len(window) != frames:
        raise ValueError(f"a strip of {frames} frames needs {frames} frames, got {len(window)}")
    shapes = {tuple(f.shape) for f in window}
    if len(shapes) != 1:
        raise ValueError(f"frames of one strip must have one shape, got {sorted(shapes)}")
    order, _, _ = seed_layout(frames)
    return np.concatenate([window[t] for t in order], axis=1)


def split_strip(strip: np.ndarray, frames: int = 7) -> list[np.ndarray]:
    """Strip [H, F*W, 3] in the seed layout -> its F tiles (views) in time order."""
    width = _tile_width(strip.shape[1], frames, "strip")
    order, _, _ = seed_layout(frames)
    tiles: list[np.ndarray] = [None] * frames  # type: ignore[list-item]
    for i, t in enumerate(order):
        tiles[t] = strip[:, i * width:(i + 1) * width]
    return tiles


def resize_tiles(strip: np.ndarray, frames: int, size_hw: tuple[int, int]) -> np.ndarray:
    """Resize every tile of a strip to ``size_hw`` (PIL bilinear, uint8); the layout is unchanged."""
    width = _tile_width(strip.shape[1], frames, "strip")
    if (strip.shape[0], width) == tuple(size_hw):
        return strip
    tiles = [strip[:, i * width:(i + 1) * width] for i in range(frames)]  # tile order, not time order
    return np.concatenate([resize_image(np.ascontiguousarray(t), size_hw) for t in tiles], axis=1)


def _tile_width(total_width: int, frames: int, what: str) -> int:
    if total_width % frames:
        raise ValueError(f"{what}: width {total_width} is not divisible by frames={frames} "
                         "(is --frames right?)")
    return total_width // frames


# --- windows of consecutive frames ----------------------------------------------------------------
@dataclass
class WindowStats:
    """What :func:`iter_windows` saw: frames read, windows yielded, windows skipped at cuts, cuts."""
    frames: int = 0
    windows: int = 0
    skipped_at_cuts: int = 0
    cuts: list[int] = field(default_factory=list)


def iter_windows(frames_in: Iterable[np.ndarray], frames: int = 7, step: int = 1,
                 detector: SceneCutDetector | None = None,
                 stats: WindowStats | None = None) -> Iterator[tuple[int, list[np.ndarray]]]:
    """Stream frames; yield ``(start, window)`` for the windows of ``frames`` consecutive frames that
    start every ``step`` frames (0, step, 2*step, ...), skipping those that contain a scene cut.

    Holds only one window in memory. ``stats`` (if given) is filled in as frames are read.
    """
    if step < 1:
        raise ValueError(f"step must be at least 1, got {step}")
    seed_layout(frames)  # validates frames
    detector = detector or SceneCutDetector()
    detector.reset()
    stats = stats if stats is not None else WindowStats()
    window: list[np.ndarray] = []
    shot_start = 0  # first frame of the current shot
    for i, frame in enumerate(frames_in):
        stats.frames = i + 1
        if detector.update(frame):
            shot_start = i
            stats.cuts.append(i)
        window = window[-(frames - 1):] + [frame]
        start = i - frames + 1
        if start < 0 or start % step:
            continue
        if start < shot_start:  # a cut lies inside (start, i]
            stats.skipped_at_cuts += 1
            continue
        stats.windows += 1
        yield start, window


# --- strip image files ----------------------------------------------------------------------------
def _strip_format(path: Path) -> str:
    try:
        return STRIP_FORMATS[path.suffix.lower()]
    except KeyError:
        raise ValueError(f"{path}: strips are .png, .jpg or .jpeg files") from None


def _looks_complete(path: Path, image_format: str) -> bool:
    """Cheap truncation check from the file's tail: a PNG ends with its IEND chunk, a JPEG with the
    EOI marker FF D9 (which cannot occur inside entropy-coded data)."""
    marker = {"PNG": b"IEND", "JPEG": b"\xff\xd9"}.get(image_format)
    if marker is None:
        return True
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - 4096))
        return marker in f.read()


def probe_strip(path: str | os.PathLike, frames: int = 7) -> tuple[int, int]:
    """Check a strip file cheaply (header, tail, width) without decoding it; returns its tile (h, w).

    Raises FileNotFoundError / ValueError naming the file.
    """
    path = Path(path)
    with open_image(path) as image:
        width, height, image_format = image.width, image.height, image.format
    if not _looks_complete(path, image_format):
        raise ValueError(f"{path}: the file is truncated (no end-of-image marker)")
    return height, _tile_width(width, frames, str(path))


def read_strip(path: str | os.PathLike, frames: int = 7) -> np.ndarray:
    """Decode a strip image fully into uint8 [H, F*W, 3]; ValueError naming the file when it is
    unreadable or truncated, or its width is not a multiple of ``frames``."""
    path = Path(path)
    strip = load_rgb(path)
    _tile_width(strip.shape[1], frames, str(path))
    return strip


def write_strip(path: str | os.PathLike, strip: np.ndarray) -> None:
    """Write a uint8 [H, W, 3] strip as PNG or JPEG (quality 95), chosen by the extension.

    Atomic: the image goes to a hidden temporary file in the same folder, then ``os.replace``
    renames it, so readers never see a partial file and a crash leaves the old file (if any).
    """
    path = Path(path)
    image_format = _strip_format(path)
    if strip.dtype != np.uint8 or strip.ndim != 3 or strip.shape[2] != 3:
        raise ValueError(f"{path}: a strip is uint8 [H, W, 3], got {strip.dtype} {tuple(strip.shape)}")
    options = {"quality": JPEG_QUALITY} if image_format == "JPEG" else {}
    atomic_write(path, lambda f: Image.fromarray(strip).save(f, format=image_format, **options), durable=False)
