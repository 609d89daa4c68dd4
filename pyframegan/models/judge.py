"""The hybrid generator's learned judgement: where to trust which warp, and where to fall back.

DIS gives the motion; the linear-motion warp gives two candidates for each in-between frame (frame
0 warped to t, frame 1 warped to t), blended by time (m = 1 - t), and the crossfade fallback moves
the result toward the crossfade of the inputs by alpha where the two warps disagree (a rule, not
learned: :func:`pyframegan.models.hybrid.fallback_weight`). Both choices are blind where it matters:
at an occlusion one warp is right and the other is not, and a rule cannot tell which, nor whether
the disagreement is a wrong flow (fall back) or an uncovered background (trust one side).

The judge is a small convolutional network at 1/``scale`` (8) of the frames' resolution that looks
at the pair and, for each trained time, at both inputs warped there, their disagreement, the prior
flows and the forward-backward inconsistency of the DIS flows carried to t (where a flow is not
undone by the other direction, that side is occluded), and predicts per time two corrections:
a blend-mask logit (m = sigmoid(log((1-t)/t) + dm)) and a fallback offset (alpha' = clamp(alpha + da,
0, 1)), both added at the fallback's 4x4 blocks and then upsampled bilinearly to the frames'. With ``pooled`` it also sees every feature's
mean over the whole frame (the window's difficulty: how much of it moves, how far the flows fail),
to tell a window where the warps are worth little anywhere from one with a local fault (measured:
it validated below the judge without them; docs/results.md, judge7). Its head starts at zero: an
untrained judge *is* the model without it, and training (``pyframegan.training.judge``) starts
exactly there. It changes no flow, so it cannot move anything the warps did not already put there.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from pyframegan.models.flow import at_times, head, motion, resize, resize_flow
from pyframegan.warp import backward_warp

JUDGE_SCALE = 8  # the network's resolution divisor
PAIR_CHANNELS = 13  # the two frames (6), F01 and F10 (4), the inputs' difference (1), both inconsistencies (2)
TIME_CHANNELS = 13  # per time: both warps (6), F_t0 and F_t1 (4), their disagreement (1), inconsistencies at t (2)
JUDGE_OUT = 2  # per time: blend-mask logit, fallback offset (and with ``flows``: corrections to F_t0 and F_t1, 4)


def block(c_in: int, c_out: int, dilation: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, 1, dilation, dilation), nn.LeakyReLU(0.1))


def inconsistency(flow: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """|flow + other(x + flow)| [N, 1, h, w] in pixels: how far the other direction's flow fails to
    undo ``flow`` (large where the pixel is occluded in the other frame, or DIS is wrong)."""
    d = flow + backward_warp(other, flow)
    return torch.sqrt((d * d).sum(1, keepdim=True))


class Judge(nn.Module):
    """The learned blend mask and fallback offsets (module doc); ``width`` filters, 4 dilated layers."""

    def __init__(self, n_out: int, width: int = 32, scale: int = JUDGE_SCALE, flows: bool = False,
                 pooled: bool = False):
        super().__init__()
        self.n_out, self.scale, self.pooled = n_out, scale, pooled
        # TorchScript reads no globals
        self.time_channels, self.out_channels = TIME_CHANNELS, JUDGE_OUT + (4 if flows else 0)
        features = (PAIR_CHANNELS + TIME_CHANNELS * n_out) * (2 if pooled else 1)
        self.net = nn.Sequential(block(features, width, 1), block(width, width, 2),
                                 block(width, width, 4), block(width, width, 1))
        self.out = head(width, self.out_channels * n_out)

    def forward(self, x: torch.Tensor, flow: torch.Tensor, trained: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """[b*k, 2, h', w'] (pair-major, at 1/scale): dm and da for the k ``times`` [k] of the pairs ``x``
        [b, >=6, H, W] in [-1, 1] with the DIS flows ``flow`` ([F01; F10], or with context the 4b flows
        of :func:`motion`): the network's outputs at its n ``trained`` times [n], interpolated
        linearly in t to ``times``."""
        b, h, w = x.shape[0], x.shape[2], x.shape[3]
        n = trained.numel()
        q = [max(1, (h + self.scale - 1) // self.scale), max(1, (w + self.scale - 1) // self.scale)]
        xf = x[:, :6].float()
        i0, i1 = resize(xf[:, :3], q), resize(xf[:, 3:6], q)
        fq = resize_flow(flow.float(), q)
        f01, f10 = fq[:b], fq[b:2 * b]
        o0, o1 = inconsistency(f01, f10), inconsistency(f10, f01)
        t0, t1 = motion(fq, trained.to(fq.dtype).view(1, n, 1, 1, 1), b)
        w0 = backward_warp(torch.cat([i0, o0], 1).repeat_interleave(n, 0), t0)
        w1 = backward_warp(torch.cat([i1, o1], 1).repeat_interleave(n, 0), t1)
        dw = (w0[:, :3] - w1[:, :3]).abs().mean(1, keepdim=True)
        per_time = torch.cat([w0[:, :3], w1[:, :3], t0, t1, dw, w0[:, 3:], w1[:, 3:]], 1)
        z = torch.cat([i0, i1, f01, f10, (i0 - i1).abs().mean(1, keepdim=True), o0, o1,
                       per_time.reshape(b, n * self.time_channels, q[0], q[1])], 1)
        if self.pooled:  # and each feature's mean over the frame
            z = torch.cat([z, z.mean([2, 3], keepdim=True).expand(z.shape)], 1)
        # features in float32; the convolutions in their own dtype (the engine may run the model in fp16 / bf16)
        out = self.out(self.net(z.to(self.out.weight.dtype))).float().reshape(b * n, self.out_channels, q[0], q[1])
        if times.numel() == n and bool(torch.equal(times.to(trained.device, trained.dtype), trained)):
            return out
        return at_times(out, trained, times.to(out.device))


def judged_flows(ft0: torch.Tensor, ft1: torch.Tensor, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """F_t0, F_t1 [N, 2, h, w] with the judge's flow corrections (channels 2-5 of its output ``out``
    [N, C, h', w'], if it makes any), upsampled bilinearly and scaled to full-resolution pixels."""
    if out.shape[1] == 2:  # mask and alpha only (JUDGE_OUT: TorchScript reads no globals)
        return ft0, ft1
    n, h, w = out.shape[0], ft0.shape[2], ft0.shape[3]
    up = resize_flow(out[:, 2:6].reshape(2 * n, 2, out.shape[2], out.shape[3]), [h, w]).reshape(n, 4, h, w)
    return ft0 + up[:, 0:2], ft1 + up[:, 2:4]


def judged(mask_logit: torch.Tensor, alpha: torch.Tensor, out: Optional[torch.Tensor], h: int,
           w: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(mask, alpha) [N, 1, h, w] from the prior mask logit (log((1-t)/t), [N, 1, 1, 1] or per pixel),
    the rule's fallback alpha at the resolution of its 4x4 blocks [N, 1, h', w'] and the judge's output
    ``out`` [N, C, h'', w''] (None: no judge). The judge's corrections are added, and alpha clamped to
    [0, 1], at the blocks' resolution; both are then upsampled bilinearly to h x w at once (a zero
    correction upsamples to exactly zero: an untrained judge is the model without it, bit for bit)."""
    if out is None:
        return torch.sigmoid(mask_logit), resize(alpha, [h, w])
    up = resize(out[:, 0:2], [alpha.shape[2], alpha.shape[3]])
    both = resize(torch.cat([up[:, 0:1], (alpha + up[:, 1:2]).clamp(0.0, 1.0)], 1), [h, w])
    return torch.sigmoid(mask_logit + both[:, 0:1]), both[:, 1:2]
