"""Motion-aware generator: estimate the motion, warp the two frames along it, and let a small
U-Net correct what the motion model gets wrong. Same interface as the pix2pix U-Net (normalised
frames [B, 6, H, W] in, [B, 3n, H, W] out), so training, export, the engine and `pyframegan video`
take either.

1. Flow (PWC-Net / RIFE style): a feature pyramid shared by both frames (1/2 .. 1/16); coarse to
   fine over 1/16, 1/8, (``flow_levels=3``) 1/4 and (``flow_levels=4``, a narrower head) 1/2,
   the second frame's features are warped by the
   flow so far, a local cost volume (the fused ``pyframegan.ops.correlation`` of L2-normalised
   features, displacements up to ±d, i.e. ±16d pixels at 1/16) and the first frame's features go
   through a small convolutional head that predicts a flow update. Both directions at once (the
   frames swapped in the batch): F01 and F10. ``displacements`` sets each level's d (coarse to
   fine); a model with other windows loads as a starting point through :meth:`fit_state_dict`.
2. Intermediate flows from the linear-motion formula (Super SloMo, Jiang et al. 2018):
   F_t0 = -(1-t)·t·F01 + t²·F10,  F_t1 = (1-t)²·F01 - t·(1-t)·F10.
3. Synthesis at 1/4 resolution, all n times in one pass: a small U-Net sees the two frames, both
   frames warped to every time t and the flows, and predicts for every t flow corrections, a
   blend-mask logit and an RGB residual.
4. Composition at full resolution: frame_t = m·warp(I0, F_t0) + (1-m)·warp(I1, F_t1) + residual,
   m = sigmoid(logit + log((1-t)/t)); F_t0 and F_t1 are the linear-motion formula on F01 and F10
   upsampled from the finest flow level (so a 1/2 level's precision is kept) plus the upsampled
   corrections.
Every head starts at zero, so an untrained model gives exactly the crossfade (zero flow, mask
1 - t, no residual) and training starts at crossfade quality and moves up from there.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from pyframegan.models.components import Components
from pyframegan.ops import unit_channels
from pyframegan.warp import backward_warp, linear_motion_flows


def conv(c_in: int, c_out: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, stride, 1), nn.LeakyReLU(0.1))


def head(c_in: int, c_out: int) -> nn.Conv2d:
    layer = nn.Conv2d(c_in, c_out, 3, 1, 1)
    layer.zero_init = True  # starts at zero: see initialize()
    return layer


def kaiming_with_zero_heads(model: nn.Module) -> None:
    """Kaiming (leaky ReLU 0.1) for every convolution of ``model``, zero for its :func:`head` layers;
    biases zero."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            if getattr(m, "zero_init", False):
                nn.init.zeros_(m.weight)
            else:
                nn.init.kaiming_normal_(m.weight, a=0.1, nonlinearity="leaky_relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def resolve_times(times: list[float] | None, n_out: int) -> list[float]:
    """The times of the ``n_out`` output frames between the inputs (0 and 1): evenly spaced when
    ``times`` is None; a ValueError unless there is one in (0, 1) per frame."""
    times = [k / (n_out + 1) for k in range(1, n_out + 1)] if times is None else [float(t) for t in times]
    if len(times) != n_out or not all(0.0 < t < 1.0 for t in times):
        raise ValueError(f"times must give one time in (0, 1) per output frame ({n_out}), got {times}")
    return times


def correlation(f0: torch.Tensor, f1: torch.Tensor, d: int) -> torch.Tensor:
    """Cost volume [N, (2d+1)², H, W]: channel sums of f0 · (f1 shifted by (dy, dx)), zero outside;
    channel k = (dy + d)(2d + 1) + (dx + d). The fused op (CPU and CUDA, with its backward) gives
    the channel mean; times C, the sum."""
    return torch.ops.pyframegan.correlation(f0, f1, d) * f0.shape[1]


def resize(x: torch.Tensor, size: list[int]) -> torch.Tensor:
    """Bilinear resizing of [N, C, H, W] to ``size`` (align_corners=False). Every plane is resized on
    its own: as N * C images of one channel the same values come out, and shrinking is several times
    faster on CPU (measured at [16, 2, 272, 640] -> 34 x 80: 1.76 -> 0.27 ms, two threads; PyTorch
    takes a slower path for images of several channels). A tensor that is not contiguous (a slice of
    channels) is resized as it is rather than copied."""
    if not x.is_contiguous():
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    n, c = x.shape[0], x.shape[1]
    y = F.interpolate(x.reshape(n * c, 1, x.shape[2], x.shape[3]), size=size, mode="bilinear", align_corners=False)
    return y.reshape(n, c, size[0], size[1])


def resize_flow(flow: torch.Tensor, size: list[int]) -> torch.Tensor:
    """A flow field resized to ``size``, its vectors scaled with it."""
    scale = torch.tensor([size[1] / flow.shape[3], size[0] / flow.shape[2]], device=flow.device, dtype=flow.dtype)
    return resize(flow, size) * scale.view(1, 2, 1, 1)


def linear_motion(flow: torch.Tensor, times: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """F_t0, F_t1 [b*n, 2, ...] (pair-major) for every time of ``times`` [1, n, 1, 1, 1] from
    [F01; F10] [2b, 2, ...] by the linear-motion formula (Super SloMo, eq. 4)."""
    b = flow.shape[0] // 2
    ft0, ft1 = linear_motion_flows(flow[:b].unsqueeze(1), flow[b:].unsqueeze(1), times.to(flow.dtype))  # [b, n, 2, ...]
    return ft0.flatten(0, 1), ft1.flatten(0, 1)


def motion(flows: torch.Tensor, times: torch.Tensor, b: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Prior F_t0, F_t1 [b*n, 2, ...] (pair-major) of b pairs for the n ``times`` [1, n, 1, 1, 1]: linear motion
    from [F01; F10] [2b, 2, ...], or quadratic motion (QVI, Xu et al. 2019) from [F01; F10; F0-; F1+]
    [4b, 2, ...] with the frames before and after. Quadratic: the displacements from the inputs to t
    are d0(t) = (F01 + F0-)/2 t² + (F01 - F0-)/2 t and d1 likewise from frame 1 with s = 1 - t, and
    F_t0 = (1-t)(-d0) + t(F10 - d1), F_t1 = (1-t)(F01 - d0) - t d1, which with F0- = -F01 and
    F1+ = -F10 is exactly the linear formula."""
    if flows.shape[0] != 4 * b:
        return linear_motion(flows, times)
    # both are linear in the four flows: F = c01 F01 + c10 F10 + c0- F0- + c1+ F1+, the coefficients per
    # time from d0 = a0 F01 + b0 F0-, a0 = (t² + t)/2, b0 = (t² - t)/2 (d1 likewise with s): one
    # matrix product over the flows instead of a dozen full-resolution passes
    t = times.flatten().to(flows.dtype)
    s = 1 - t
    a0, b0, a1, b1 = (t * t + t) * 0.5, (t * t - t) * 0.5, (s * s + s) * 0.5, (s * s - s) * 0.5
    c_t0 = torch.stack([-s * a0, t * (1 - a1), -s * b0, -t * b1], 1)  # [n, 4]: F01, F10, F0-, F1+
    c_t1 = torch.stack([s * (1 - a0), -t * a1, -s * b0, -t * b1], 1)
    n = t.numel()
    four = flows.reshape(4, b, -1).transpose(0, 1)  # [b, 4, 2*h*w]
    shape = [b * n, 2, flows.shape[2], flows.shape[3]]
    return torch.matmul(c_t0, four).reshape(shape), torch.matmul(c_t1, four).reshape(shape)  # [b, n, 2*h*w] each


def check_times(times: torch.Tensor) -> None:
    """ValueError unless ``times`` is a non-empty 1-D tensor of times strictly inside (0, 1)."""
    if times.dim() != 1 or times.numel() == 0 or bool((times <= 0).any()) or bool((times >= 1).any()):
        raise ValueError("times must be a non-empty 1-D tensor of times in (0, 1)")


def at_times(out: torch.Tensor, trained: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
    """A network's per-time outputs ``out`` [b*n, C, h, w] (pair-major) for its n ``trained``
    times, interpolated linearly in t to the k ``times`` [k] -> [b*k, C, h, w]; zero at t = 0 and
    t = 1 (where the output is an input frame and needs no correction)."""
    n, k = trained.numel(), times.numel()
    b = out.shape[0] // n
    knots = torch.cat([torch.zeros(1, device=out.device, dtype=out.dtype), trained.to(out.dtype),
                       torch.ones(1, device=out.device, dtype=out.dtype)])
    left, mid, right = knots[:-2], knots[1:-1], knots[2:]
    t = times.to(out.dtype).view(k, 1)
    hat = torch.minimum((t - left) / (mid - left), (right - t) / (right - mid)).clamp_min(0)  # [k, n]
    return torch.einsum("kn,bnp->bkp", hat, out.reshape(b, n, -1)).reshape(b * k, out.shape[1], out.shape[2],
                                                                          out.shape[3])


class FlowLevel(nn.Module):
    """One pyramid level of the flow estimator: warp, correlate, predict a flow update."""

    def __init__(self, channels: int, d: int, width: int):
        super().__init__()
        self.d = d
        self.net = nn.Sequential(conv((2 * d + 1) ** 2 + channels + 2, width), conv(width, width // 2),
                                 head(width // 2, 2))

    def forward(self, f0: torch.Tensor, f1: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        cost = correlation(unit_channels(f0), unit_channels(backward_warp(f1, flow)), self.d)
        # channels-last: these few-channel convolutions run 1.3-1.8x faster so on the CPU (oneDNN)
        x = torch.cat([cost, f0, flow], 1).contiguous(memory_format=torch.channels_last)
        return flow + self.net(x).contiguous()


def check_displacements(displacements: list[int], flow_levels: int, name: str = "displacements") -> None:
    """ValueError unless ``displacements`` gives one cost window ±d, 1 <= d <= 8, per flow level."""
    if len(displacements) != flow_levels or not all(1 <= int(x) <= 8 for x in displacements):
        raise ValueError(f"{name} must give one window 1..8 per flow level ({flow_levels}), got "
                         f"{list(displacements)} (coarse to fine)")


def fit_cost_window(weight: torch.Tensor, d: int, channels: int) -> torch.Tensor:
    """The first convolution weight of a :class:`FlowLevel` [out, (2e+1)² + channels + 2, k, k]
    trained with displacements up to ±e, fitted to ±``d``: the cost-volume inputs outside the
    new window are dropped, new ones (a wider window) get zero weights; the rest is kept. With
    zero weights on the dropped displacements the level computes exactly what it did."""
    side = math.isqrt(max(0, weight.shape[1] - channels - 2))
    e = (side - 1) // 2
    if side < 1 or (2 * e + 1) ** 2 + channels + 2 != weight.shape[1]:
        raise ValueError(f"a flow level's first weight {tuple(weight.shape)} does not hold a square cost "
                         f"window plus {channels} feature channels and the flow")
    if e == d:
        return weight
    cost = weight[:, :(2 * e + 1) ** 2].reshape(weight.shape[0], 2 * e + 1, 2 * e + 1, *weight.shape[2:])
    fitted = weight.new_zeros(weight.shape[0], 2 * d + 1, 2 * d + 1, *weight.shape[2:])
    m = min(d, e)
    fitted[:, d - m:d + m + 1, d - m:d + m + 1] = cost[:, e - m:e + m + 1, e - m:e + m + 1]
    return torch.cat([fitted.flatten(1, 2), weight[:, (2 * e + 1) ** 2:]], 1)


class FlowInterpolator(nn.Module):
    """2 frames in, ``n_out`` frames at ``times`` out, through motion estimation and warping."""

    def __init__(self, n_in: int = 2, n_out: int = 5, times: list[float] | None = None,
                 channels: tuple[int, ...] | list[int] = (16, 32, 48, 64), max_displacement: int = 3,
                 flow_width: int = 64, synth_ngf: int = 24, flow_levels: int = 2,
                 displacements: list[int] | None = None):
        super().__init__()
        if n_in != 2:
            raise ValueError(f"the flow generator interpolates between 2 frames, got n_in={n_in}")
        if len(channels) != 4:
            raise ValueError(f"channels must give the 4 pyramid levels' widths, got {channels}")
        times = resolve_times(times, n_out)
        if flow_levels not in (2, 3, 4):
            raise ValueError(f"flow_levels must be 2 (1/16, 1/8), 3 (+ 1/4) or 4 (+ 1/2), got {flow_levels}")
        c = [int(x) for x in channels]
        # cost window of each level, coarse to fine: by default ±max_displacement, one less at 1/2
        if displacements is None:
            displacements = [max_displacement if k < 3 else max(1, max_displacement - 1) for k in range(flow_levels)]
        displacements = [int(x) for x in displacements]
        check_displacements(displacements, flow_levels)
        self.config = {"arch": "flow", "n_in": 2, "n_out": n_out, "times": times, "channels": c,
                       "max_displacement": max_displacement, "flow_width": flow_width, "synth_ngf": synth_ngf,
                       "flow_levels": flow_levels, "displacements": displacements}
        self.n_in, self.n_out, self.multiple = 2, n_out, 32
        self.register_buffer("times", torch.tensor(times).view(1, n_out, 1, 1, 1), persistent=False)

        self.pyramid = nn.ModuleList([conv(3, c[0], 2)])
        for i in range(1, 4):
            self.pyramid.append(nn.Sequential(conv(c[i - 1], c[i], 2), conv(c[i], c[i])))
        # flow levels at 1/16, 1/8 and maybe 1/4 and 1/2 (pyramid levels 3, 2, 1, 0); the 1/2 level,
        # 4x the pixels of 1/4 and only refining, gets half the width
        self.flow = nn.ModuleList([FlowLevel(c[3 - k], displacements[k], flow_width if k < 3 else flow_width // 2)
                                   for k in range(flow_levels)])
        # synthesis U-Net at 1/4: the frames (6), per time the warped frames (6) and flows (4)
        s, n = synth_ngf, n_out
        self.enc0 = conv(6 + 10 * n, s)
        self.enc1 = nn.Sequential(conv(s, 2 * s, 2), conv(2 * s, 2 * s))
        self.enc2 = nn.Sequential(conv(2 * s, 4 * s, 2), conv(4 * s, 4 * s))
        self.dec1 = conv(4 * s + 2 * s, 2 * s)
        self.dec0 = conv(2 * s + s, s)
        self.out = head(s, 8 * n)  # per time: flow corrections (2 + 2), mask logit (1), residual (3)

    def initialize(self) -> None:
        """Kaiming for the convolutions (so the cost volumes carry signal from the start), zero for
        the heads (so the model starts as the crossfade)."""
        kaiming_with_zero_heads(self)

    def fit_state_dict(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """A state dict of a flow generator with other cost windows (``displacements``), its flow
        levels' first weights fitted to this model's windows (:func:`fit_cost_window`), so it
        loads as a starting point; other tensors are passed through unchanged."""
        state = dict(state)
        for k, level in enumerate(self.flow):
            key = f"flow.{k}.net.0.0.weight"
            if key in state:
                state[key] = fit_cost_window(state[key], level.d, self.config["channels"][3 - k])
        return state

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        out: list[torch.Tensor] = []
        for level in self.pyramid:
            x = level(x)
            out.append(x)
        return out

    def estimate(self, feats: list[torch.Tensor], b: int) -> torch.Tensor:
        """Coarse-to-fine flow at the finest flow level's resolution (1/8, 1/4 or 1/2) from the pyramid of
        [I0; I1] (batch 2b): F01 in the first half, F10 (the frames swapped) in the second, in
        pixels of that resolution."""
        swapped = [torch.cat([f[b:], f[:b]], 0) for f in feats]
        coarse = feats[3]
        flow = torch.zeros(2 * b, 2, coarse.shape[2], coarse.shape[3], device=coarse.device, dtype=coarse.dtype)
        for k, level in enumerate(self.flow):
            idx = 3 - k
            if k > 0:
                flow = resize_flow(flow, [feats[idx].shape[2], feats[idx].shape[3]])
            flow = level(feats[idx], swapped[idx], flow)
        return flow

    def flows(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(F01, F10) at full resolution, in pixels: for inspection and flow supervision."""
        b = x.shape[0]
        flow = resize_flow(self.estimate(self.features(torch.cat([x[:, :3], x[:, 3:6]], 0)), b),
                           [x.shape[2], x.shape[3]])
        return flow[:b], flow[b:]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.synthesize(x)[0]

    def synthesize(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(frames [b, 3n, h, w], the flows for flow supervision in pixels of their resolution:
        [F01; F10] [2b, 2, ...] at the finest flow level's (at least 1/4) and the final F_t0, F_t1
        [b*n, 2, h/4, w/4], pair-major)."""
        b, h, w = x.shape[0], x.shape[2], x.shape[3]
        n = self.n_out
        flow, ft0, ft1, out = self.quarter(x)
        ft0_full, ft1_full, mask, residual = self.full_resolution(flow, out, self.times, h, w)
        frames = (mask * backward_warp(x[:, :3].repeat_interleave(n, 0), ft0_full)
                  + (1 - mask) * backward_warp(x[:, 3:6].repeat_interleave(n, 0), ft1_full) + residual)
        return frames.clamp(-1, 1).reshape(b, 3 * n, h, w), flow, ft0, ft1

    @torch.jit.export
    def components(self, x: torch.Tensor) -> Components:
        """What step 4 composes, for the engine's fused post-op (``pyframegan.ops.warp_blend``):
        F_t0, F_t1 [b, n, 2, h, w] in pixels, the mask [b, n, 1, h, w] and the residual
        [b, n, 3, h, w]; the frames are mask·warp(I0, F_t0) + (1 - mask)·warp(I1, F_t1) + residual."""
        return self.components_at(x, self.times.flatten())

    @torch.jit.export
    def components_at(self, x: torch.Tensor, times: torch.Tensor) -> Components:
        """:meth:`components` for any k ``times`` (1-D, each in (0, 1)) instead of the trained
        ones: the linear motion at those times, and the network's corrections, mask logits and
        residuals interpolated linearly in t between the trained times (zero at t = 0 and 1, where
        the output is an input frame). At the trained times it is :meth:`components`."""
        check_times(times)
        b, h, w = x.shape[0], x.shape[2], x.shape[3]
        k = times.numel()
        flow, _, _, out = self.quarter(x)
        tk = times.to(device=out.device, dtype=out.dtype)
        out = at_times(out, self.times.flatten(), tk)
        ft0_full, ft1_full, mask, residual = self.full_resolution(flow, out, tk.view(1, k, 1, 1, 1), h, w)
        return Components(ft0_full.reshape(b, k, 2, h, w), ft1_full.reshape(b, k, 2, h, w),
                          mask.reshape(b, k, 1, h, w), residual.reshape(b, k, 3, h, w), None, None)

    def quarter(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Steps 1-3 at 1/4 resolution: ([F01; F10] [2b, 2, ...] at the finest flow level's
        resolution or 1/4 if that is coarser, F_t0 and F_t1 with the corrections [b*n, 2, h/4, w/4],
        the network's output [b*n, 8, h/4, w/4]: corrections of F_t0 and F_t1, mask logit, residual)."""
        b, h, w = x.shape[0], x.shape[2], x.shape[3]
        n = self.n_out
        if h % self.multiple != 0 or w % self.multiple != 0:
            raise ValueError(f"input {h}x{w} is not a multiple of {self.multiple}; pad it "
                             "(pyframegan.ops.pack_pairs does)")
        i0, i1 = x[:, :3], x[:, 3:6]
        q = [h // 4, w // 4]
        # 1. flows F01 and F10 at the finest level's resolution, at least 1/4 (a 1/8 flow is upsampled)
        flow = self.estimate(self.features(torch.cat([i0, i1], 0)), b)
        flow_q = flow if flow.shape[2] == q[0] else resize_flow(flow, q)
        if flow.shape[2] < q[0]:
            flow = flow_q

        # 2. intermediate flows for every time at 1/4 resolution: [b*n, 2, h/4, w/4] (pair-major)
        ft0, ft1 = self.linear_motion(flow_q, self.times)

        # 3. synthesis at 1/4 resolution, all times in one pass
        q0, q1 = resize(i0, q), resize(i1, q)
        warped = torch.cat([backward_warp(q0.repeat_interleave(n, 0), ft0),
                            backward_warp(q1.repeat_interleave(n, 0), ft1), ft0, ft1], 1)  # [b*n, 10, ...]
        s0 = self.enc0(torch.cat([q0, q1, warped.reshape(b, 10 * n, q[0], q[1])], 1))
        s1 = self.enc1(s0)
        s2 = self.enc2(s1)
        d1 = self.dec1(torch.cat([resize(s2, [s1.shape[2], s1.shape[3]]), s1], 1))
        d0 = self.dec0(torch.cat([resize(d1, q), s0], 1))
        out = self.out(d0).reshape(b * n, 8, q[0], q[1])
        return flow, ft0 + out[:, 0:2], ft1 + out[:, 2:4], out

    def linear_motion(self, flow: torch.Tensor, times: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return linear_motion(flow, times)

    def full_resolution(self, flow: torch.Tensor, out: torch.Tensor, times: torch.Tensor, h: int,
                        w: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Step 4's inputs at full resolution [b*n, C, h, w] for the n ``times`` [1, n, 1, 1, 1] and
        the network's output ``out`` [b*n, 8, ...] for them: F_t0, F_t1 (the linear motion of the
        upsampled [F01; F10] plus the upsampled corrections), the mask (its logit plus the prior
        log((1-t)/t), through a sigmoid) and the residual."""
        full = [h, w]
        b, n = flow.shape[0] // 2, times.shape[1]
        ft0, ft1 = self.linear_motion(resize_flow(flow, full), times)
        tt = times.to(out.dtype).expand(b, n, 1, 1, 1).reshape(b * n, 1, 1, 1)
        mask = torch.sigmoid(resize(out[:, 4:5], full) + torch.log((1 - tt) / tt))
        return (ft0 + resize_flow(out[:, 0:2], full), ft1 + resize_flow(out[:, 2:4], full), mask,
                resize(out[:, 5:8], full))


# --- as a `pyframegan train` generator kind (pyframegan.training.config asks each kind) ----------
def add_train_options(group, defaults) -> None:
    from pyframegan.model_options import int_list
    group.add_argument("--flow-levels", type=int, choices=(2, 3, 4), default=defaults.flow_levels,
                       help="flow generator: flow levels (2: 1/16 and 1/8; 3: also 1/4; 4: also 1/2)")
    group.add_argument("--displacements", type=int_list, default=defaults.displacements, metavar="D,D,...",
                       help="flow generator: the cost window ±d of each flow level, coarse to fine (default: 3 "
                            "at 1/16..1/4, 2 at 1/2); --init-from a model with other windows crops or zero-pads them")


def train_config(cfg) -> dict:
    return {"arch": "flow", "n_in": 2, "n_out": len(cfg.targets), "times": cfg.target_times(),
            "flow_levels": cfg.flow_levels, "displacements": cfg.displacements}


def check_train_config(cfg, need) -> None:
    need(len(cfg.inputs) == 2, f"--arch flow needs 2 --inputs, got {cfg.inputs}")
    need(cfg.size % 32 == 0, f"--size {cfg.size} is not a multiple of 32 (the flow generator's multiple)")
    if cfg.displacements is not None:
        check_displacements(cfg.displacements, cfg.flow_levels, "--displacements")


def check_unused(cfg, need) -> None:
    need(cfg.displacements is None, "--displacements needs --arch flow")
