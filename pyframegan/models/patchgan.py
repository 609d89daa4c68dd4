"""pix2pix PatchGAN discriminator, conditioned on the input frames.

It sees the input frames concatenated with real or generated target frames
(3*(n_in+n_out) channels) and scores every overlapping patch: one logit per output pixel.
``n_layers=3`` gives the 70x70 receptive field of pix2pix (C64-C128-C256-C512, then a 1-channel
convolution). Same structure as ``NLayerDiscriminator`` in junyanz/pytorch-CycleGAN-and-pix2pix.
"""
from __future__ import annotations

import torch
from torch import nn

from pyframegan.models.unet import norm_layer, uses_bias


class PatchDiscriminator(nn.Module):
    def __init__(self, n_in: int = 2, n_out: int = 5, ndf: int = 64, n_layers: int = 3,
                 norm: str = "batch"):
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"PatchGAN n_layers must be at least 1, got {n_layers}")
        self.config = {"arch": "patchgan", "n_in": n_in, "n_out": n_out, "ndf": ndf,
                       "n_layers": n_layers, "norm": norm}
        self.n_layers = n_layers
        bias = uses_bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(3 * (n_in + n_out), ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        c = ndf
        for i in range(1, n_layers + 1):
            c_next = ndf * min(2 ** i, 8)
            stride = 2 if i < n_layers else 1  # the last feature layer keeps the resolution
            layers += [nn.Conv2d(c, c_next, 4, stride, 1, bias=bias), norm_layer(norm, c_next),
                       nn.LeakyReLU(0.2)]
            c = c_next
        layers.append(nn.Conv2d(c, 1, 4, 1, 1))
        self.model = nn.Sequential(*layers)

    def output_size(self, size: int) -> int:
        """Side of the logit map for a ``size`` x ``size`` input (< 1: the input is too small)."""
        for _ in range(self.n_layers):
            size = size // 2
        return size - 2  # two 4x4 stride-1 convolutions with padding 1

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.model(torch.cat([inputs, targets], 1))
