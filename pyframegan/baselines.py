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

Three diagnostics see the true in-between frames, so they are not methods but measures of the
clips (all need OpenCV): :func:`oracle` warps the inputs with the flows of the true frames, an upper
bound for warping and blending; :func:`oracle_shift` moves each of DIS's frames by the one global
translation that fits the true frame best, which measures what the camera's shake alone costs;
:func:`motion` says how far the content moves and how far that motion is from linear.

:func:`unavailable` says why a baseline cannot run here (``None`` when it can), so that callers can
skip it with a note instead of failing.
"""
from __future__ import annotations

import shutil
import subprocess
from typing import Callable

import numpy as np

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
        f_t0 = -(1 - t) * t * f01 + t * t * f10
        f_t1 = (1 - t) ** 2 * f01 - t * (1 - t) * f10
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


# --- diagnostics that see the true in-between frames (not methods) ---------------------------------------
ORACLE = "oracle"
SHIFT_ORACLE = "oracle-shift"


def _check_truth(a: np.ndarray, truth: "list[np.ndarray]") -> None:
    for k, g in enumerate(truth):
        if not isinstance(g, np.ndarray) or g.shape != a.shape or g.dtype != np.uint8:
            raise ValueError(f"true frame {k} must be a uint8 array of shape {a.shape}, got "
                             f"{getattr(g, 'dtype', type(g).__name__)} {getattr(g, 'shape', '')}")


def oracle(a: np.ndarray, b: np.ndarray, truth: "list[np.ndarray]") -> list[np.ndarray]:
    """Not an interpolator: an upper bound for "warp the two inputs and blend them".

    For each *true* in-between frame ``g`` at time ``t = k / (n + 1)``, DIS flows from ``g`` to
    ``a`` and from ``g`` to ``b`` say where each of its pixels is in the inputs; ``a`` and ``b`` are
    backward-warped with them and blended ``(1 - t) warp_a + t warp_b``. This is what :func:`dis`
    would give if it knew the motion at time ``t`` instead of assuming it is linear, so the gap
    between the two shows how much of the error comes from motion that the two inputs do not
    determine.
    """
    n = len(truth)
    _check(a, b, n)
    _check_truth(a, truth)
    cv2 = _cv2()
    gray_a, gray_b = _gray(cv2, a), _gray(cv2, b)
    warp = _warper(cv2, a, b)
    out = []
    for k, g in enumerate(truth, 1):
        t = k / (n + 1)
        gray_g = _gray(cv2, g)
        out.append(_to_uint8((1 - t) * warp(0, _dis_flow(cv2, gray_g, gray_a))
                             + t * warp(1, _dis_flow(cv2, gray_g, gray_b))))
    return out


def oracle_shift(a: np.ndarray, b: np.ndarray, truth: "list[np.ndarray]") -> list[np.ndarray]:
    """Not an interpolator: :func:`dis`'s frames, each moved by the one global translation (two
    numbers per frame, sub-pixel) that best aligns it with its *true* frame (OpenCV's ECC,
    ``findTransformECC`` with ``MOTION_TRANSLATION``, on grayscale; no shift where ECC does not
    converge). A hand-held camera shakes between the frames, and the shake of an in-between frame is
    not in the two inputs; the gain of this diagnostic over ``dis`` is what two numbers per frame
    of that unknowable motion are worth.
    """
    n = len(truth)
    _check(a, b, n)
    _check_truth(a, truth)
    frames = dis(a, b, n)
    cv2 = _cv2()
    h, w = a.shape[:2]
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-6)
    out = []
    for frame, g in zip(frames, truth):
        shift = np.eye(2, 3, dtype=np.float32)
        try:
            _, shift = cv2.findTransformECC(_gray(cv2, g).astype(np.float32), _gray(cv2, frame).astype(np.float32),
                                            shift, cv2.MOTION_TRANSLATION, criteria, None, 1)
        except cv2.error:  # ECC did not converge (e.g. a flat frame): keep DIS's frame as it is
            out.append(frame)
            continue
        out.append(cv2.warpAffine(frame, shift, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                  borderMode=cv2.BORDER_REPLICATE))
    return out


def motion(a: np.ndarray, b: np.ndarray, middle: np.ndarray) -> dict:
    """How far, and how linearly, the content moves between ``a``, the true ``middle`` frame (time
    1/2) and ``b``, from DIS flows: ``motion_px`` the mean length of the flows from the middle frame
    to ``a`` and to ``b`` (pixels), ``nonlinear_px`` the mean length of their sum. Under linear
    motion the middle frame is half-way, the two flows cancel and ``nonlinear_px`` is ~0; where it
    is as large as ``motion_px``, no two-frame method can know where the content is at ``t = 1/2``.
    """
    _check(a, b, 1)
    _check_truth(a, [middle])
    cv2 = _cv2()
    gray_m = _gray(cv2, middle)
    to_a, to_b = _dis_flow(cv2, gray_m, _gray(cv2, a)), _dis_flow(cv2, gray_m, _gray(cv2, b))
    return {"motion_px": (_mean_length(to_a) + _mean_length(to_b)) / 2, "nonlinear_px": _mean_length(to_a + to_b)}


def _mean_length(flow: np.ndarray) -> float:
    return float(np.sqrt((flow.astype(np.float64) ** 2).sum(-1)).mean())


# --- registry --------------------------------------------------------------------------------------------
DIS_OURS = "dis-ours"
BASELINES: dict[str, Baseline] = {"blend": blend, "dis": dis, DIS_OURS: dis_ours, "minterpolate": minterpolate}
ORACLES = {ORACLE: oracle, SHIFT_ORACLE: oracle_shift}  # (a, b, truth) -> frames; not methods
ORACLE_NOTES = {  # what each oracle measures, for the table's footnotes and the --baselines help
    ORACLE: "the inputs warped with the flows of the true in-between frames, an upper bound for warp-and-blend",
    SHIFT_ORACLE: "DIS's frames, each moved by the one global translation that fits its true frame: "
                  "what the camera's shake alone costs",
}
NAMES = (*BASELINES, *ORACLES)  # what ``--baselines`` takes


def check_name(name: str) -> None:
    """ValueError for a name that is neither a baseline nor an oracle."""
    if name not in NAMES:
        raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)} "
                         f"(or the diagnostics {', '.join(ORACLES)})")


def opencv_missing(flow: bool = True) -> str | None:
    """Why OpenCV's DIS flow (the ``dis`` baseline, the oracles, :func:`motion`) cannot run here, or
    None. ``flow=False``: why OpenCV itself (the warp of ``dis-ours``) cannot."""
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


def unavailable(name: str) -> str | None:
    """Why baseline ``name`` cannot run here, or None when it can."""
    check_name(name)
    if name == "dis" or name in ORACLES:
        return opencv_missing()
    if name == DIS_OURS:
        return opencv_missing(flow=False) or extension_missing()
    if name == "minterpolate" and shutil.which("ffmpeg") is None:
        return "no ffmpeg binary on the PATH (e.g. apt-get install ffmpeg)"
    return None
