"""Fused ops: thin Python wrappers over the C++ ops registered as ``torch.ops.pyframegan.*``.

The exact contracts, as plain torch code, are in :mod:`pyframegan.reference`.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch

from pyframegan import _ext
from pyframegan.layout import MAX_STRIP_FRAMES, SEED

_ext.load()  # registers torch.ops.pyframegan.* (clear ImportError when the extension is missing)

SEED_INPUTS, SEED_TARGETS = SEED.inputs, SEED.targets  # the seed layout: tiles "1 2 3 4 5 | 0 6"


def preprocess_strips(strips: torch.Tensor, frames: int = 7, inputs: Sequence[int] = SEED_INPUTS,
                      targets: Sequence[int] = SEED_TARGETS, size: int = 128, load_size: int | None = None,
                      offsets: torch.Tensor | None = None, flip: torch.Tensor | None = None,
                      dtype: torch.dtype | None = None,
                      out: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 strips [B, H, F*W, 3] -> (inputs [B, 3*len(inputs), S, S], targets [B, 3*len(targets), S, S]).

    One kernel: tile selection, optional bilinear resize of each tile to ``load_size``², crop of
    ``size``² at ``offsets`` ((y, x) per strip; centre when None), optional left-right ``flip``
    per strip, ``x / 127.5 - 1`` and conversion to ``dtype`` (default float32), written
    NCHW-contiguous. ``out=(inp, tgt)``: write into these preallocated contiguous tensors instead
    (their dtype is the output dtype; reuse them across steps to skip the allocation).
    """
    args = (strips, frames, list(inputs), list(targets), size, load_size, offsets, flip)
    if out is None:
        return torch.ops.pyframegan.preprocess_strips(*args, dtype or torch.float32)
    if dtype is not None and any(t.dtype != dtype for t in out):
        raise ValueError(f"dtype={dtype} but out has dtypes {out[0].dtype}, {out[1].dtype}")
    torch.ops.pyframegan.preprocess_strips_into(*args, out[0], out[1])
    return out


def pack_pairs(pairs: torch.Tensor, multiple: int = 1, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """uint8 frame pairs [B, 2, H, W, 3] -> normalised [B, 6, Hp, Wp], replicate-padded (bottom/right)
    so that Hp and Wp are multiples of ``multiple``."""
    return torch.ops.pyframegan.pack_pairs(pairs, multiple, dtype)


def unpack_frames(out: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Generator output [B, 3n, Hp, Wp] in [-1, 1] -> uint8 frames [B, n, height, width, 3]
    (rounded half to even, clamped, padding cropped)."""
    return torch.ops.pyframegan.unpack_frames(out, height, width)


def unit_channels(x: torch.Tensor) -> torch.Tensor:
    """``x`` [N, C, H, W] with every pixel's channel vector scaled to length 1 (zero stays zero;
    squares summed in at least float32): ``F.normalize(x, dim=1)``, which on the CPU is ~10x slower
    for NCHW."""
    wide = x.to(torch.promote_types(x.dtype, torch.float32))
    return x * torch.rsqrt((wide * wide).sum(1, keepdim=True).clamp_min(1e-24)).to(x.dtype)


def correlation(f1: torch.Tensor, f2: torch.Tensor, max_displacement: int, normalize: bool = True) -> torch.Tensor:
    """Local cost volume of two feature maps (PWC-Net convention: kernel size 1, stride 1).

    f1, f2 [B, C, H, W] (float32, float64, float16 or bfloat16; same dtype, shape and device)
    -> [B, (2d+1)², H, W] in their dtype, d = ``max_displacement``::

        out[b, k, y, x] = 1/C * sum_c f1[b, c, y, x] * f2[b, c, y + dy, x + dx]
        k = (dy + d) * (2d + 1) + (dx + d),   -d <= dy, dx <= d

    where f2 is zero outside the image (so out is 0 where (y + dy, x + dx) is). Sums are
    accumulated in float32 for the half types. Differentiable in f1 and f2 (a fused backward op).

    ``normalize``: L2-normalise both feature maps over C first (:func:`unit_channels`, done here in
    Python and differentiated by autograd), so that out is the cosine similarity / C.
    The op itself (``torch.ops.pyframegan.correlation``) is the plain correlation.
    """
    if normalize:
        f1, f2 = unit_channels(f1), unit_channels(f2)
    return torch.ops.pyframegan.correlation(f1, f2, max_displacement)


def warp_blend(i0: torch.Tensor, i1: torch.Tensor, flow_t0: torch.Tensor, flow_t1: torch.Tensor,
               mask: torch.Tensor, residual: torch.Tensor | None = None, height: int | None = None,
               width: int | None = None, fallback: torch.Tensor | None = None,
               times: torch.Tensor | None = None) -> torch.Tensor:
    """The engine's fused post-op: warp, blend, residual, uint8 conversion and crop in one kernel.

    i0, i1 [B, 3, Hp, Wp] in [-1, 1] (the padded, normalised input frames: channels 0-2 and 3-5
    of :func:`pack_pairs`; any strides); flow_t0, flow_t1 [B, n, 2, Hp, Wp] backward flows in
    pixels (channel 0: dx, 1: dy; float32 or the frames' dtype); mask [B, n, 1, Hp, Wp], the
    weight of the warped i0 (used as given, not clamped); residual [B, n, 3, Hp, Wp] or None (0).
    i0, i1, mask, residual and fallback share one dtype: float32, float16 or bfloat16.

    Returns uint8 frames [B, n, height, width, 3] (default: Hp, Wp), frame k being::

        v = mask * warp(i0, flow_t0) + (1 - mask) * warp(i1, flow_t1) + residual
        v = v + fallback * (i0 + times[k] * (i1 - i0) - v)          (with the crossfade fallback)
        u8 = clamp(round_half_even(v * 127.5 + 127.5), 0, 255)      (as unpack_frames)

    cropped to the top-left height x width (the padding dropped). warp(img, flow) at pixel (x, y)
    samples img bilinearly at (x + dx, y + dy), that point formed in float32 for every input dtype
    and clamped to [0, Wp-1] x [0, Hp-1] (border padding over the padded frame): exactly
    ``grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=True)`` with
    ``grid = 2 * (base + flow) / (size - 1) - 1`` (see :func:`pyframegan.reference.warp_blend_ref`).
    The crossfade fallback (:mod:`pyframegan.models.hybrid`) gives both ``fallback`` [B, n, 1, Hp, Wp]
    (its weight alpha, from :func:`warp_disagreement`) and ``times`` [n] (float32, each frame's time).
    """
    height = i0.shape[-2] if height is None else height
    width = i0.shape[-1] if width is None else width
    return torch.ops.pyframegan.warp_blend(i0, i1, flow_t0, flow_t1, mask, residual, height, width, fallback, times)


DISAGREEMENT_BLOCK = 4  # the side of warp_disagreement's blocks (csrc/include/pyframegan/warp_math.h: kBlock)


def warp_disagreement(i0: torch.Tensor, i1: torch.Tensor, flow_t0: torch.Tensor, flow_t1: torch.Tensor) -> torch.Tensor:
    """How much the two warps of :func:`warp_blend` disagree, per block of 4 x 4 pixels: float32
    [B, n, 1, ceil(Hp / 4), ceil(Wp / 4)], the mean over the block's pixels (those inside the frame)
    and the 3 channels of ``|warp(i0, flow_t0) - warp(i1, flow_t1)|``; the same arguments and warp as
    :func:`warp_blend`. Equal to ``avg_pool2d(diff.mean(channels), 4, 4, ceil_mode=True)`` of the
    warped frames, without making them (see :func:`pyframegan.reference.warp_disagreement_ref`)."""
    return torch.ops.pyframegan.warp_disagreement(i0, i1, flow_t0, flow_t1)


# OpenCV's DISOpticalFlow presets (patch size 8 in all; refinement alpha 20, gamma 10, delta 5,
# epsilon 0.01 as in OpenCV 5 (4.x: 0.001); mean normalisation and spatial propagation on; the
# coarsest scale chosen from the frame size): finest scale, patch stride, gradient-descent
# iterations, variational refinement iterations.
DIS_PRESETS = {
    "ultrafast": {"finest_scale": 2, "patch_stride": 4, "grad_descent_iters": 12, "refine_iters": 0},
    "fast": {"finest_scale": 2, "patch_stride": 4, "grad_descent_iters": 16, "refine_iters": 5},
    "medium": {"finest_scale": 1, "patch_stride": 3, "grad_descent_iters": 25, "refine_iters": 5},
}
DIS_DEFAULTS = {"coarsest_scale": -1, "patch_size": 8, "alpha": 20.0, "gamma": 10.0, "delta": 5.0, "epsilon": 0.01,
                "mean_normalization": True, "spatial_propagation": True}
DIS_PARAMS = ("finest_scale", "coarsest_scale", "patch_size", "patch_stride", "grad_descent_iters", "refine_iters",
              "alpha", "gamma", "delta", "epsilon", "mean_normalization", "spatial_propagation")


def dis_params(preset: str = "medium", **params) -> dict:
    """The full parameter set of :func:`dis_flow`: OpenCV's ``preset``, with ``params`` overriding it."""
    if preset not in DIS_PRESETS:
        raise ValueError(f"unknown DIS preset {preset!r}; choose one of {', '.join(DIS_PRESETS)}")
    unknown = sorted(set(params) - set(DIS_PARAMS))
    if unknown:
        raise ValueError(f"unknown DIS parameter(s) {', '.join(unknown)}; the parameters are {', '.join(DIS_PARAMS)}")
    return {**DIS_DEFAULTS, **DIS_PRESETS[preset], **params}


def dis_flow(first: torch.Tensor, second: torch.Tensor, preset: str = "medium", **params) -> torch.Tensor:
    """Dense Inverse Search optical flow (Kroeger et al., ECCV 2016) from ``first`` to ``second``,
    computed as OpenCV's ``cv2.DISOpticalFlow`` computes it, on the CPU or a CUDA device.

    ``first``, ``second``: uint8 RGB frames [B, H, W, 3] or [H, W, 3] (turned grey inside with
    OpenCV's RGB->GRAY weights), or float grey [B, 1, H, W] in [0, 1] (rounded to 8 bits, as DIS
    works on 8-bit images); same shape, dtype and device. Returns the float32 flow [B, 2, H, W]
    ([2, H, W] for one [H, W, 3] pair): channel 0 is x, channel 1 is y, in pixels, OpenCV's
    convention ``first(y, x) ~ second(y + flow_y, x + flow_x)``. Every pair is independent.

    ``preset``: ``"ultrafast"``, ``"fast"`` or ``"medium"`` (OpenCV's, see :data:`DIS_PRESETS`);
    ``params`` override any of :data:`DIS_PARAMS`. No gradient flows through the result (DIS is
    a search, not a differentiable function). TorchScript and ``torch.compile`` call the op
    ``torch.ops.pyframegan.dis_flow`` directly with every parameter (:func:`dis_params` lists them).
    """
    p = dis_params(preset, **params)
    single = first.dim() == 3 and first.dtype == torch.uint8
    if single:
        first, second = first.unsqueeze(0), second.unsqueeze(0) if second.dim() == 3 else second
    flow = torch.ops.pyframegan.dis_flow(first, second, *(p[k] for k in DIS_PARAMS))
    return flow[0] if single else flow


def random_crops(batch: int, tile_hw: tuple[int, int], size: int, load_size: int | None = None,
                 flip: bool = True, generator: torch.Generator | None = None,
                 device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Draw crop offsets [batch, 2] (int64) and flips [batch] (bool) for :func:`preprocess_strips`.

    Drawn on the CPU from ``generator`` (reproducible from a seed), then moved to ``device``.
    """
    h, w = (load_size, load_size) if load_size is not None else tile_hw
    if size > h or size > w:
        raise ValueError(f"crop size {size} is larger than the tile ({h}x{w})")
    ys = torch.randint(0, h - size + 1, (batch,), generator=generator)
    xs = torch.randint(0, w - size + 1, (batch,), generator=generator)
    flips = (torch.rand(batch, generator=generator) < 0.5) if flip else torch.zeros(batch, dtype=torch.bool)
    return torch.stack([ys, xs], 1).to(device), flips.to(device)


# --- shapes for FakeTensor / torch.compile --------------------------------------------------------
# The shape-only (fake / meta) kernels check the integer arguments against the same ranges as the C++
# ops (csrc/ops/checks.h: checked_int, kMaxSide, exposed as _C.MAX_SIDE), with the same messages, and
# make the ops' other checks that need no data (dtypes, shapes, tile indices); tests/test_fuzz_ops.py
# holds them to the ops' answers.
MAX_SIDE = _ext.load().MAX_SIDE


def _checked(v: int, lo: int, hi: int, op: str, name: str) -> int:
    if not lo <= v <= hi:
        raise ValueError(f"pyframegan: {op}: {name} must be in [{lo}, {hi}], got {v}")
    return v


_FLOAT_OUT = (torch.float32, torch.float16, torch.bfloat16)


def _check_output_dtype(dtype: torch.dtype) -> None:
    if dtype not in _FLOAT_OUT:
        raise TypeError(f"pyframegan: dtype must be torch.float32, torch.float16 or torch.bfloat16, got {dtype}")


def _check_uint8_image(t: torch.Tensor, name: str, dim: int, layout: str) -> None:
    if t.dtype != torch.uint8:
        raise TypeError(f"pyframegan: {name} must be a uint8 tensor, got {t.dtype}")
    if t.dim() != dim:
        raise ValueError(f"pyframegan: {name} must have shape {layout} ({dim} dimensions), got {list(t.shape)}")
    if t.shape[-1] != 3:
        raise ValueError(f"pyframegan: {name} must have 3 (RGB) channels in its last dimension, got {list(t.shape)}")


def _strip_shapes(strips, frames, inputs, targets, size, load_size, offsets, flip, dtype):
    """The checks of csrc/ops/preprocess_strips.cpp that need no data (offsets' values do), in its
    order; the two output shapes."""
    _check_uint8_image(strips, "strips", 4, "[B, H, F*W, 3]")
    _check_output_dtype(dtype)
    if not 1 <= frames <= MAX_STRIP_FRAMES:
        raise ValueError(f"pyframegan: frames must be in [1, {MAX_STRIP_FRAMES}], got {frames}")
    batch, height, strip_w = strips.shape[:3]
    if strip_w % frames:
        raise ValueError(f"pyframegan: strip width {strip_w} is not divisible by frames={frames}")
    tile_w = strip_w // frames
    if height <= 0 or tile_w <= 0:
        raise ValueError(f"pyframegan: strips have empty tiles ({height}x{tile_w})")
    if not inputs or not targets:
        raise ValueError("pyframegan: inputs and targets must each name at least one tile")
    if len(inputs) + len(targets) > MAX_STRIP_FRAMES:
        raise ValueError(f"pyframegan: at most {MAX_STRIP_FRAMES} tiles can be selected")
    _checked(size, 1, MAX_SIDE, "preprocess_strips", "size")
    if load_size is not None:
        _checked(load_size, 1, MAX_SIDE, "preprocess_strips", "load_size")
    _checked(height, 1, MAX_SIDE, "preprocess_strips", "the strip height")
    _checked(tile_w, 1, MAX_SIDE, "preprocess_strips", "the tile width")
    h, w = (load_size, load_size) if load_size is not None else (height, tile_w)
    if size > h or size > w:
        raise ValueError(f"pyframegan: crop size {size} is larger than the {'resized ' if load_size else ''}"
                         f"tile ({h}x{w})")
    for k, t in enumerate([*inputs, *targets]):
        if not 0 <= t < frames:
            raise ValueError(f"pyframegan: tile index {t} in {'inputs' if k < len(inputs) else 'targets'} is out of "
                             f"range for frames={frames}")
    if offsets is not None and (offsets.dim() != 2 or offsets.shape[0] != batch or offsets.shape[1] != 2):
        raise ValueError(f"pyframegan: offsets must have shape [{batch}, 2] (y, x per strip), "
                         f"got {list(offsets.shape)}")
    if flip is not None and (flip.dim() != 1 or flip.shape[0] != batch):
        raise ValueError(f"pyframegan: flip must have shape [{batch}], got {list(flip.shape)}")
    return (batch, 3 * len(inputs), size, size), (batch, 3 * len(targets), size, size)


@torch.library.register_fake("pyframegan::preprocess_strips")
def _(strips, frames, inputs, targets, size, load_size, offsets, flip, dtype):
    inp, tgt = _strip_shapes(strips, frames, inputs, targets, size, load_size, offsets, flip, dtype)
    return strips.new_empty(inp, dtype=dtype), strips.new_empty(tgt, dtype=dtype)


@torch.library.register_fake("pyframegan::preprocess_strips_into")
def _(strips, frames, inputs, targets, size, load_size, offsets, flip, inp, tgt):
    shapes = _strip_shapes(strips, frames, inputs, targets, size, load_size, offsets, flip, inp.dtype)
    for t, name, shape in ((inp, "inp", shapes[0]), (tgt, "tgt", shapes[1])):
        if t.dtype != inp.dtype:
            raise TypeError(f"pyframegan: {name} is {t.dtype} but the other output is {inp.dtype}; both outputs must "
                            "have the same dtype")
        if tuple(t.shape) != shape:
            raise ValueError(f"pyframegan: {name} must have shape {list(shape)}, got {list(t.shape)}")
    return None


@torch.library.register_fake("pyframegan::pack_pairs")
def _(pairs, multiple, dtype):
    _check_uint8_image(pairs, "pairs", 5, "[B, 2, H, W, 3]")
    _check_output_dtype(dtype)
    b, two, h, w, _ = pairs.shape
    if two != 2:
        raise ValueError(f"pyframegan: pairs must hold 2 frames per item ([B, 2, H, W, 3]), got {list(pairs.shape)}")
    if h <= 0 or w <= 0:
        raise ValueError(f"pyframegan: frames are empty: {list(pairs.shape)}")
    _checked(multiple, 1, 4096, "pack_pairs", "multiple")
    _checked(h, 1, MAX_SIDE, "pack_pairs", "the frame height")
    _checked(w, 1, MAX_SIDE, "pack_pairs", "the frame width")
    return pairs.new_empty((b, 6, -(-h // multiple) * multiple, -(-w // multiple) * multiple), dtype=dtype)


@torch.library.register_fake("pyframegan::unpack_frames")
def _(out, height, width):
    if out.dtype not in _FLOAT_OUT:
        raise TypeError(f"pyframegan: generator output must be float32, float16 or bfloat16, got {out.dtype}")
    if out.dim() != 4 or out.shape[1] % 3 or out.shape[1] == 0:
        raise ValueError(f"pyframegan: generator output must have shape [B, 3*n, H, W], got {list(out.shape)}")
    if not (1 <= height <= out.shape[2] and 1 <= width <= out.shape[3]):
        raise ValueError(f"pyframegan: cannot crop {height}x{width} frames from a {out.shape[2]}x{out.shape[3]} "
                         "generator output")
    frames = _checked(out.shape[1] // 3, 1, 1 << 20, "unpack_frames", "the number of frames")
    _checked(height, 1, MAX_SIDE, "unpack_frames", "height")
    _checked(width, 1, MAX_SIDE, "unpack_frames", "width")
    return out.new_empty((out.shape[0], frames, height, width, 3), dtype=torch.uint8)


@torch.library.register_fake("pyframegan::correlation")
def _(f1, f2, max_displacement):
    _checked(max_displacement, 0, 1024, "correlation", "max_displacement")
    b, _, h, w = f1.shape
    return f1.new_empty((b, (2 * max_displacement + 1) ** 2, h, w))


@torch.library.register_fake("pyframegan::correlation_backward")
def _(grad, f1, f2, max_displacement):  # the kernel writes channels-last gradients
    return tuple(torch.empty(f1.shape, dtype=f1.dtype, device=f1.device, memory_format=torch.channels_last)
                 for _ in range(2))


@torch.library.register_fake("pyframegan::dis_flow")
def _(first, second, finest_scale, coarsest_scale, patch_size, patch_stride, grad_descent_iters, refine_iters, alpha,
      gamma, delta, epsilon, mean_normalization, spatial_propagation):
    _checked(finest_scale, 0, 10, "dis_flow", "finest_scale")
    _checked(coarsest_scale, -1, 10, "dis_flow", "coarsest_scale (-1: chosen from the frame size)")
    _checked(patch_size, 2, 16, "dis_flow", "patch_size")
    _checked(patch_stride, 1, patch_size, "dis_flow", "patch_stride (at most patch_size)")
    _checked(grad_descent_iters, 1, 1000, "dis_flow", "grad_descent_iters")
    _checked(refine_iters, 0, 1000, "dis_flow", "refine_iters")
    for name, v in (("alpha", alpha), ("gamma", gamma), ("delta", delta), ("epsilon", epsilon)):
        if not (math.isfinite(v) and 0 <= v <= 1e6):
            raise ValueError(f"pyframegan: dis_flow: {name} must be a finite number in [0, 1e6], got {v}")
    if not epsilon > 0:
        raise ValueError(f"pyframegan: dis_flow: epsilon must be positive, got {epsilon}")
    h, w = (first.shape[1], first.shape[2]) if first.dtype == torch.uint8 else (first.shape[2], first.shape[3])
    if h > 16384 or w > 16384:
        raise ValueError(f"pyframegan: dis_flow: frames of {w}x{h} are too large (at most 16384 pixels a side)")
    if 0 <= coarsest_scale < finest_scale:
        raise ValueError(f"pyframegan: dis_flow: coarsest_scale ({coarsest_scale}) must be at least finest_scale "
                         f"({finest_scale}), or -1 to choose it from the frame size")
    return first.new_empty((first.shape[0], 2, h, w), dtype=torch.float32)


@torch.library.register_fake("pyframegan::warp_blend")
def _(i0, i1, flow_t0, flow_t1, mask, residual, height, width, fallback=None, times=None):
    n = flow_t0.shape[1]
    if n < 1:
        raise ValueError("pyframegan: warp_blend: the flows hold no frames (n = 0)")
    if (fallback is None) != (times is None):
        raise ValueError("pyframegan: warp_blend: the crossfade fallback needs both fallback (alpha) and times, got "
                         f"{'fallback' if fallback is not None else 'times'} alone")
    if times is not None and tuple(times.shape) != (n,):
        raise ValueError(f"pyframegan: warp_blend: times must have shape [{n}] (one time a frame), got "
                         f"{list(times.shape)}")
    _checked(height, 1, i0.shape[2], "warp_blend", "height")
    _checked(width, 1, i0.shape[3], "warp_blend", "width")
    return i0.new_empty((i0.shape[0], flow_t0.shape[1], height, width, 3), dtype=torch.uint8)


@torch.library.register_fake("pyframegan::warp_disagreement")
def _(i0, i1, flow_t0, flow_t1):
    side = DISAGREEMENT_BLOCK
    return i0.new_empty((i0.shape[0], flow_t0.shape[1], 1, -(-i0.shape[2] // side), -(-i0.shape[3] // side)),
                        dtype=torch.float32)


# --- autograd -------------------------------------------------------------------------------------
def _correlation_setup_context(ctx, inputs, output):
    f1, f2, max_displacement = inputs
    ctx.save_for_backward(f1, f2)
    ctx.max_displacement = max_displacement


def _correlation_backward(ctx, grad):
    f1, f2 = ctx.saved_tensors
    grad_f1, grad_f2 = torch.ops.pyframegan.correlation_backward(grad, f1, f2, ctx.max_displacement)
    return grad_f1, grad_f2, None


torch.library.register_autograd("pyframegan::correlation", _correlation_backward,
                                setup_context=_correlation_setup_context)
