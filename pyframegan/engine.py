"""Inference: run an exported generator on pairs of uint8 frames.

`Interpolator` checks the frames in Python (clear errors for arrays that are not RGB uint8
frames) and hands them to the C++ engine ``pyframegan._C.Interpolator`` (csrc/engine), which runs
``pack_pairs`` (uint8 pairs -> padded, normalised NCHW) -> the TorchScript generator ->
``unpack_frames`` (-> uint8 frames, padding cropped) without Python in the loop and with the GIL
released.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch

from pyframegan import _ext

MAX_FRAMES_BETWEEN = 1024  # the most frames asked between two inputs (n)
# the most frames x pixels one model call composes (its per-time flows, mask and fallback take about 27
# bytes a pixel in float32: under 2 GB); a larger call is split into calls on fewer pairs, and a single
# pair into calls at fewer times (n = 1024 at 1080p asked for some 57 GB in one call)
PIXEL_TIMES = 1 << 26
MIN_SIDE = 8  # the smallest frame side; the C++ engine's Interpolator::kMinSide (a test checks they agree)
DEFAULT_MODEL = Path(__file__).parent / "weights" / "default.pt"


def _check_dense(t: torch.Tensor, name: str) -> None:
    if t.layout != torch.strided:  # a sparse tensor reached the C++ engine as an opaque RuntimeError
        raise ValueError(f"{name} must be a dense array or tensor, got a {str(t.layout).replace('torch.', '')} tensor")


def _times(times) -> list[float] | None:
    """``times`` as a list of floats (None stays None), or a ValueError naming it; the C++ engine
    checks that each lies in (0, 1)."""
    if times is None:
        return None
    try:
        if isinstance(times, (str, bytes)) or not 1 <= len(times) <= MAX_FRAMES_BETWEEN:
            raise ValueError
        return [float(t) for t in times]
    except (TypeError, ValueError):  # no len() (a number, a 0-d tensor), items that are not numbers
        raise ValueError(f"times must be a sequence of 1 to {MAX_FRAMES_BETWEEN} numbers in (0, 1), "
                         f"got {times!r}") from None


def _still_pairs(a, b, before, after) -> torch.Tensor | None:
    """For batched pairs [B, H, W, 3] (with context frames of their shape, if any): a bool [B], True
    where a pair's two frames are identical; None for anything else (the C++ engine says what is wrong)."""
    frames = [t for t in (a, b, before, after) if t is not None]
    if not all(isinstance(t, torch.Tensor) and t.dim() == 4 and t.shape == a.shape and t.dtype == torch.uint8
               and t.device == a.device for t in frames):
        return None
    return torch.tensor([torch.equal(x, y) for x, y in zip(a, b)], dtype=torch.bool)


def _as_frame(x, name: str) -> torch.Tensor:
    """A uint8 HxWx3 frame as a CPU tensor, or a ValueError that says what is wrong with it."""
    if isinstance(x, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(x))
    elif isinstance(x, torch.Tensor):
        t = x.detach().cpu()
    else:
        raise ValueError(f"{name} must be a numpy array or torch tensor, got {type(x).__name__}")
    _check_dense(t, name)
    if t.dtype != torch.uint8:
        raise ValueError(f"{name} must be uint8 (0..255), got {str(t.dtype).replace('torch.', '')}")
    if t.dim() == 2:
        raise ValueError(f"{name} is grayscale ({tuple(t.shape)}); pass RGB frames, e.g. np.stack([g] * 3, -1)")
    if t.dim() != 3 or t.shape[2] not in (3, 4):
        raise ValueError(f"{name} must have shape HxWx3, got {tuple(t.shape)}")
    if t.shape[2] == 4:
        raise ValueError(f"{name} is RGBA; pass RGB frames (e.g. frame[..., :3])")
    if min(t.shape[0], t.shape[1]) < MIN_SIDE:
        raise ValueError(f"{name} is {t.shape[0]}x{t.shape[1]}: frames must be at least {MIN_SIDE}x{MIN_SIDE}")
    return t


# the engine's dtypes, by the names people give them
DTYPES = {"float32": torch.float32, "float": torch.float32, "fp32": torch.float32, "float16": torch.float16,
          "half": torch.float16, "fp16": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}


def as_dtype(dtype: torch.dtype | str) -> torch.dtype:
    """``dtype`` as a torch.dtype (names such as "float16" or "bf16" accepted); the C++ engine checks
    that it is one it runs (float32, float16, bfloat16)."""
    if isinstance(dtype, torch.dtype):
        return dtype
    if isinstance(dtype, str) and dtype.lower() in DTYPES:
        return DTYPES[dtype.lower()]
    raise ValueError(f"dtype must be a torch.dtype or one of {', '.join(DTYPES)}, got {dtype!r}")


class Interpolator:
    """A loaded generator: ``.interpolate(a, b)`` for one pair, ``.batch(pairs)`` for many."""

    def __init__(self, model: str | os.PathLike | None = None, device: str | torch.device | None = None,
                 dtype: torch.dtype | str = torch.float32):
        path = Path(model) if model is not None else DEFAULT_MODEL
        if model is None and not path.is_file():
            raise FileNotFoundError(f"no default model at {path}: this installation lacks the shipped file "
                                    "(reinstall pyframegan), or pass model='MODEL.pt' (made by `pyframegan train` "
                                    "+ `pyframegan export`)")
        device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        # The C++ engine raises FileNotFoundError / ValueError / TypeError with messages that name the problem.
        self._engine = _ext.load().Interpolator(str(path), str(device), as_dtype(dtype))
        self.device: torch.device = self._engine.device
        self.dtype: torch.dtype = self._engine.dtype
        self.meta: dict = json.loads(self._engine.metadata_json)
        self.n_out: int = self._engine.n_out
        #: frames composed by the fused warp_blend post-op (generators exporting components())
        self.fused_post_op: bool = self._engine.fused_post_op
        #: frames at any times, interpolate(a, b, n=k) for any k (generators exporting components_at())
        self.any_times: bool = self._engine.any_times
        #: uses context frames, interpolate(a, b, before=..., after=...) (the hybrid generator)
        self.context: bool = self._engine.context

    def times(self, n: int | None) -> list[float] | None:
        """The times of ``n`` evenly spaced frames between two inputs, k / (n + 1); None (the
        model's own ``n_out`` frames) for ``n`` None or ``n_out``. A ValueError for a bad ``n`` or
        for an ``n`` this model cannot make."""
        if n is None:
            return None
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_FRAMES_BETWEEN:
            raise ValueError(f"n must be a positive number of frames, at most {MAX_FRAMES_BETWEEN}, got {n!r}")
        if n == self.n_out:
            return None
        if not self.any_times:
            raise ValueError(f"this model makes exactly {self.n_out} frames between two inputs, not n={n}; "
                             "any n needs a flow generator (--arch flow), like the shipped default model")
        return [k / (n + 1) for k in range(1, n + 1)]

    def run(self, a: torch.Tensor, b: torch.Tensor, times: Sequence[float] | None = None,
            before: torch.Tensor | None = None, after: torch.Tensor | None = None) -> torch.Tensor:
        """Batched tensors, checked in C++: uint8 [B, H, W, 3] pairs -> uint8 [B, n_out, H, W, 3] (CPU),
        or [B, len(times), H, W, 3] for frames at ``times`` (each in (0, 1); flow generators). With
        ``before`` and ``after`` (the frames as far before ``a`` and after ``b`` as ``b`` is after
        ``a``, same shapes; models with :attr:`context`) the motion may be quadratic.

        A pair whose two frames are identical gives that frame back at every time, whatever the model,
        or the motion of the context frames, would make of it: a still scene or a frame held for two
        (animation on twos) stays still instead of flickering.

        The GIL is released while it runs, so other Python threads (e.g. video decoding) go on."""
        if (before is None) != (after is None):
            raise ValueError("give both context frames (before and after) or neither")
        ts = _times(times)
        for name, t in (("a", a), ("b", b), ("before", before), ("after", after)):
            if isinstance(t, torch.Tensor):
                _check_dense(t, name)
        still = _still_pairs(a, b, before, after)
        if still is None or not still.any():
            return self._run(a, b, ts, before, after)
        # the model makes the other pairs; with none, the first pair all the same, so that the engine
        # checks the arguments (times, the frames' size, the context) as it always does
        made_by_model = (~still).nonzero().flatten() if not still.all() else torch.zeros(1, dtype=torch.long)
        pick = (lambda t: None if t is None else t[made_by_model.to(t.device)])  # noqa: E731
        made = self._run(pick(a), pick(b), ts, pick(before), pick(after))
        out = torch.empty((a.shape[0], *made.shape[1:]), dtype=torch.uint8)
        out[made_by_model] = made
        out[still] = a[still.to(a.device)].cpu().unsqueeze(1)
        return out

    def _run(self, a, b, times: list[float] | None, before, after) -> torch.Tensor:
        """The engine's frames for batched pairs, in calls of at most :data:`PIXEL_TIMES` frames x pixels."""
        if not (isinstance(a, torch.Tensor) and a.dim() == 4):
            return self._call(a, b, times, before, after)  # the engine says what is wrong
        n = self.n_out if times is None else len(times)
        per_pair = n * a.shape[1] * a.shape[2]
        if a.shape[0] * per_pair <= PIXEL_TIMES:
            return self._call(a, b, times, before, after)
        if a.shape[0] > 1:
            step = max(1, PIXEL_TIMES // per_pair)
            part = (lambda t, i: None if t is None else t[i:i + step])  # noqa: E731
            return torch.cat([self._run(a[i:i + step], b[i:i + step], times, part(before, i), part(after, i))
                              for i in range(0, a.shape[0], step)])
        if times is None:  # a model of fixed times makes them all in one call
            return self._call(a, b, times, before, after)
        step = max(1, PIXEL_TIMES // (a.shape[1] * a.shape[2]))
        return torch.cat([self._call(a, b, times[i:i + step], before, after) for i in range(0, n, step)], 1)

    def _call(self, a, b, times: list[float] | None, before, after) -> torch.Tensor:
        if before is not None:
            return self._engine.run_context(a, b, before, after, times or [])
        return self._engine.run(a, b) if times is None else self._engine.run_at(a, b, times)

    def interpolate(self, a, b, n: int | None = None, before=None, after=None) -> list[np.ndarray]:
        """The frames between ``a`` and ``b``, in time order (uint8, same shape as the inputs): the
        model's ``n_out``, or ``n`` evenly spaced ones (flow generators make any ``n``).

        ``before``, ``after``: optional context, the frame as far before ``a`` as ``b`` is after it
        and the frame as far after ``b``; a model that uses context (the hybrid generator) then
        follows accelerating motion (quadratic, guarded against scene cuts); others say they cannot."""
        if before is None and after is None:
            return self.batch([(a, b)], n=n)[0]
        if before is None or after is None:
            raise ValueError("give both context frames (before and after) or neither")
        if not self.context:
            raise ValueError("this model does not use context frames (before, after); the hybrid generator does")
        frames = [_as_frame(x, name) for x, name in ((a, "a"), (b, "b"), (before, "before"), (after, "after"))]
        for name, f in zip(("b", "before", "after"), frames[1:]):
            if f.shape != frames[0].shape:
                raise ValueError(f"{name} is {tuple(f.shape)} but a is {tuple(frames[0].shape)}; frames must match")
        out = self.run(*(f[None] for f in frames[:2]), self.times(n), *(f[None] for f in frames[2:]))
        return list(out[0].numpy())

    def batch(self, pairs: Iterable[Sequence], batch_size: int = 8, n: int | None = None) -> list[list[np.ndarray]]:
        """Many pairs at once; pairs of equal size are run together, ``batch_size`` at a time."""
        times = self.times(n)
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive number of pairs, got {batch_size!r}")
        checked = []
        for i, (a, b) in enumerate(pairs):
            ta, tb = _as_frame(a, f"pair {i}: a"), _as_frame(b, f"pair {i}: b")
            if ta.shape != tb.shape:
                raise ValueError(f"pair {i}: a is {tuple(ta.shape)} but b is {tuple(tb.shape)}; frames must match")
            checked.append((ta, tb))
        out: list[list[np.ndarray] | None] = [None] * len(checked)
        by_shape: dict[tuple, list[int]] = {}
        for i, (ta, _) in enumerate(checked):
            by_shape.setdefault(tuple(ta.shape), []).append(i)
        for indices in by_shape.values():
            for s in range(0, len(indices), batch_size):
                chunk = indices[s:s + batch_size]
                frames = self.run(torch.stack([checked[i][0] for i in chunk]),
                                   torch.stack([checked[i][1] for i in chunk]), times)
                for i, f in zip(chunk, frames.numpy()):
                    out[i] = list(f)
        return out


def interpolate(a, b, n: int | None = None, before=None, after=None, *, model: str | os.PathLike | None = None,
                device: str | torch.device | None = None) -> list[np.ndarray]:
    """The frames between two HxWx3 uint8 frames ``a`` and ``b``, in time order: the model's
    ``n_out`` (5 for the default model), or ``n`` evenly spaced ones. ``before`` / ``after``:
    optional context frames (see :meth:`Interpolator.interpolate`)."""
    return Interpolator(model, device).interpolate(a, b, n=n, before=before, after=after)
