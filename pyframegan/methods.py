"""The one registry of what `pyframegan evaluate` compares the model with: each method's name, its
label in tables and pictures, the function, what it needs (why it cannot run here, or None) and
whether it is a diagnostic (sees the true in-between frames: a measure of the clips, not a method).
The functions are in :mod:`pyframegan.baselines` and :mod:`pyframegan.diagnostics`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from pyframegan import baselines, diagnostics

Frames = "list[np.ndarray]"
DIS_OURS, ORACLE, SHIFT_ORACLE = "dis-ours", "oracle", "oracle-shift"
MODEL = "pyframegan"  # the model's name in reports
MODEL_LABEL = "pyframegan"


@dataclass(frozen=True)
class Method:
    name: str
    label: str
    run: Callable[[np.ndarray, np.ndarray, Frames, int], Frames]  # (a, b, true frames, n) -> n frames
    missing: Callable[[], "str | None"]
    diagnostic: bool = False
    note: str = ""  # a diagnostic: what it measures


def _pair(fn: Callable[[np.ndarray, np.ndarray, int], Frames]):
    return lambda a, b, truth, n: fn(a, b, n)


def _truth(fn: Callable[[np.ndarray, np.ndarray, Frames], Frames]):
    return lambda a, b, truth, n: fn(a, b, truth)


METHODS: dict[str, Method] = {m.name: m for m in (
    Method("blend", "blend (crossfade)", _pair(baselines.blend), lambda: None),
    Method("dis", "DIS flow", _pair(baselines.dis), baselines.opencv_missing),
    Method(DIS_OURS, "pyframegan dis_flow op + linear-motion warp", _pair(baselines.dis_ours),
           lambda: baselines.opencv_missing(flow=False) or baselines.extension_missing()),
    Method("minterpolate", "ffmpeg minterpolate", _pair(baselines.minterpolate), baselines.ffmpeg_missing),
    Method(ORACLE, "oracle (true motion)", _truth(diagnostics.oracle), baselines.opencv_missing, True,
           "the inputs warped with the flows of the true in-between frames, an upper bound for warp-and-blend"),
    Method(SHIFT_ORACLE, "DIS + true global shift", _truth(diagnostics.oracle_shift), baselines.opencv_missing, True,
           "DIS's frames, each moved by the one global translation that fits its true frame: "
           "what the camera's shake alone costs"),
)}
BASELINES = tuple(n for n, m in METHODS.items() if not m.diagnostic)
DIAGNOSTICS = tuple(n for n, m in METHODS.items() if m.diagnostic)


def check_name(name: str) -> None:
    """ValueError for a name that is neither a baseline nor a diagnostic."""
    if name not in METHODS:
        raise ValueError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)} "
                         f"(or the diagnostics {', '.join(DIAGNOSTICS)})")


def unavailable(name: str) -> str | None:
    """Why method ``name`` cannot run here, or None when it can."""
    check_name(name)
    return METHODS[name].missing()


def label(name: str) -> str:
    return MODEL_LABEL if name == MODEL else METHODS[name].label
