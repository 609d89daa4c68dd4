"""What a flow or hybrid generator hands the engine's fused post-op (``pyframegan.ops.warp_blend``):
one named tuple, read by the C++ engine as ``pyframegan::Components`` (csrc/engine/interpolator.h)."""
from __future__ import annotations

from typing import NamedTuple, Optional

import torch


class Components(NamedTuple):
    """For b pairs and k times: the frames are v = mask·warp(I0, flow_t0) + (1 - mask)·warp(I1, flow_t1)
    + residual, and with the crossfade fallback v + fallback·(lerp(I0, I1, t) - v), t = times[k]."""
    flow_t0: torch.Tensor   # [b, k, 2, h, w], pixels
    flow_t1: torch.Tensor   # [b, k, 2, h, w]
    mask: torch.Tensor      # [b, k, 1, h, w], the weight of warped I0
    residual: torch.Tensor  # [b, k, 3, h, w]
    fallback: Optional[torch.Tensor]  # [b, k, 1, h, w]: the crossfade's weight alpha, or None
    times: Optional[torch.Tensor]     # [k] float32: the frames' times (with the fallback), or None
