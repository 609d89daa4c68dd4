"""Image quality metrics in torch, per image, and the linear crossfade baseline.

Images are float tensors [B, C, H, W] with values in [0, data_range]; frame stacks [B, 3n, H, W]
work as they are (both metrics average over channels, so over frames too). Use :func:`to_unit`
for generator outputs in [-1, 1].
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F


def to_unit(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1], clamped, float32."""
    return ((x.float() + 1.0) * 0.5).clamp(0.0, 1.0)


def psnr(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image: [B, C, H, W] x2 -> [B] (capped at 100 dB)."""
    mse = (x.float() - y.float()).pow(2).flatten(1).mean(1)
    return 10.0 * torch.log10(data_range ** 2 / mse.clamp_min(1e-10))


def _gaussian_window(size: int, sigma: float, device, dtype) -> torch.Tensor:
    coords = torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-coords.pow(2) / (2 * sigma ** 2))
    return g / g.sum()


def ssim(x: torch.Tensor, y: torch.Tensor, data_range: float = 1.0, window: int = 11,
         sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03) -> torch.Tensor:
    """Structural similarity (Wang et al. 2004) per image: [B, C, H, W] x2 -> [B].

    Gaussian window 11 / sigma 1.5, computed per channel over the valid region (no padding) and
    averaged, as ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
    use_sample_covariance=False, channel_axis=...)``. The window shrinks for images smaller than it.
    """
    x, y = x.float(), y.float()
    b, c, h, w = x.shape
    window = min(window, h, w)
    window -= 1 - window % 2  # odd
    g = _gaussian_window(window, sigma, x.device, x.dtype)
    gy = g.reshape(1, 1, window, 1).expand(c, 1, window, 1)
    gx = g.reshape(1, 1, 1, window).expand(c, 1, 1, window)

    def blur(t: torch.Tensor) -> torch.Tensor:  # separable Gaussian, depthwise, valid region
        return F.conv2d(F.conv2d(t, gy, groups=c), gx, groups=c)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x ** 2
    var_y = blur(y * y) - mu_y ** 2
    cov = blur(x * y) - mu_x * mu_y
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    s = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    return s.flatten(1).mean(1)


def crossfade_weights(input_times: Sequence[float], target_times: Sequence[float]) -> torch.Tensor:
    """[n_out, n_in] weights of the linear crossfade: each target time is blended from the two input
    frames around it (``(1-a)*A + a*B``), or copies the nearest input outside their time range."""
    order = sorted(range(len(input_times)), key=lambda i: input_times[i])
    weights = torch.zeros(len(target_times), len(input_times))
    for k, t in enumerate(target_times):
        if t <= input_times[order[0]]:
            weights[k, order[0]] = 1.0
        elif t >= input_times[order[-1]]:
            weights[k, order[-1]] = 1.0
        else:
            j = next(j for j in range(1, len(order)) if input_times[order[j]] >= t)
            a, b = order[j - 1], order[j]
            alpha = (t - input_times[a]) / (input_times[b] - input_times[a])
            weights[k, a], weights[k, b] = 1.0 - alpha, alpha
    return weights


def crossfade(inputs: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Input frames [B, 3*n_in, H, W] -> crossfaded targets [B, 3*n_out, H, W] (``weights`` [n_out, n_in])."""
    b, _, h, w = inputs.shape
    n_out, n_in = weights.shape
    frames = inputs.reshape(b, n_in, 3, h, w)
    out = torch.einsum("oi,bichw->bochw", weights.to(inputs.device, inputs.dtype), frames)
    return out.reshape(b, 3 * n_out, h, w)
