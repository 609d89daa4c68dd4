"""Pure-torch (eager) references for every fused op in ``pyframegan._C``.

They are independent implementations of the same contracts, built from ordinary torch calls
(reshape, permute, F.interpolate, slicing, flip), and serve as the ground truth in tests and the
baseline in benchmarks. They make intermediate tensors freely; the fused kernels must not.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F


def _tiles(strips: torch.Tensor, frames: int) -> torch.Tensor:
    """uint8 [B, H, F*W, 3] -> float32 [B, F, 3, H, W]."""
    b, h, fw, c = strips.shape
    w = fw // frames
    return strips.reshape(b, h, frames, w, c).permute(0, 2, 4, 1, 3).float()


def preprocess_strips_ref(strips: torch.Tensor, frames: int = 7, inputs: Sequence[int] = (5, 6),
                          targets: Sequence[int] = (0, 1, 2, 3, 4), size: int = 128,
                          load_size: int | None = None, offsets: torch.Tensor | None = None,
                          flip: torch.Tensor | None = None, dtype: torch.dtype = torch.float32):
    tiles = _tiles(strips, frames)
    b, f, c, h, w = tiles.shape
    if load_size is not None:
        tiles = F.interpolate(tiles.reshape(b * f, c, h, w), size=(load_size, load_size),
                              mode="bilinear", align_corners=False).reshape(b, f, c, load_size, load_size)
        h = w = load_size
    if offsets is None:
        offsets = torch.tensor([[(h - size) // 2, (w - size) // 2]] * b)
    crops = []
    for i in range(b):
        y, x = int(offsets[i, 0]), int(offsets[i, 1])
        crop = tiles[i, :, :, y:y + size, x:x + size]
        if flip is not None and bool(flip[i]):
            crop = crop.flip(-1)
        crops.append(crop)
    norm = torch.stack(crops) / 127.5 - 1.0

    def stack(sel):
        return norm[:, list(sel)].reshape(b, 3 * len(sel), size, size).to(dtype).contiguous()

    return stack(inputs), stack(targets)


def pack_pairs_ref(pairs: torch.Tensor, multiple: int = 1, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """uint8 [B, 2, H, W, 3] -> [B, 6, Hp, Wp], replicate-padded at the bottom/right to a multiple."""
    b, n, h, w, c = pairs.shape
    x = pairs.permute(0, 1, 4, 2, 3).reshape(b, n * c, h, w).float() / 127.5 - 1.0
    hp, wp = -(-h // multiple) * multiple, -(-w // multiple) * multiple
    if (hp, wp) != (h, w):
        x = F.pad(x, (0, wp - w, 0, hp - h), mode="replicate")
    return x.to(dtype).contiguous()


def unpack_frames_ref(out: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """[B, 3n, Hp, Wp] in [-1, 1] -> uint8 [B, n, height, width, 3] (rounded, clamped, padding cropped)."""
    b, c, hp, wp = out.shape
    x = out[:, :, :height, :width].float()
    x = (x * 127.5 + 127.5).round().clamp(0, 255).to(torch.uint8)
    return x.reshape(b, c // 3, 3, height, width).permute(0, 1, 3, 4, 2).contiguous()
