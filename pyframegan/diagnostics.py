"""Diagnostics that see the true in-between frames: not interpolators, but measures of the clips
(all need OpenCV). :func:`oracle` warps the inputs with the flows of the true frames, an upper bound
for warping and blending; :func:`oracle_shift` moves each of DIS's frames by the one global
translation that fits the true frame best, which measures what the camera's shake alone costs;
:func:`motion` says how far the content moves and how far that motion is from linear. Their names
and labels are in the one registry of methods, :mod:`pyframegan.methods`."""
from __future__ import annotations

import numpy as np

from pyframegan import baselines
from pyframegan.baselines import _check, _dis_flow, _gray, _to_uint8, _warper, dis


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
    cv2 = baselines._cv2()
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
    cv2 = baselines._cv2()
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
    cv2 = baselines._cv2()
    gray_m = _gray(cv2, middle)
    to_a, to_b = _dis_flow(cv2, gray_m, _gray(cv2, a)), _dis_flow(cv2, gray_m, _gray(cv2, b))
    return {"motion_px": (_mean_length(to_a) + _mean_length(to_b)) / 2, "nonlinear_px": _mean_length(to_a + to_b)}


def _mean_length(flow: np.ndarray) -> float:
    return float(np.sqrt((flow.astype(np.float64) ** 2).sum(-1)).mean())


