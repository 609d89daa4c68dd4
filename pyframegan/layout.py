"""The strip layout: which tile of a strip shows which time, and which tiles are the generator's
inputs and targets. The seed's layout (7 frames: ``1 2 3 4 5 | 0 6``) is :data:`SEED`; ops,
references, data and training import it from here."""
from __future__ import annotations

from typing import NamedTuple


class StripLayout(NamedTuple):
    order: tuple[int, ...]    # order[i]: the time shown by tile i
    inputs: tuple[int, ...]   # tiles fed to the generator
    targets: tuple[int, ...]  # tiles it predicts


MAX_STRIP_FRAMES = 64  # the most tiles a strip has (csrc/include/pyframegan/strip_math.h: kMaxStripFrames)


def seed_layout(frames: int = 7) -> StripLayout:
    """The seed layout for ``frames`` tiles: the targets (times 1 .. F-2) first, then the inputs
    (times 0 and F-1). F = 7 gives ((1, 2, 3, 4, 5, 0, 6), (5, 6), (0, 1, 2, 3, 4))."""
    if frames < 3:
        raise ValueError(f"a strip needs at least 3 frames (2 inputs + 1 target), got {frames}")
    if frames > MAX_STRIP_FRAMES:  # train --frames 99999999999 listed that many tiles: a MemoryError
        raise ValueError(f"a strip has at most {MAX_STRIP_FRAMES} frames, got {frames}")
    return StripLayout(tuple(range(1, frames - 1)) + (0, frames - 1), (frames - 2, frames - 1), tuple(range(frames - 2)))


SEED = seed_layout(7)
