"""The backward warp of the Python side, and the linear-motion formula: one definition each.

Pixel convention (as the fused ``warp_blend`` op and OpenCV's ``remap``): pixel (x, y) of the output
is the input sampled bilinearly at (x + flow_x, y + flow_y), pixel centres at integer coordinates,
borders replicated."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def backward_warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """``image`` [N, C, H, W] sampled at (x + flow_x, y + flow_y), ``flow`` [N, 2, H, W] in pixels
    (grid_sample, bilinear, border padding, align_corners=True)."""
    n, _, h, w = flow.shape
    ys = torch.linspace(-1.0, 1.0, h, device=flow.device, dtype=flow.dtype).view(1, h, 1).expand(n, h, w)
    xs = torch.linspace(-1.0, 1.0, w, device=flow.device, dtype=flow.dtype).view(1, 1, w).expand(n, h, w)
    gx = xs + flow[:, 0] * (2.0 / max(w - 1, 1))
    gy = ys + flow[:, 1] * (2.0 / max(h - 1, 1))
    grid = torch.stack([gx, gy], dim=3).to(image.dtype)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=True)


def linear_motion_flows(f01, f10, t):
    """The flows from time ``t`` to the two inputs, (F_t0, F_t1), from F01 and F10 by the
    linear-motion formula (Super SloMo, Jiang et al. 2018, eq. 4):
    F_t0 = -(1-t)·t·F01 + t²·F10,  F_t1 = (1-t)²·F01 - t·(1-t)·F10.
    Plain arithmetic: numpy arrays and tensors alike, ``t`` a number or anything that broadcasts."""
    return -(1 - t) * t * f01 + t * t * f10, (1 - t) * (1 - t) * f01 - t * (1 - t) * f10
