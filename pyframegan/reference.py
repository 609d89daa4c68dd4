"""Pure-torch (eager) references for every fused op in ``pyframegan._C``.

They are independent implementations of the same contracts, built from ordinary torch calls
(reshape, permute, F.interpolate, slicing, flip), and serve as the ground truth in tests and the
baseline in benchmarks. They make intermediate tensors freely; the fused kernels must not.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from pyframegan.layout import SEED


def _tiles(strips: torch.Tensor, frames: int) -> torch.Tensor:
    """uint8 [B, H, F*W, 3] -> float32 [B, F, 3, H, W]."""
    b, h, fw, c = strips.shape
    w = fw // frames
    return strips.reshape(b, h, frames, w, c).permute(0, 2, 4, 1, 3).float()


def preprocess_strips_ref(strips: torch.Tensor, frames: int = 7, inputs: Sequence[int] = SEED.inputs,
                          targets: Sequence[int] = SEED.targets, size: int = 128,
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


def correlation_ref(f1: torch.Tensor, f2: torch.Tensor, max_displacement: int, normalize: bool = True) -> torch.Tensor:
    """[B, C, H, W] x 2 -> [B, (2d+1)^2, H, W]: for each shift (dy, dx), row-major, the channel mean
    of f1 * f2 shifted by (dy, dx) with zeros outside (f2 zero-padded by d, then sliced)."""
    if normalize:
        f1, f2 = F.normalize(f1, dim=1), F.normalize(f2, dim=1)
    d, dtype = max_displacement, f1.dtype
    f1, f2 = (f.to(torch.promote_types(f.dtype, torch.float32)) for f in (f1, f2))
    h, w = f1.shape[-2:]
    f2 = F.pad(f2, (d, d, d, d))
    shifts = [f2[:, :, d + dy:d + dy + h, d + dx:d + dx + w] for dy in range(-d, d + 1) for dx in range(-d, d + 1)]
    return torch.stack([(f1 * s).mean(1) for s in shifts], 1).to(dtype)


def warp_flow_ref(img: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """img [B, C, H, W] warped by each of the backward flows [B, n, 2, H, W] (pixels; dx, dy) with
    grid_sample (bilinear, border padding, align_corners=True) -> float32 [B, n, C, H, W]."""
    b, c, h, w = img.shape
    n = flow.shape[1]
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32, device=img.device),
                            torch.arange(w, dtype=torch.float32, device=img.device), indexing="ij")
    flow = flow.float()
    grid = torch.stack([(xs + flow[:, :, 0]) * (2 / max(w - 1, 1)) - 1,
                        (ys + flow[:, :, 1]) * (2 / max(h - 1, 1)) - 1], -1)
    src = img.float().unsqueeze(1).expand(b, n, c, h, w).reshape(b * n, c, h, w)
    out = F.grid_sample(src, grid.reshape(b * n, h, w, 2), mode="bilinear", padding_mode="border",
                        align_corners=True)
    return out.reshape(b, n, c, h, w)


def warp_blend_ref(i0: torch.Tensor, i1: torch.Tensor, flow_t0: torch.Tensor, flow_t1: torch.Tensor,
                   mask: torch.Tensor, residual: torch.Tensor | None = None, height: int | None = None,
                   width: int | None = None, fallback: torch.Tensor | None = None,
                   times: torch.Tensor | None = None) -> torch.Tensor:
    """mask * warp(i0, flow_t0) + (1 - mask) * warp(i1, flow_t1) + residual, moved toward the
    crossfade by ``fallback`` at ``times`` when given, in float32, then unpack_frames_ref: uint8
    [B, n, height, width, 3]."""
    b, _, hp, wp = i0.shape
    n = flow_t0.shape[1]
    m = mask.float()
    out = m * warp_flow_ref(i0, flow_t0) + (1 - m) * warp_flow_ref(i1, flow_t1)
    if residual is not None:
        out = out + residual.float()
    if fallback is not None and times is not None:
        cross = torch.lerp(i0.float().unsqueeze(1), i1.float().unsqueeze(1), times.float().view(1, n, 1, 1, 1))
        out = out + fallback.float() * (cross - out)
    return unpack_frames_ref(out.reshape(b, 3 * n, hp, wp), hp if height is None else height,
                             wp if width is None else width)


def warp_disagreement_ref(i0: torch.Tensor, i1: torch.Tensor, flow_t0: torch.Tensor,
                          flow_t1: torch.Tensor) -> torch.Tensor:
    """Block means (4 x 4, ceil mode) of the channels' mean |warp(i0, flow_t0) - warp(i1, flow_t1)|:
    [B, n, 1, ceil(Hp / 4), ceil(Wp / 4)]."""
    b, n, _, hp, wp = flow_t0.shape
    d = (warp_flow_ref(i0, flow_t0) - warp_flow_ref(i1, flow_t1)).float().abs()
    d = d.reshape(b * n, 3, hp, wp).mean(1, keepdim=True)
    out = F.avg_pool2d(d, 4, 4, ceil_mode=True)
    return out.reshape(b, n, 1, out.shape[2], out.shape[3])
