"""Validation against the crossfade (and, for the hybrid generator, DIS) and sample pictures."""
from __future__ import annotations

import numpy as np
import torch

from pyframegan import metrics
from pyframegan.ops import unpack_frames
from pyframegan.training.batches import StripData
from pyframegan.training.gan import Pix2Pix


def to_frames_u8(x: torch.Tensor) -> torch.Tensor:
    """[B, 3n, S, S] in [-1, 1] -> uint8 [B, n, S, S, 3] (as the video path writes them)."""
    return unpack_frames(x.float().contiguous(), x.shape[-2], x.shape[-1])


def to_unit_stack(x: torch.Tensor) -> torch.Tensor:
    """[B, 3n, S, S] in [-1, 1] -> quantised to 8 bits, float in [0, 1], same layout."""
    u8 = to_frames_u8(x)
    b, n, h, w, _ = u8.shape
    return u8.permute(0, 1, 4, 2, 3).reshape(b, 3 * n, h, w).float() / 255.0


@torch.no_grad()
def validate(model: Pix2Pix, data: StripData, strips: torch.Tensor, batch: int = 8) -> dict[str, float]:
    """Mean PSNR / SSIM / L1 of G's frames and of the crossfade of the same inputs (centre crops);
    for the hybrid generator also of its untrained self (DIS with the linear-motion warp)."""
    cfg = data.cfg
    weights = metrics.crossfade_weights([cfg.order[i] for i in cfg.inputs],
                                        [cfg.order[i] for i in cfg.targets])
    sums: dict[str, float] = {}
    for start in range(0, len(strips), batch):
        inp, tgt = data.preprocess(strips[start:start + batch].to(model.device))
        real = to_unit_stack(tgt)
        preds = [("", model.generate(inp)), ("_crossfade", metrics.crossfade(inp, weights))]
        if hasattr(model.g, "prior"):  # the hybrid generator: also its untrained self, DIS
            preds.append(("_dis", model.g.prior(inp)))
        for name, pred in preds:
            pred = to_unit_stack(pred)
            for metric, values in (("psnr", metrics.psnr(pred, real)), ("ssim", metrics.ssim(pred, real)),
                                   ("l1", (pred - real).abs().flatten(1).mean(1))):
                sums[metric + name] = sums.get(metric + name, 0.0) + values.sum().item()
    return {k: v / len(strips) for k, v in sums.items()}


@torch.no_grad()
def sample_picture(model: Pix2Pix, data: StripData, strips: torch.Tensor, gap: int = 6) -> np.ndarray:
    """uint8 [rows*S, W, 3]: per strip, input frames | ground truth frames | generated frames."""
    inp, tgt = data.preprocess(strips.to(model.device))
    groups = [to_frames_u8(t).cpu() for t in (inp, tgt, model.generate(inp))]  # [B, n, S, S, 3]
    b, s = inp.shape[0], inp.shape[-1]
    widths = [g.shape[1] * s for g in groups]
    picture = np.full((b * s + (b - 1) * 2, sum(widths) + gap * (len(groups) - 1), 3), 255, np.uint8)
    x = 0
    for g, width in zip(groups, widths):
        for row in range(b):
            y = row * (s + 2)
            picture[y:y + s, x:x + width] = g[row].permute(1, 0, 2, 3).reshape(s, width, 3).numpy()
        x += width + gap
    return picture
