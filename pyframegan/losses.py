"""Training losses beyond pix2pix's L1 (all means over the batch, on [B, 3n, H, W] frame stacks in
[-1, 1] unless said otherwise).

- :func:`charbonnier`: sqrt((x - y)² + eps²), a differentiable L1 that does not over-smooth
  (PWC-Net, RIFE).
- :func:`census`: the soft ternary census distance of 7x7 neighbourhoods (UnFlow, Meister et al.
  2018): compares local structure, not brightness, so it rewards sharp, well-placed edges and
  ignores small colour shifts.
- :func:`log_mse`: the mean over frames of log10 of each frame's MSE, i.e. minus the mean per-frame
  PSNR / 10 up to a constant: the evaluation's metric, which weighs an easy frame's gain as much as
  a hard one's (pooled MSE, L1 and Charbonnier are dominated by the hard frames).
- :func:`flow_error`: the visibility-masked end-point error of a predicted flow against the exact
  flow of synthetic motion, the predicted flow at a lower resolution than the truth.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def charbonnier(x: torch.Tensor, y: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    return torch.sqrt((x - y) ** 2 + eps * eps).mean()


def log_mse(x: torch.Tensor, y: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """mean over the frames of log10(MSE + eps), each frame's MSE over its pixels and channels in
    [0, 1] units (so -10x is the mean PSNR, capped at 50 dB by ``eps``)."""
    b, c, h, w = x.shape
    mse = (((x - y) * 0.5) ** 2).reshape(b * (c // 3), -1).mean(1)
    return torch.log10(mse + eps).mean()


def _gray(frames: torch.Tensor) -> torch.Tensor:
    """[B, 3n, H, W] -> [B*n, 1, H, W] luma in [0, 255]."""
    b, c, h, w = frames.shape
    rgb = (frames.reshape(b * (c // 3), 3, h, w) + 1) * 127.5
    return (0.299 * rgb[:, 0:1] + 0.587 * rgb[:, 1:2] + 0.114 * rgb[:, 2:3])


def _ternary(diff: torch.Tensor) -> torch.Tensor:
    """Soft ternary transform of neighbour-minus-centre differences."""
    return diff / torch.sqrt(0.81 + diff * diff)


def census(x: torch.Tensor, y: torch.Tensor, patch: int = 7) -> torch.Tensor:
    """Mean over pixels of the soft Hamming distance sum_k d_k²/(0.1 + d_k²) between the ternary
    transforms of x and y over the ``patch``² - 1 neighbours k (pixels within patch//2 of the
    border left out). One neighbour offset at a time: no [N, patch², H*W] tensors; y's transform
    (the target) carries no gradient."""
    gx, gy = _gray(x), _gray(y)
    r = patch // 2
    h, w = x.shape[2], x.shape[3]
    if h <= 2 * r or w <= 2 * r:
        raise ValueError(f"census needs frames larger than {2 * r}x{2 * r}, got {h}x{w}")
    cx, cy = gx[:, :, r:h - r, r:w - r], gy[:, :, r:h - r, r:w - r]
    total = torch.zeros_like(cx)
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if dy == 0 and dx == 0:
                continue
            with torch.no_grad():
                ty = _ternary(gy[:, :, r + dy:h - r + dy, r + dx:w - r + dx] - cy)
            d = _ternary(gx[:, :, r + dy:h - r + dy, r + dx:w - r + dx] - cx) - ty
            total = total + d * d / (0.1 + d * d)
    return total.mean()


def downsample_flow(flow: torch.Tensor, size: list[int]) -> torch.Tensor:
    """A full-resolution flow [N, 2, H, W] area-averaged to ``size``, its vectors scaled with it."""
    scale = torch.tensor([size[1] / flow.shape[3], size[0] / flow.shape[2]], device=flow.device,
                         dtype=flow.dtype)
    return F.adaptive_avg_pool2d(flow, size) * scale.view(1, 2, 1, 1)


def flow_error(pred: torch.Tensor, true: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """Mean end-point error, in full-resolution pixels, of ``pred`` [N, 2, h, w] (pixels of its own
    resolution) against ``true`` [N, 2, H, W] where ``visible`` [N, 1, H, W] (weights in [0, 1];
    occluded pixels have no true correspondence). Compared at the predicted flow's resolution,
    with the truth area-averaged down; pixels count by their mean visibility there."""
    size = [pred.shape[2], pred.shape[3]]
    true_small = downsample_flow(true, size)
    weight = F.adaptive_avg_pool2d(visible, size)
    scale = true.shape[3] / pred.shape[3]
    epe = torch.sqrt(((pred - true_small) ** 2).sum(1, keepdim=True) + 1e-6) * scale
    return (epe * weight).sum() / weight.sum().clamp_min(1.0)
