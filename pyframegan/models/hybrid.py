"""Classical precision, learned judgement: a generator built on DIS optical flow.

1. Motion prior: Dense Inverse Search flow (:func:`pyframegan.ops.dis_flow`, OpenCV's ``medium``
   preset by default) both ways, F01 and F10, at full resolution, on the grey frames (OpenCV's
   RGB->GRAY weights). No learning: the flow is as precise as the classical method.
2. Prior in-between flows by the linear-motion formula (Super SloMo): F_t0, F_t1 for each time t.
3. A small pix2pix-style U-Net at 1/``scale`` resolution sees the two frames, the DIS flows, and per
   time t both frames warped to t, their flows and the warps' disagreement, and predicts for every
   t corrections to F_t0 and F_t1, a blend-mask logit, an RGB residual and a confidence logit.
4. Composition at full resolution (the engine's fused ``warp_blend``):
   frame_t = m·warp(I0, F_t0 + up(g·ΔF_t0)) + (1-m)·warp(I1, F_t1 + up(g·ΔF_t1)) + up(g·residual),
   m = sigmoid(log((1-t)/t) + up(g·logit)), g = sigmoid(confidence + ``gate_bias``) (the gate and
   the products at the network's resolution, ``up`` the bilinear upsampling to the frames'): the
   confidence gate starts mostly closed (sigmoid(-2) = 0.12) and the network learns where to open it;
   it is also closed where the two inputs warped to t already agree (mean absolute difference under
   ``AGREEMENT``, ramping up linearly to it): there DIS is right, and a still scene stays exactly still
   (identical inputs give the input back).

5. The crossfade fallback (not learned, ``fallback``; chosen on training clips): where the warps
   disagree about as much as the inputs do, the frame moves toward the crossfade (see
   :func:`fallback_weight` and :meth:`HybridInterpolator.rule_alpha`).
6. The judge (learned, ``judge``; :mod:`pyframegan.models.judge`): a small network at 1/8 resolution
   that corrects, per time, the blend mask and the fallback's alpha (and with ``judge_flows`` the
   flows F_t0, F_t1), from both warps, the prior flows and the DIS flows' forward-backward
   inconsistency. Zero-initialised like the U-Net's heads; trained by :mod:`pyframegan.training.judge`.

The correction, mask and residual heads start at zero, so an untrained model with ``fallback=0``
*is* DIS with the linear-motion warp (the ``dis`` baseline of ``pyframegan evaluate``), and training starts exactly
there. No padding is needed (``multiple`` 1): the U-Net pads its own input and DIS runs on the
frames as they are.
"""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from pyframegan.models.components import Components
from pyframegan.models.judge import JUDGE_SCALE, Judge, judged, judged_flows
from pyframegan.models.flow import (at_times, check_times, conv, head, kaiming_with_zero_heads, motion, resize,
                                    resize_flow, resolve_times)
from pyframegan.warp import backward_warp
from pyframegan.ops import DIS_PRESETS, DISAGREEMENT_BLOCK, dis_flow, dis_params

def warp_error(image: torch.Tensor, flow: torch.Tensor, reference: torch.Tensor,
               block: int = DISAGREEMENT_BLOCK) -> torch.Tensor:
    """[N, 1, 1, 1]: mean absolute difference (over pixels and channels) of ``image`` [N, C, H, W]
    warped by ``flow`` [N, 2, H, W] and ``reference``. The fused warp_disagreement op against the
    reference itself (warped by a zero flow: exact) measures it without making the warped frame; its
    block means are weighted by the pixels each block covers (the last row and column of blocks may
    be partial)."""
    h, w = image.shape[2], image.shape[3]
    flow = flow.float().unsqueeze(1)
    blocks = torch.ops.pyframegan.warp_disagreement(image.float(), reference.float(), flow, torch.zeros_like(flow))
    hb, wb, s = blocks.shape[3], blocks.shape[4], block
    rows = torch.full([hb], float(s), device=blocks.device)
    cols = torch.full([wb], float(s), device=blocks.device)
    rows[hb - 1], cols[wb - 1] = float(h - s * (hb - 1)), float(w - s * (wb - 1))
    return (blocks.flatten(0, 2) * rows.view(1, hb, 1) * cols.view(1, 1, wb)).sum([1, 2]).div(h * w).view(-1, 1, 1, 1)


def same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether two tensors are the same, exactly (shape, device and dtype too)."""
    return a.shape == b.shape and a.device == b.device and a.dtype == b.dtype and bool(torch.equal(a, b))


def kept_flow(kept: list[torch.Tensor], start: torch.Tensor, end: torch.Tensor) -> Optional[torch.Tensor]:
    """The flow from the grey frame ``start`` to ``end`` among those ``kept`` of the last call's last
    pair ([a, b, before, after, F01, F10, F0-, F1+]; :meth:`HybridInterpolator.dis`), if it is one."""
    if len(kept) != 8:
        return None
    for i in [[0, 1, 4], [1, 0, 5], [0, 2, 6], [1, 3, 7]]:
        if same(kept[i[0]], start) and same(kept[i[1]], end):
            return kept[i[2]]
    return None


STILL_LEVELS = 1.0  # a pair whose frames differ by at most this (mean, grey levels) is still: no quadratic motion
AGREEMENT = 0.02  # warps that agree to within this (in [-1, 1] units, ~1.3 grey levels) close the gate
OUT_CHANNELS = 9  # per time: ΔF_t0 (2), ΔF_t1 (2), mask logit (1), residual (3), confidence logit (1)


# The crossfade fallback (not learned; its form and constants chosen on training clips, see
# docs/results.md): where the two inputs warped to t disagree as much as the inputs themselves do,
# the flow is not to be trusted, and the crossfade of the inputs (a ghost) costs less than a
# misplaced warp. The frame moves toward the crossfade by alpha = strength * dw^2 / (dw^2 + df^2 + eps),
# dw and df the mean absolute differences of the warps and of the inputs, averaged over about
# FALLBACK_POOL x FALLBACK_POOL pixels (:func:`local_difference`). Where the warps agree (dw = 0: a
# still scene, a good flow) alpha is 0.
FALLBACK_POOL = 17
FALLBACK_STRENGTH = 0.75  # the default strength (0: off)
FALLBACK_EPS = (2.0 / 255.0) ** 2  # one grey level, squared, in [-1, 1] units


def local_difference(a: torch.Tensor, b: torch.Tensor, pool: int, block: int = DISAGREEMENT_BLOCK) -> torch.Tensor:
    """[N, 1, ceil(H/block), ceil(W/block)]: |a - b| averaged over the channels and about ``pool`` x
    ``pool`` pixels, at the resolution of ``block`` x ``block`` blocks (warp_disagreement's, 4): block
    means, then a box of ``pool // block`` (made odd) blocks (:func:`smooth_blocks`). The fallback's
    alpha is made at this resolution and upsampled once (:func:`pyframegan.models.judge.judged`): it
    costs a few per cent of a frame's time."""
    d = F.avg_pool2d((a - b).abs().mean(1, keepdim=True), block, block, ceil_mode=True)
    return smooth_blocks(d, pool, block)


def smooth_blocks(d: torch.Tensor, pool: int, block: int = DISAGREEMENT_BLOCK) -> torch.Tensor:
    """:func:`local_difference` from the block means ``d`` [N, 1, h', w']: the box of ``pool // block``
    (made odd) blocks, zeros beyond the border."""
    k = (pool // block) | 1
    d = F.avg_pool2d(d, [k, 1], 1, [k // 2, 0])
    return F.avg_pool2d(d, [1, k], 1, [0, k // 2])


def fallback_weight(dw: torch.Tensor, df: torch.Tensor, strength: float, eps: float = FALLBACK_EPS) -> torch.Tensor:
    """alpha = strength * dw^2 / (dw^2 + df^2 + eps) from the local differences of the warps and of the
    inputs (``df`` may broadcast over ``dw``)."""
    dw2 = dw * dw
    return dw2.div_(dw2 + df * df + eps).mul_(strength)


def grey_levels(x: torch.Tensor) -> torch.Tensor:
    """Normalised RGB frames [N, 3, H, W] in [-1, 1] -> grey [N, 1, H, W] in [0, 1] on the 256 levels
    of OpenCV's COLOR_RGB2GRAY (15-bit weights 9798, 19235, 3735, rounded): the grey that
    :func:`pyframegan.ops.dis_flow` computes itself from uint8 frames. Exact in float32 (sums
    below 2^24)."""
    u = torch.round((x.float() + 1.0) * 127.5).clamp(0.0, 255.0)
    g = torch.floor((u[:, 0:1] * 9798.0 + u[:, 1:2] * 19235.0 + u[:, 2:3] * 3735.0 + 16384.0) / 32768.0)
    return g / 255.0


class HybridInterpolator(nn.Module):
    """2 frames in, ``n_out`` frames at ``times`` out: DIS flow + learned corrections (module doc)."""

    def __init__(self, n_in: int = 2, n_out: int = 5, times: list[float] | None = None, ngf: int = 24,
                 scale: int = 4, preset: str = "medium", gate_bias: float = -2.0, learned: bool = True,
                 guard_ratio: float = 1.25, guard_levels: float = 0.5, fallback: float = FALLBACK_STRENGTH,
                 judge: bool = False, judge_width: int = 32, judge_flows: bool = False,
                 judge_pooled: bool = False, judge_scale: int = JUDGE_SCALE):
        super().__init__()
        if n_in != 2:
            raise ValueError(f"the hybrid generator interpolates between 2 frames, got n_in={n_in}")
        times = resolve_times(times, n_out)
        if scale not in (1, 2, 4):
            raise ValueError(f"scale (the U-Net's resolution divisor) must be 1, 2 or 4, got {scale}")
        if not 4 <= ngf <= 256:
            raise ValueError(f"ngf must be in [4, 256], got {ngf}")
        if preset not in DIS_PRESETS:
            raise ValueError(f"unknown DIS preset {preset!r}; choose one of {', '.join(DIS_PRESETS)}")
        if not math.isfinite(gate_bias):
            raise ValueError(f"gate_bias must be finite, got {gate_bias}")
        if not (math.isfinite(guard_ratio) and guard_ratio >= 0 and math.isfinite(guard_levels) and guard_levels >= 0):
            raise ValueError(f"guard_ratio and guard_levels must be finite and >= 0, got {guard_ratio}, {guard_levels}")
        if not (math.isfinite(fallback) and 0 <= fallback <= 1):
            raise ValueError(f"fallback (the crossfade fallback's strength) must be in [0, 1], got {fallback}")
        if not 4 <= judge_width <= 256:
            raise ValueError(f"judge_width must be in [4, 256], got {judge_width}")
        if judge_scale not in (2, 4, 8, 16):
            raise ValueError(f"judge_scale (the judge's resolution divisor) must be 2, 4, 8 or 16, got {judge_scale}")
        self.config = {"arch": "hybrid", "n_in": 2, "n_out": n_out, "times": times, "ngf": ngf, "scale": scale,
                       "preset": preset, "gate_bias": gate_bias, "learned": bool(learned),
                       "guard_ratio": float(guard_ratio), "guard_levels": float(guard_levels),
                       "fallback": float(fallback), "judge": bool(judge), "judge_width": int(judge_width),
                       "judge_flows": bool(judge_flows), "judge_pooled": bool(judge_pooled),
                       "judge_scale": int(judge_scale)}
        # learned=False: DIS and the motion prior only, the U-Net not run (its output is zero, as untrained)
        self.learned = bool(learned)
        # flows of the last call with context that the next call may reuse (:meth:`dis`)
        self.forget()
        self.head_channels = OUT_CHANNELS + 1  # the network's output and the warps' disagreement
        self.guard_ratio, self.guard_levels = float(guard_ratio), float(guard_levels)
        self.still_levels = STILL_LEVELS
        self.fallback = float(fallback)
        self.fallback_pool: int = FALLBACK_POOL
        # the learned blend mask and fallback offsets (pyframegan.models.judge); None: not part of the model
        self.judge = Judge(n_out, judge_width, judge_scale, judge_flows, judge_pooled) if judge else None
        self.n_in, self.n_out, self.multiple = 2, n_out, 1
        self.scale, self.gate_bias = scale, float(gate_bias)
        self.agreement_inv = 1.0 / AGREEMENT
        p = dis_params(preset)
        self.finest_scale: int = int(p["finest_scale"])
        self.patch_size: int = int(p["patch_size"])
        self.patch_stride: int = int(p["patch_stride"])
        self.grad_descent_iters: int = int(p["grad_descent_iters"])
        self.refine_iters: int = int(p["refine_iters"])
        self.coarsest_scale: int = int(p["coarsest_scale"])
        self.alpha: float = float(p["alpha"])
        self.gamma: float = float(p["gamma"])
        self.delta: float = float(p["delta"])
        self.epsilon: float = float(p["epsilon"])
        self.mean_normalization: bool = bool(p["mean_normalization"])
        self.spatial_propagation: bool = bool(p["spatial_propagation"])
        self.register_buffer("times", torch.tensor(times).view(1, n_out, 1, 1, 1), persistent=False)
        s, n = ngf, n_out
        # the frames (6) and DIS flows (4); per time the warped frames (6), flows (4), disagreement (1)
        self.enc0 = nn.Sequential(conv(10 + 11 * n, s), conv(s, s))
        self.enc1 = nn.Sequential(conv(s, 2 * s, 2), conv(2 * s, 2 * s))
        self.enc2 = nn.Sequential(conv(2 * s, 4 * s, 2), conv(4 * s, 4 * s))
        self.dec1 = conv(4 * s + 2 * s, 2 * s)
        self.dec0 = conv(2 * s + s, s)
        self.out = head(s, OUT_CHANNELS * n)

    def initialize(self) -> None:
        """Kaiming for the convolutions, zero for the output head (the model starts as DIS)."""
        kaiming_with_zero_heads(self)

    @torch.jit.export
    def forget(self) -> None:
        """Drop the flows kept from the last call (:meth:`dis`; a placeholder keeps the list's type
        for TorchScript). Only memory: a call that does not continue the last one never uses them."""
        self.flow_cache = [torch.zeros(0)]

    @torch.jit.export
    def context_frames(self) -> int:
        """Frames of context the model can use besides the pair (the engine asks): the frame before
        and the frame after, as channels 6-8 and 9-11 of its input."""
        return 2

    def dis(self, x: torch.Tensor) -> torch.Tensor:
        """DIS flows in pixels, [F01; F10] [2b, 2, H, W] for pairs ``x`` [b, 6, H, W]; with context
        (``x`` [b, 12, H, W]: a, b, the frame before a, the frame after b) [F01; F10; F0-; F1+]
        [4b, 2, H, W], the last two from a to the frame before and from b to the frame after, each
        replaced by the linear-motion value (-F01, -F10) where the context is unreliable (see
        :meth:`guard`)."""
        g0, g1 = grey_levels(x[:, :3]), grey_levels(x[:, 3:6])
        if x.shape[1] != 12:
            return self.dis_pairs(torch.cat([g0, g1]), torch.cat([g1, g0]))
        b = x.shape[0]
        xf = x.float()
        # Consecutive pairs of a video (pair j + 1 = (b_j, b_j+1), its context a_j and b_j+2) share
        # flows: F0- of pair j + 1 is F10 of pair j, F1+ of pair j is F01 of pair j + 1. The last
        # call's last pair is kept (``flow_cache``: its grey a, b, before and after, and its four
        # flows): a call whose first pair continues it has its F01 and F0- there (that pair's F1+ and
        # F10), and a call on that same pair again (its times made in several calls) has all four
        # (:func:`kept_flow`). Those are reused, the grey frames compared exactly (DIS sees nothing
        # else, and gives the same flow alone or in a batch); the others are computed, in one call of
        # the op. So are the guard's warp errors of the flows (they compare the colour frames, so a
        # kept flow's is computed again).
        cache = self.flow_cache
        slots: list[int] = []  # the flows to find: F01 0..b-1, F10 b..2b-1, F0- 2b..3b-1, F1+ 3b..4b-1
        starts: list[torch.Tensor] = []
        ends: list[torch.Tensor] = []
        shared: list[list[int]] = []  # [context slot, the pair's slot it is the same flow as]
        before, after = g0[0], g1[0]
        # pair j follows pair j - 1 (its a is their b), each link compared once
        follows = [False] + [bool(torch.equal(x[j, 0:3], x[j - 1, 3:6])) for j in range(1, b)]
        for j in range(b):
            slots += [j, b + j]
            starts += [g0[j], g1[j]]
            ends += [g1[j], g0[j]]
            if follows[j] and torch.equal(x[j, 6:9], x[j - 1, 0:3]):
                shared.append([2 * b + j, b + j - 1])
                before = g0[j - 1]
            else:
                before = grey_levels(x[j:j + 1, 6:9])[0]
                slots.append(2 * b + j)
                starts.append(g0[j])
                ends.append(before)
            if j + 1 < b and follows[j + 1] and torch.equal(x[j, 9:12], x[j + 1, 3:6]):
                shared.append([3 * b + j, j + 1])
            else:
                after = grey_levels(x[j:j + 1, 9:12])[0]
                slots.append(3 * b + j)
                starts.append(g1[j])
                ends.append(after)
        first: list[torch.Tensor] = []
        second: list[torch.Tensor] = []
        computed: list[int] = []
        flows: list[torch.Tensor] = [g0[0]] * (4 * b)  # placeholders, all replaced
        for i, k in enumerate(slots):
            found = kept_flow(cache, starts[i], ends[i]) if k % b == 0 else None  # the first pair's
            if found is None:
                computed.append(k)
                first.append(starts[i])
                second.append(ends[i])
            else:
                flows[k] = found
        if len(computed) > 0:
            more = self.dis_pairs(torch.stack(first), torch.stack(second))
            for i, k in enumerate(computed):
                flows[k] = more[i]
        for c in shared:
            flows[c[0]] = flows[c[1]]
        pair = torch.stack(flows[:2 * b])
        # the guard's warp errors: the pairs' in two calls, each other context flow's (computed or
        # kept) on its own, a shared one's that of the pair's flow it is
        errors = [warp_error(xf[:, 3:6], pair[:b], xf[:, :3]), warp_error(xf[:, :3], pair[b:], xf[:, 3:6])]
        error: list[torch.Tensor] = [e for e in torch.cat(errors).unbind(0)] + [errors[0][0]] * (2 * b)
        for k in slots:
            if k >= 2 * b:
                j, side = k % b, (k - 2 * b) // b  # side 0: F0- (from a), 1: F1+ (from b)
                error[k] = warp_error(xf[j:j + 1, 6 + 3 * side:9 + 3 * side], flows[k].unsqueeze(0),
                                      xf[j:j + 1, 3 * side:3 + 3 * side])[0]
        for c in shared:
            error[c[0]] = error[c[1]]
        last = b - 1  # the last pair: its grey frames (before and after as the loop left them) and flows
        self.flow_cache = [g0[last].clone(), g1[last].clone(), before.clone(), after.clone(), flows[last].clone(),
                           flows[b + last].clone(), flows[2 * b + last].clone(), flows[3 * b + last].clone()]
        return self.guard(x, pair, torch.stack(flows[2 * b:3 * b]), torch.stack(flows[3 * b:]), torch.stack(error))

    def guard(self, x: torch.Tensor, pair: torch.Tensor, f0m: torch.Tensor, f12: torch.Tensor,
              errors: torch.Tensor) -> torch.Tensor:
        """QVI's quadratic motion fails where the context does not continue the pair (a scene cut,
        an occlusion, a DIS failure): a context flow (F0-, F1+: ``f0m``, ``f12`` [b, 2, H, W]) whose
        warp error (:func:`warp_error`: mean absolute, per pair; ``errors`` [4b, 1, 1, 1], one per
        flow of [F01; F10; F0-; F1+], ``pair`` = [F01; F10]) is more than ``guard_ratio`` times the
        pair's plus ``guard_levels`` grey levels (1.25 and 0.5: chosen on training clips, see
        docs/results.md) is replaced by minus the pair's flow, which makes the quadratic formula exactly linear motion
        on that side. A still pair (its frames differ by at most ``STILL_LEVELS`` on average: a held
        frame of animation on twos, a paused video) gets linear motion on both sides: its context
        moves, but the pair does not, and quadratic motion would swing the frames between them
        back and forth (measured before: a held pair of a lossy clip, 5 levels apart at most, came out
        15-55 levels off)."""
        b = x.shape[0]
        f01, f10 = pair[:b], pair[b:]
        e01, e10, e0m, e12 = errors[:b], errors[b:2 * b], errors[2 * b:3 * b], errors[3 * b:]
        xf = x.float()
        levels = self.guard_levels / 127.5
        moving = (xf[:, 3:6] - xf[:, :3]).abs().mean([1, 2, 3]).view(-1, 1, 1, 1) > self.still_levels / 127.5
        use0 = moving & (e0m <= self.guard_ratio * e01 + levels)
        use1 = moving & (e12 <= self.guard_ratio * e10 + levels)
        return torch.cat([pair, torch.where(use0, f0m, -f01), torch.where(use1, f12, -f10)])

    def dis_pairs(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        return torch.ops.pyframegan.dis_flow(first, second, self.finest_scale,
                                             self.coarsest_scale, self.patch_size, self.patch_stride,
                                             self.grad_descent_iters, self.refine_iters, self.alpha, self.gamma,
                                             self.delta, self.epsilon, self.mean_normalization,
                                             self.spatial_propagation)

    def network(self, x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        """The U-Net's output [b*n, 9, h', w'] at 1/scale for the trained times, and as a 10th channel the
        disagreement of the two inputs warped to each time (not learned: it gates the output)."""
        b, h, w = x.shape[0], x.shape[2], x.shape[3]
        n = self.n_out
        q = [max(1, h // self.scale), max(1, w // self.scale)]
        if not self.learned:
            return torch.zeros(b * n, self.head_channels, q[0], q[1], device=x.device, dtype=x.dtype)
        i0, i1 = resize(x[:, :3], q), resize(x[:, 3:6], q)
        flow_q = resize_flow(flow, q).to(x.dtype)
        ft0, ft1 = motion(flow_q, self.times, b)
        flow_q = flow_q[:2 * b]
        w0, w1 = backward_warp(i0.repeat_interleave(n, 0), ft0), backward_warp(i1.repeat_interleave(n, 0), ft1)
        per_time = torch.cat([w0, w1, ft0, ft1, (w0 - w1).abs().mean(1, keepdim=True)], 1)  # [b*n, 11, ...]
        flows = torch.cat([flow_q[:b], flow_q[b:]], 1)
        z = torch.cat([i0, i1, flows, per_time.reshape(b, 11 * n, q[0], q[1])], 1)
        # pad to a multiple of 4 (two stride-2 levels), replicated; cropped after
        ph, pw = (4 - q[0] % 4) % 4, (4 - q[1] % 4) % 4
        z = F.pad(z, [0, pw, 0, ph], mode="replicate")
        s0 = self.enc0(z)
        s1 = self.enc1(s0)
        s2 = self.enc2(s1)
        d1 = self.dec1(torch.cat([resize(s2, [s1.shape[2], s1.shape[3]]), s1], 1))
        d0 = self.dec0(torch.cat([resize(d1, [s0.shape[2], s0.shape[3]]), s0], 1))
        out = self.out(d0)[:, :, :q[0], :q[1]].reshape(b * n, -1, q[0], q[1])
        return torch.cat([out, per_time[:, 10:11]], 1)  # + the warps' disagreement, for the gate

    def fallback_alpha(self, x: torch.Tensor, ft0: torch.Tensor, ft1: torch.Tensor, k: int) -> torch.Tensor:
        """The crossfade fallback's alpha [b*k, 1, h', w'] at the resolution of the 4x4 blocks for the
        flows F_t0, F_t1 [b*k, 2, h, w] (the engine's path: the warps' disagreement from the fused op,
        without making the warped frames)."""
        b, h, w = x.shape[0], x.shape[2], x.shape[3]
        xf = x.float()
        i0, i1 = xf[:, :3], xf[:, 3:6]
        blocks = torch.ops.pyframegan.warp_disagreement(i0, i1, ft0.float().reshape(b, k, 2, h, w),
                                                       ft1.float().reshape(b, k, 2, h, w))
        hb, wb = blocks.shape[3], blocks.shape[4]
        dw = smooth_blocks(blocks.reshape(b * k, 1, hb, wb), self.fallback_pool)
        df = local_difference(i0, i1, self.fallback_pool).unsqueeze(1)  # [b, 1, 1, h', w']: the same for every time
        return fallback_weight(dw.reshape(b, k, 1, hb, wb), df, self.fallback).reshape(b * k, 1, hb, wb)

    def warped(self, x: torch.Tensor, ft0: torch.Tensor, ft1: torch.Tensor,
               n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The inputs of ``x`` repeated for the n times [b*n, 3, h, w] (float), and warped by F_t0, F_t1."""
        xf = x.float()
        a, b = xf[:, :3].repeat_interleave(n, 0), xf[:, 3:6].repeat_interleave(n, 0)
        return a, b, backward_warp(a, ft0), backward_warp(b, ft1)

    def rule_alpha(self, x: torch.Tensor, w0: torch.Tensor, w1: torch.Tensor, n: int) -> torch.Tensor:
        """The crossfade fallback's alpha [b*n, 1, h', w'] (4x4 blocks) from the inputs ``x`` warped to the n times,
        ``w0``, ``w1`` [b*n, 3, h, w] (the inputs' difference once a pair); :meth:`fallback_alpha` is the
        engine's path to the same alpha."""
        xf = x.float()
        df = local_difference(xf[:, :3], xf[:, 3:6], self.fallback_pool).repeat_interleave(n, 0)
        return fallback_weight(local_difference(w0, w1, self.fallback_pool), df, self.fallback)

    def learned_parts(self, flow: torch.Tensor, out: torch.Tensor, times: torch.Tensor, h: int,
                      w: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """F_t0, F_t1 [b*n, 2, h, w], the blend mask's logit ([b*n, 1, 1, 1] while the network is off,
        else [b*n, 1, h, w]) and the residual [b*n, 3, h, w] for the n ``times`` [1, n, 1, 1, 1] from the
        DIS flows [2b or, with context, 4b, 2, h, w] and the network's output [b*n, 9, h', w']: the linear
        (or quadratic) motion of the DIS flows and the network's gated corrections (no fallback)."""
        full = [h, w]
        b, n = out.shape[0] // times.shape[1], times.shape[1]
        ft0, ft1 = motion(flow, times, b)
        tt = times.to(out.dtype).expand(b, n, 1, 1, 1).reshape(b * n, 1, 1, 1)
        if not self.learned:  # the network's output is zero: the same values, without full-resolution passes
            return ft0, ft1, torch.log((1 - tt) / tt), torch.zeros(1, 1, 1, 1, device=out.device,
                                                                   dtype=out.dtype).expand(b * n, 3, h, w)
        # gated at the network's resolution, then one upsampling of the 8 gated channels (the flow
        # corrections scaled to full-resolution pixels)
        gate = torch.sigmoid(out[:, 8:9] + self.gate_bias) * (out[:, 9:10] * self.agreement_inv).clamp(max=1.0)
        sx, sy = w / out.shape[3], h / out.shape[2]
        scale = torch.tensor([sx, sy, sx, sy, 1.0, 1.0, 1.0, 1.0], device=out.device, dtype=out.dtype)
        gated = gate * out[:, :8] * scale.view(1, 8, 1, 1)
        up = resize(gated, full) if out.shape[2] != h or out.shape[3] != w else gated
        return ft0 + up[:, 0:2], ft1 + up[:, 2:4], up[:, 4:5] + torch.log((1 - tt) / tt), up[:, 5:8]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.synthesize(x)[0]

    def synthesize(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(frames [b, 3n, h, w] in [-1, 1], the DIS flows [F01; F10] [2b, 2, h, w], the final
        F_t0 and F_t1 [b*n, 2, h, w], pair-major) for training."""
        flow = self.dis(x)
        return self.frames(x, flow, self.network(x, flow).float())

    def prior(self, x: torch.Tensor) -> torch.Tensor:
        """The frames of the untrained model (DIS + linear-motion warp) [b, 3n, h, w]: what the
        network is measured against."""
        flow = self.dis(x)
        q = [max(1, x.shape[2] // self.scale), max(1, x.shape[3] // self.scale)]
        return self.frames(x, flow, flow.new_zeros(x.shape[0] * self.n_out, OUT_CHANNELS + 1, q[0], q[1]), False)[0]

    def frames(self, x: torch.Tensor, flow: torch.Tensor, out: torch.Tensor, use_judge: bool = True,
               at: Optional[torch.Tensor] = None,
               judge_out: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """:meth:`synthesize` from the DIS flows and the network's output (without the judge, if it has
        one, when ``use_judge`` is False), at the trained times or the n times ``at`` [n]; ``judge_out``:
        the judge's output at those times, if the caller has it (training)."""
        b, h, w = x.shape[0], x.shape[2], x.shape[3]
        times = self.times if at is None else at.to(self.times.device, self.times.dtype).view(1, -1, 1, 1, 1)
        n = times.shape[1]
        if at is not None and self.learned:
            out = at_times(out, self.times.flatten(), times.flatten())
        ft0, ft1, logit, residual = self.learned_parts(flow, out, times, h, w)
        judge = self.judge
        if judge is not None and use_judge:
            if judge_out is None:
                judge_out = judge(x, flow, self.times.flatten(), times.flatten())
            ft0, ft1 = judged_flows(ft0, ft1, judge_out)
        else:
            judge_out = None
        i0, i1, w0, w1 = self.warped(x, ft0, ft1, n)  # warped once, for the frames and the fallback
        mask = torch.sigmoid(logit)
        alpha: Optional[torch.Tensor] = None
        if self.fallback > 0.0 or judge_out is not None:
            mask, alpha = judged(logit, self.rule_alpha(x, w0, w1, n), judge_out, h, w)
        frames = mask * w0 + (1 - mask) * w1 + residual
        if alpha is not None:  # toward the crossfade
            tt = times.to(frames.dtype).expand(b, n, 1, 1, 1).reshape(-1, 1, 1, 1)
            frames = frames + (torch.lerp(i0, i1, tt) - frames).mul_(alpha)
        return frames.clamp(-1, 1).reshape(b, 3 * n, h, w), flow, ft0, ft1

    @torch.jit.export
    def components(self, x: torch.Tensor) -> Components:
        """What the engine's fused post-op composes (see :class:`FlowInterpolator.components`)."""
        return self.components_at(x, self.times.flatten())

    @torch.jit.export
    def components_at(self, x: torch.Tensor, times: torch.Tensor) -> Components:
        """:meth:`components` at any k ``times`` in (0, 1): the linear motion of the DIS flows at
        those times, and the network's outputs interpolated linearly in t between the trained times."""
        check_times(times)
        b, h, w = x.shape[0], x.shape[2], x.shape[3]
        k = times.numel()
        flow = self.dis(x)
        tk = times.to(device=flow.device, dtype=flow.dtype).view(1, k, 1, 1, 1)
        if self.learned:
            out = at_times(self.network(x, flow).float(), self.times.flatten(), times.to(flow.device))
        else:  # the network's output is zero at every time: only its shape is read
            out = flow.new_zeros(1, 1, 1, 1).expand(b * k, self.head_channels, 1, 1)
        ft0, ft1, logit, residual = self.learned_parts(flow, out, tk, h, w)
        judge = self.judge
        judge_out: Optional[torch.Tensor] = None
        if judge is not None:
            judge_out = judge(x, flow, self.times.flatten(), times)
            ft0, ft1 = judged_flows(ft0, ft1, judge_out)
        mask = torch.sigmoid(logit)
        fallback: Optional[torch.Tensor] = None
        fallback_times: Optional[torch.Tensor] = None
        if self.fallback > 0.0 or judge_out is not None:
            mask, alpha = judged(logit, self.fallback_alpha(x, ft0, ft1, k), judge_out, h, w)
            fallback = alpha.to(x.dtype).reshape(b, k, 1, h, w)
            fallback_times = tk.flatten().float()
        mask = mask.expand(b * k, 1, h, w)
        return Components(ft0.reshape(b, k, 2, h, w), ft1.reshape(b, k, 2, h, w),
                          mask.to(x.dtype).reshape(b, k, 1, h, w), residual.to(x.dtype).reshape(b, k, 3, h, w),
                          fallback, fallback_times)


PSEUDO_LABEL_SCALE = 0.05  # a pseudo-label's weight is exp(-its warp error / this), errors in [-1, 1] units


@torch.no_grad()
def pseudo_labels(inputs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The privileged labels of the IFRNet / RIFE-teacher pattern for the pairs ``inputs`` [b, 6, H, W]
    and their true in-between frames ``targets`` [b, 3n, H, W] (in [-1, 1]): (L_t0, L_t1, W_t0, W_t1)
    [b*n, 2 or 1, H, W] (pair-major), the DIS flows from each true frame to the two inputs and each
    pixel's weight exp(-e / 0.05), e the mean absolute error of the input warped by the label against
    the true frame (labels that do not reproduce it, at occlusions or DIS failures, weigh little)."""
    b, h, w = inputs.shape[0], inputs.shape[2], inputs.shape[3]
    n = targets.shape[1] // 3
    truth = targets.reshape(b * n, 3, h, w)
    i0, i1 = inputs[:, :3].repeat_interleave(n, 0), inputs[:, 3:6].repeat_interleave(n, 0)
    gt = grey_levels(truth)
    labels = dis_flow(torch.cat([gt, gt]), torch.cat([grey_levels(i0), grey_levels(i1)]), preset="medium")
    l0, l1 = labels[:b * n], labels[b * n:]
    w0 = torch.exp(-(backward_warp(i0, l0) - truth).abs().mean(1, keepdim=True) / PSEUDO_LABEL_SCALE)
    w1 = torch.exp(-(backward_warp(i1, l1) - truth).abs().mean(1, keepdim=True) / PSEUDO_LABEL_SCALE)
    return l0, l1, w0, w1


def pseudo_label_loss(inputs: torch.Tensor, targets: torch.Tensor, ft0: torch.Tensor,
                      ft1: torch.Tensor) -> torch.Tensor:
    """The privileged flow loss: the model's final F_t0, F_t1 [b*n, 2, H, W] (pair-major) against the
    :func:`pseudo_labels` of ``inputs`` and ``targets``, each pixel's term (Charbonnier of the
    difference, in pixels) weighted by its label's weight."""
    l0, l1, w0, w1 = pseudo_labels(inputs, targets)
    return 0.5 * (label_term(ft0, l0, w0) + label_term(ft1, l1, w1))


def label_term(pred: torch.Tensor, label: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """The mean of ``weight`` [N, 1, H, W] times the Charbonnier distance of the flows ``pred`` and
    ``label`` [N, 2, H, W]."""
    return (weight * torch.sqrt(((pred - label) ** 2).sum(1, keepdim=True) + 1e-6)).mean()


# --- as a `pyframegan train` generator kind (pyframegan.training.config asks each kind) ----------
def add_train_options(group, defaults) -> None:
    group.add_argument("--hybrid-ngf", type=int, default=defaults.hybrid_ngf, help="hybrid generator: U-Net filters")
    group.add_argument("--hybrid-scale", type=int, choices=(1, 2, 4), default=defaults.hybrid_scale,
                       help="hybrid generator: the U-Net runs at 1/scale of the frames' resolution")


def train_config(cfg) -> dict:
    return {"arch": "hybrid", "n_in": 2, "n_out": len(cfg.targets), "times": cfg.target_times(),
            "ngf": cfg.hybrid_ngf, "scale": cfg.hybrid_scale}


def check_train_config(cfg, need) -> None:
    need(len(cfg.inputs) == 2, f"--arch hybrid needs 2 --inputs, got {cfg.inputs}")
    need(cfg.synthetic == 0, "--arch hybrid learns from real windows: drop --synthetic")
    need(4 <= cfg.hybrid_ngf <= 256, f"--hybrid-ngf must be in [4, 256], got {cfg.hybrid_ngf}")
    need(cfg.hybrid_scale in (1, 2, 4), f"--hybrid-scale must be 1, 2 or 4, got {cfg.hybrid_scale}")


def check_unused(cfg, need) -> None:
    """Its options given with another kind: none are checked (they have defaults)."""
