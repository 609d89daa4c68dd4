"""Training data: strips from strip images and videos, as a torch Dataset of uint8 tensors.

``open_strip_dataset`` checks everything it cheaply can *before* training starts (missing paths,
no strips, widths not divisible by ``frames``, truncated files, mixed tile sizes, videos too short)
and raises FileNotFoundError / ValueError naming the file. Items are uint8 [H, F*W, 3] tensors in
the seed layout; all float work (crop, flip, normalise) happens later on the training device.

Memory: a video source is decoded once into memory (after ``max_side`` / ``tile_size``
resizing), about N * H * W * 3 bytes for N frames; strip images are read per item.
"""
from __future__ import annotations

import bisect
import os
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from .strips import STRIP_FORMATS, WindowStats, iter_windows, make_strip, probe_strip, read_strip, \
    resize_tiles, seed_layout
from .decode import fit_max_side, list_images, read_frames, resize_image

TileSize = int | tuple[int, int]


def _as_hw(tile_size: TileSize | None) -> tuple[int, int] | None:
    if tile_size is None:
        return None
    h, w = (tile_size, tile_size) if isinstance(tile_size, int) else tuple(tile_size)
    if h < 1 or w < 1:
        raise ValueError(f"tile_size must be positive, got {tile_size}")
    return int(h), int(w)


# --- sources: each knows its strips and their order in time ---------------------------------------
# ``timeline()`` returns sequences (lists of (index, start frame or None)) in time order; the
# validation split holds out the end of each sequence.

class _VideoSource:
    """Windows of one video, decoded once into memory."""

    def __init__(self, path: Path, frames: int, step: int, tile_hw: tuple[int, int] | None,
                 max_side: int | None):
        self.name = str(path)
        self.frames = frames
        decoded = read_frames(path, max_side=max_side, drop_duplicates=True)
        if tile_hw is not None:
            decoded = (resize_image(frame, tile_hw) for frame in decoded)
        self._frames: list[np.ndarray] = []
        stats = WindowStats()
        self.starts = [start for start, _ in iter_windows(self._keep(decoded), frames, step, stats=stats)]
        self.stats = stats
        if stats.frames < frames:
            raise ValueError(f"{path}: only {stats.frames} distinct frames, too short for one window "
                             f"of {frames} frames")
        if not self.starts:
            raise ValueError(f"{path}: every window of {frames} frames crosses a scene cut "
                             f"(cuts before frames {stats.cuts})")
        self.tile_hw = self._frames[0].shape[:2]
        self.example = self.name

    def _keep(self, frames: Iterable[np.ndarray]):
        for frame in frames:
            self._frames.append(frame)
            yield frame

    def __len__(self) -> int:
        return len(self.starts)

    def strip(self, index: int) -> np.ndarray:
        start = self.starts[index]
        return make_strip(self._frames[start:start + self.frames], self.frames)

    def timeline(self) -> list[list[tuple[int, int | None]]]:
        return [list(enumerate(self.starts))]


_NUMBERED = re.compile(r"^(.*)_(\d+)$")  # make-strips names: <source-stem>_<start-frame:06d>


class _StripFiles:
    """Strip images: one file, or the strips (*.png, *.jpg, *.jpeg) directly inside a folder."""

    def __init__(self, path: Path, frames: int, tile_hw: tuple[int, int] | None, max_side: int | None):
        self.name = str(path)
        self.frames = frames
        self.paths = list_images(path, STRIP_FORMATS) if path.is_dir() else [path]
        if not self.paths:
            raise ValueError(f"{path}: no strip images (*.png, *.jpg, *.jpeg) in this folder")
        by_size: dict[tuple[int, int], Path] = {}
        for file in self.paths:
            native = probe_strip(file, frames)
            by_size.setdefault(tile_hw or fit_max_side(*native, max_side), file)
        if len(by_size) > 1:
            (hw_a, a), (hw_b, b) = list(by_size.items())[:2]
            raise ValueError(f"strips with different tile sizes: {a} ({hw_a[1]}x{hw_a[0]}) and {b} "
                             f"({hw_b[1]}x{hw_b[0]}); pass --tile-size (tile_size=) to resize all tiles")
        self.tile_hw = next(iter(by_size))
        self.example = str(self.paths[0])

    def __len__(self) -> int:
        return len(self.paths)

    def strip(self, index: int) -> np.ndarray:
        strip = read_strip(self.paths[index], self.frames)
        return resize_tiles(strip, self.frames, self.tile_hw)

    def timeline(self) -> list[list[tuple[int, int | None]]]:
        """Files named ``<stem>_<number>`` form one sequence per stem, ordered by number (their
        start frame); any other files form one sequence in name order, without frame numbers."""
        sequences: dict[str | None, list[tuple[int, int | None]]] = {}
        for index, file in enumerate(self.paths):
            match = _NUMBERED.match(file.stem)
            key, start = (match.group(1), int(match.group(2))) if match else (None, None)
            sequences.setdefault(key, []).append((index, start))
        for sequence in sequences.values():
            sequence.sort(key=lambda entry: -1 if entry[1] is None else entry[1])
        return list(sequences.values())


def _holdout(sequence: list[tuple[int, int | None]], val_fraction: float,
             frames: int) -> tuple[list[int], list[int]]:
    """Split one time-ordered sequence: the last ``val_fraction`` for validation; when start frames
    are known, training keeps only windows that end before the first validation frame."""
    n_val = round(len(sequence) * val_fraction)
    if val_fraction > 0 and len(sequence) >= 2:
        n_val = max(1, n_val)
    if n_val == 0:
        return [index for index, _ in sequence], []
    train, val = sequence[:-n_val], sequence[-n_val:]
    first_val = val[0][1]
    if first_val is not None:
        train = [(index, start) for index, start in train if start + frames <= first_val]
    return [index for index, _ in train], [index for index, _ in val]


# --- the dataset ----------------------------------------------------------------------------------
class StripDataset(Dataset):
    """uint8 strips [H, F*W, 3] (torch tensors) in the seed layout, from one or more sources.

    Attributes: ``frames`` (F), ``tile_hw`` (H, W of one tile), ``inputs`` and ``targets`` (tile
    indices of the seed layout, see :func:`~pyframegan.data.strips.seed_layout`).
    """

    def __init__(self, parts: Sequence[tuple[object, Sequence[int]]], frames: int,
                 tile_hw: tuple[int, int]):
        self.frames = frames
        self.tile_hw = tuple(tile_hw)
        _, self.inputs, self.targets = seed_layout(frames)
        self._parts = [(source, list(indices)) for source, indices in parts if len(indices)]
        self._ends = list(np.cumsum([len(indices) for _, indices in self._parts], dtype=np.int64))

    def __len__(self) -> int:
        return int(self._ends[-1]) if self._ends else 0

    def __getitem__(self, index: int) -> torch.Tensor:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"strip index {index} out of range ({len(self)} strips)")
        part = bisect.bisect_right(self._ends, index)
        source, indices = self._parts[part]
        local = index - (int(self._ends[part - 1]) if part else 0)
        return torch.from_numpy(np.require(source.strip(indices[local]), requirements=["C", "W"]))

    def split(self, val_fraction: float = 0.1) -> tuple["StripDataset", "StripDataset"]:
        """(train, val): the last ``val_fraction`` of each source's strips in time order is held out.

        Videos: the last windows, and training windows that would share a frame with them are
        dropped (a gap). Folders: per ``<stem>_<start>`` sequence (make-strips' names) the strips
        with the largest start numbers, with the same gap; other files by name order.
        """
        if not 0 <= val_fraction < 1:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
        train_parts, val_parts = [], []
        for source, indices in self._parts:
            mine = set(indices)
            train, val = [], []
            for sequence in source.timeline():
                t, v = _holdout([entry for entry in sequence if entry[0] in mine], val_fraction, self.frames)
                train += t
                val += v
            train_parts.append((source, train))
            val_parts.append((source, val))
        train_set = StripDataset(train_parts, self.frames, self.tile_hw)
        val_set = StripDataset(val_parts, self.frames, self.tile_hw)
        if len(train_set) == 0 or (val_fraction > 0 and len(val_set) == 0):
            raise ValueError(f"{len(self)} strips are too few to hold out {val_fraction:.0%} for "
                             f"validation and keep training strips apart from them")
        return train_set, val_set

    def __repr__(self) -> str:
        h, w = self.tile_hw
        names = ", ".join(source.name for source, _ in self._parts)
        return f"StripDataset({len(self)} strips of {self.frames} tiles {w}x{h} from {names})"


def open_strip_dataset(sources: Sequence[str | os.PathLike] | str | os.PathLike, frames: int = 7,
                       step: int = 1, tile_size: TileSize | None = None,
                       max_side: int | None = None) -> StripDataset:
    """Open strip images and videos as one :class:`StripDataset`.

    sources: paths, each a folder of strip images (*.png, *.jpg, *.jpeg, not recursive), one strip
        image, or a video file (decoded once into memory, repeated frames dropped; windows of
        ``frames`` consecutive frames every ``step`` frames, windows crossing a scene cut skipped).
    tile_size: int or (h, w): resize every tile to it (PIL bilinear on uint8; once at load for
        videos, per item for images). Needed when the sources have different tile sizes.
    max_side: scale tiles down so their longer side is at most this (even sizes, aspect kept); for
        videos this happens while decoding.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    if not sources:
        raise ValueError("no sources given")
    seed_layout(frames)  # validates frames
    tile_hw = _as_hw(tile_size)
    opened = []
    for source in map(Path, sources):
        if not source.exists():
            raise FileNotFoundError(f"{source}: no such file or folder")
        is_strips = source.is_dir() or source.suffix.lower() in STRIP_FORMATS
        opened.append(_StripFiles(source, frames, tile_hw, max_side) if is_strips
                      else _VideoSource(source, frames, step, tile_hw, max_side))
    first = opened[0]
    for other in opened[1:]:
        if other.tile_hw != first.tile_hw:
            (ha, wa), (hb, wb) = first.tile_hw, other.tile_hw
            raise ValueError(f"sources with different tile sizes: {first.example} ({wa}x{ha}) and "
                             f"{other.example} ({wb}x{hb}); pass --tile-size (tile_size=) to resize all tiles")
    return StripDataset([(source, range(len(source))) for source in opened], frames, first.tile_hw)


class StripCollate:
    """collate_fn for a DataLoader: a list of uint8 strips [H, F*W, 3] -> one uint8 [B, H, F*W, 3].

    With ``device`` set, the batch is moved there (pinned first when the device is CUDA, then copied
    with ``non_blocking=True``). Only do that with ``num_workers=0``: with DataLoader workers keep
    ``device=None`` (workers must not touch CUDA), pass ``pin_memory=True`` to the DataLoader, and
    move each batch to the device in the main process.
    """

    def __init__(self, device: torch.device | str | None = None):
        self.device = torch.device(device) if device is not None else None

    def __call__(self, batch: Sequence[torch.Tensor]) -> torch.Tensor:
        shapes = {tuple(strip.shape) for strip in batch}
        if len(shapes) != 1:
            raise ValueError(f"strips of one batch must have one shape, got {sorted(shapes)}")
        strips = torch.stack([torch.as_tensor(strip) for strip in batch])
        if self.device is None:
            return strips
        if self.device.type == "cuda":
            strips = strips.pin_memory()
        return strips.to(self.device, non_blocking=True)
