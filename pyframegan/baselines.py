"""Classical frame interpolation baselines that ``pyframegan evaluate`` compares the model with.

Each baseline is a function ``(a, b, n) -> list of n uint8 frames``: given two uint8 RGB frames
``a`` (time 0) and ``b`` (time 1) of one size [H, W, 3], the frames at times ``k / (n + 1)`` for
``k = 1 .. n``, in time order. Only ``a`` and ``b`` are used as information.

* ``blend``: the linear crossfade ``(1 - t) a + t b``. Needs nothing.
* ``dis``: OpenCV's DIS optical flow both ways and the linear-motion interpolation of Super SloMo.
  Needs OpenCV (``pip install opencv-python-headless``, or ``pip install pyframegan[eval]``).
* ``dis-ours``: the same, with the flows from pyframegan's own DIS, :func:`pyframegan.ops.dis_flow`
  (preset medium), instead of OpenCV's. Needs the C++ extension, and OpenCV for the warp.
* ``minterpolate``: FFmpeg's motion-compensated ``minterpolate`` filter. Needs an ``ffmpeg``
  binary on the PATH (e.g. ``apt-get install ffmpeg``); pyframegan itself never does.

The diagnostics that see the true in-between frames are in :mod:`pyframegan.diagnostics`; the
registry of all of them, with what each needs, in :mod:`pyframegan.methods`.
"""
from __future__ import annotations

import shutil
import subprocess
from typing import Callable

import numpy as np

from pyframegan.warp import linear_motion_flows

Baseline = Callable[[np.ndarray, np.ndarray, int], "list[np.ndarray]"]
Flows = Callable[[np.ndarray, np.ndarray], "tuple[np.ndarray, np.ndarray]"]  # (a, b) -> (F01, F10) [H, W, 2]


def _check(a: np.ndarray, b: np.ndarray, n: int) -> None:
    for name, x in (("a", a), ("b", b)):
        if not isinstance(x, np.ndarray) or x.dtype != np.uint8 or x.ndim != 3 or x.shape[2] != 3:
            raise ValueError(f"{name} must be a uint8 numpy array of shape HxWx3, got "
                             f"{getattr(x, 'dtype', type(x).__name__)} {getattr(x, 'shape', '')}")
    if a.shape != b.shape:
        raise ValueError(f"a is {a.shape} but b is {b.shape}; frames must match")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")


# --- crossfade --------------------------------------------------------------------------------------
def blend(a: np.ndarray, b: np.ndarray, n: int) -> list[np.ndarray]:
    """The crossfade ``(1 - t) a + t b`` at ``t = k / (n + 1)``, rounded half up.

    Computed exactly in integers: ``((n + 1 - k) a + k b + (n + 1) // 2) // (n + 1)``.
    """
    _check(a, b, n)
    d = n + 1
    a32, b32 = a.astype(np.int32), b.astype(np.int32)
    return [((a32 * (d - k) + b32 * k + d // 2) // d).astype(np.uint8) for k in range(1, n + 1)]


# --- DIS optical flow + linear motion -------------------------------------------------------------------
def _cv2():
    import cv2  # optional dependency: imported only when the baseline runs
    return cv2


def _gray(cv2, image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


DIS_MIN_SIDE = 12  # OpenCV's DIS needs the width or the height to be at least this


def _dis_flow(cv2, gray_from: np.ndarray, gray_to: np.ndarray) -> np.ndarray:
    """DIS flow [H, W, 2] (preset MEDIUM) in the backward-warp convention: from(x) ~ to(x + flow(x))."""
    if max(gray_from.shape) < DIS_MIN_SIDE:
        raise ValueError(f"DIS flow needs frames at least {DIS_MIN_SIDE} px wide or high, got "
                         f"{gray_from.shape[1]}x{gray_from.shape[0]}")
    return cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(gray_from, gray_to, None)


def _warper(cv2, a: np.ndarray, b: np.ndarray):
    """``warp(which, f)``: ``a`` (which 0) or ``b`` (which 1) at ``x + f(x)``, bilinear, border
    replicated, float32. The pixel grid and the float copies are made once, for all the calls."""
    h, w = a.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    images = (a.astype(np.float32), b.astype(np.float32))

    def warp(which: int, f: np.ndarray) -> np.ndarray:
        return cv2.remap(images[which], grid_x + f[..., 0], grid_y + f[..., 1], cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REPLICATE)

    return warp


def _to_uint8(frame: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def _ops():
    from pyframegan import ops  # the C++ extension: imported only when ``dis-ours`` runs
    return ops


def _opencv_flows(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OpenCV's DIS flows [H, W, 2] from ``a`` to ``b`` and from ``b`` to ``a``."""
    cv2 = _cv2()
    gray_a, gray_b = _gray(cv2, a), _gray(cv2, b)
    return _dis_flow(cv2, gray_a, gray_b), _dis_flow(cv2, gray_b, gray_a)


def _op_flows(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same flows from :func:`pyframegan.ops.dis_flow` (preset medium), both in one call: the
    pairs (a, b) and (b, a) as a batch of two, on the CPU."""
    import torch
    first, second = torch.from_numpy(np.stack([a, b])), torch.from_numpy(np.stack([b, a]))
    flows = _ops().dis_flow(first, second, preset="medium").permute(0, 2, 3, 1).numpy()  # [2, H, W, 2]
    return flows[0], flows[1]


def _linear_motion(a: np.ndarray, b: np.ndarray, n: int, flows: Flows) -> list[np.ndarray]:
    """The linear-motion frames of :func:`dis`, with ``flows(a, b) -> (F01, F10)``."""
    _check(a, b, n)
    f01, f10 = flows(a, b)
    warp = _warper(_cv2(), a, b)
    out = []
    for k in range(1, n + 1):
        t = k / (n + 1)
        f_t0, f_t1 = linear_motion_flows(f01, f10, t)
        out.append(_to_uint8((1 - t) * warp(0, f_t0) + t * warp(1, f_t1)))
    return out


def dis(a: np.ndarray, b: np.ndarray, n: int) -> list[np.ndarray]:
    """Dense Inverse Search flow (OpenCV, preset MEDIUM) on grayscale, both ways, then linear motion.

    With ``F01`` the flow from ``a`` to ``b`` and ``F10`` from ``b`` to ``a`` (backward-warp
    convention: ``a(x) ~ b(x + F01(x))``), the flows from time ``t`` to the two inputs are
    approximated as in Super SloMo (H. Jiang, D. Sun, V. Jampani, M.-H. Yang, E. Learned-Miller,
    J. Kautz: "Super SloMo: High Quality Estimation of Multiple Intermediate Frames for Video
    Interpolation", CVPR 2018, eq. 4):

        F_t0 = -(1 - t) t F01 + t^2 F10
        F_t1 = (1 - t)^2 F01 - t (1 - t) F10

    ``a`` is backward-warped with ``F_t0`` and ``b`` with ``F_t1`` (bilinear, border replicated)
    and the two are blended ``(1 - t) warp_a + t warp_b`` (no visibility maps).
    """
    return _linear_motion(a, b, n, _opencv_flows)


def dis_ours(a: np.ndarray, b: np.ndarray, n: int) -> list[np.ndarray]:
    """:func:`dis` with the flows of pyframegan's own DIS, :func:`pyframegan.ops.dis_flow` (preset
    medium, which computes OpenCV's DIS; the same grayscale and flow convention), instead of
    OpenCV's; the warp and the blend are :func:`dis`'s. Frames too small for DIS (each side at least
    8 px, one at least 12) raise ValueError."""
    return _linear_motion(a, b, n, _op_flows)


# --- FFmpeg minterpolate -------------------------------------------------------------------------------
MINTERPOLATE = "mi_mode=mci:mc_mode=aobmc:me_mode=bidir:scd=none"


def minterpolate(a: np.ndarray, b: np.ndarray, n: int, ffmpeg: str | None = None) -> list[np.ndarray]:
    """FFmpeg's ``minterpolate`` (motion-compensated: ``mi_mode=mci:mc_mode=aobmc:me_mode=bidir``).

    The frames go to ``ffmpeg`` as raw RGB (lossless, through pipes) at 1 fps and come back at
    ``n + 1`` fps, so output frame ``k`` is time ``k / (n + 1)``: frame 0 is ``a``, frames
    ``1 .. n`` are the in-between frames. The filter only emits the frames between its last two
    inputs once it has seen one more, so the stream sent is ``a, b, b`` (the extra frame is ``b``
    repeated: no information beyond the two inputs). Scene-change detection is turned off
    (``scd=none``): evaluation windows never cross a cut, and with it on the filter would fall back
    to repeating frames on large changes. ``minterpolate`` works in YUV: the frames are converted to
    full-range 4:4:4 (``yuvj444p``) and back, which costs ~0.5 gray levels of rounding.
    """
    _check(a, b, n)
    ffmpeg = ffmpeg or shutil.which("ffmpeg")
    if ffmpeg is None:
        raise FileNotFoundError("the minterpolate baseline needs an ffmpeg binary on the PATH")
    h, w = a.shape[:2]
    cmd = [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-framerate", "1", "-i", "pipe:0",
           "-vf", f"format=yuvj444p,minterpolate=fps={n + 1}:{MINTERPOLATE}",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"]
    data = b"".join(np.ascontiguousarray(f).tobytes() for f in (a, b, b))
    result = subprocess.run(cmd, input=data, capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"ffmpeg minterpolate failed: {result.stderr.decode(errors='replace').strip()}")
    size = h * w * 3
    count = len(result.stdout) // size
    if count < n + 1:
        raise RuntimeError(f"ffmpeg minterpolate returned {count} frames, expected at least {n + 1}")
    frames = np.frombuffer(result.stdout[:count * size], np.uint8).reshape(count, h, w, 3)
    return [frames[k].copy() for k in range(1, n + 1)]


# --- what each needs ------------------------------------------------------------------------------------
def opencv_missing(flow: bool = True) -> str | None:
    """Why OpenCV's DIS flow (the ``dis`` baseline, the diagnostics) cannot run here, or None.
    ``flow=False``: why OpenCV itself (the warp of ``dis-ours``) cannot."""
    try:
        cv2 = _cv2()
    except ImportError:
        return "OpenCV is not installed (pip install opencv-python-headless, or pip install 'pyframegan[eval]')"
    if flow and not hasattr(cv2, "DISOpticalFlow_create"):
        return f"this OpenCV ({cv2.__version__}) has no DISOpticalFlow_create"
    return None


def extension_missing() -> str | None:
    """Why pyframegan's C++ extension (:func:`pyframegan.ops.dis_flow`, for ``dis-ours``) cannot load, or None."""
    try:
        _ops()
    except ImportError as exc:
        return str(exc)
    return None


def ffmpeg_missing() -> str | None:
    """Why ``minterpolate`` cannot run here (no ffmpeg binary), or None."""
    return None if shutil.which("ffmpeg") else "no ffmpeg binary on the PATH (e.g. apt-get install ffmpeg)"
