"""Fused frame-strip ops: thin Python wrappers over the C++ ops registered as ``torch.ops.pyframegan.*``.

The exact contracts, as plain torch code, are in :mod:`pyframegan.reference`.
"""
from __future__ import annotations

from typing import Sequence

import torch

from pyframegan import _ext

_ext.load()  # registers torch.ops.pyframegan.* (clear ImportError when the extension is missing)

SEED_INPUTS = (5, 6)          # seed layout: tiles "1 2 3 4 5 | 0 6"
SEED_TARGETS = (0, 1, 2, 3, 4)


def preprocess_strips(strips: torch.Tensor, frames: int = 7, inputs: Sequence[int] = SEED_INPUTS,
                      targets: Sequence[int] = SEED_TARGETS, size: int = 128, load_size: int | None = None,
                      offsets: torch.Tensor | None = None, flip: torch.Tensor | None = None,
                      dtype: torch.dtype | None = None,
                      out: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 strips [B, H, F*W, 3] -> (inputs [B, 3*len(inputs), S, S], targets [B, 3*len(targets), S, S]).

    One kernel: tile selection, optional bilinear resize of each tile to ``load_size``², crop of
    ``size``² at ``offsets`` ((y, x) per strip; centre when None), optional left-right ``flip``
    per strip, ``x / 127.5 - 1`` and conversion to ``dtype`` (default float32), written
    NCHW-contiguous. ``out=(inp, tgt)``: write into these preallocated contiguous tensors instead
    (their dtype is the output dtype; reuse them across steps to skip the allocation).
    """
    args = (strips, frames, list(inputs), list(targets), size, load_size, offsets, flip)
    if out is None:
        return torch.ops.pyframegan.preprocess_strips(*args, dtype or torch.float32)
    if dtype is not None and any(t.dtype != dtype for t in out):
        raise ValueError(f"dtype={dtype} but out has dtypes {out[0].dtype}, {out[1].dtype}")
    torch.ops.pyframegan.preprocess_strips_into(*args, out[0], out[1])
    return out


def pack_pairs(pairs: torch.Tensor, multiple: int = 1, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """uint8 frame pairs [B, 2, H, W, 3] -> normalised [B, 6, Hp, Wp], replicate-padded (bottom/right)
    so that Hp and Wp are multiples of ``multiple``."""
    return torch.ops.pyframegan.pack_pairs(pairs, multiple, dtype)


def unpack_frames(out: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Generator output [B, 3n, Hp, Wp] in [-1, 1] -> uint8 frames [B, n, height, width, 3]
    (rounded half to even, clamped, padding cropped)."""
    return torch.ops.pyframegan.unpack_frames(out, height, width)


def random_crops(batch: int, tile_hw: tuple[int, int], size: int, load_size: int | None = None,
                 flip: bool = True, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Draw crop offsets [batch, 2] (int64) and flips [batch] (bool) for :func:`preprocess_strips`.

    Drawn on the CPU from ``generator`` (reproducible from a seed), then moved to ``device``.
    """
    h, w = (load_size, load_size) if load_size is not None else tile_hw
    if size > h or size > w:
        raise ValueError(f"crop size {size} is larger than the tile ({h}x{w})")
    ys = torch.randint(0, h - size + 1, (batch,), generator=generator)
    xs = torch.randint(0, w - size + 1, (batch,), generator=generator)
    flips = (torch.rand(batch, generator=generator) < 0.5) if flip else torch.zeros(batch, dtype=torch.bool)
    return torch.stack([ys, xs], 1).to(device), flips.to(device)


# --- shapes for FakeTensor / torch.compile --------------------------------------------------------
@torch.library.register_fake("pyframegan::preprocess_strips")
def _(strips, frames, inputs, targets, size, load_size, offsets, flip, dtype):
    b = strips.shape[0]
    return (strips.new_empty((b, 3 * len(inputs), size, size), dtype=dtype),
            strips.new_empty((b, 3 * len(targets), size, size), dtype=dtype))


@torch.library.register_fake("pyframegan::preprocess_strips_into")
def _(strips, frames, inputs, targets, size, load_size, offsets, flip, inp, tgt):
    return None


@torch.library.register_fake("pyframegan::pack_pairs")
def _(pairs, multiple, dtype):
    b, _, h, w, _ = pairs.shape
    return pairs.new_empty((b, 6, -(-h // multiple) * multiple, -(-w // multiple) * multiple), dtype=dtype)


@torch.library.register_fake("pyframegan::unpack_frames")
def _(out, height, width):
    return out.new_empty((out.shape[0], out.shape[1] // 3, height, width, 3), dtype=torch.uint8)
