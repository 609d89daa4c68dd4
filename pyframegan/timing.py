"""Where the frames of `pyframegan video` fall in time.

Source frames are placed by their presentation timestamps (exact fractions of a second from the
first frame), not by their index, so a variable-frame-rate video keeps its timing. The output is a
constant-rate grid of times ``k / rate``; each output time lies between two source frames and is
written as the source frame when it lands on one, or as the frame interpolated at its fractional
position ``t`` between them otherwise.

Positions are rounded to multiples of ``1 / T_STEPS`` of the interval (T_STEPS = 840 = lcm(1..8)):
exact for 1 to 7 frames between two, and for the usual rate ratios (24 -> 60: 0.4, 25 -> 60: 5/12,
50 -> 24: 1/12); a timestamp stored to the millisecond moves a frame by less than 1/1680 of an
interval, and pairs with the same positions are interpolated in one model call.
"""
from __future__ import annotations

import math
from fractions import Fraction

T_STEPS = 840

# NTSC rates: 23.976 (as people write it) means 24000/1001
_NTSC_BASES = (24, 30, 48, 60, 120, 240)

MAX_FPS = 1_000_000  # the highest rate taken; FFmpeg holds a rate as a fraction of two 32-bit ints
_INT32_MAX = 2 ** 31 - 1


def parse_fps(value) -> Fraction:
    """A frame rate from a number, a decimal string or a fraction: ``60``, ``"59.94"``, ``"60000/1001"``.
    The NTSC decimals (23.976, 29.97, 47.952, 59.94, 119.88, 239.76) are the exact x*1000/1001."""
    text = str(value).strip()
    try:
        rate = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"a frame rate must be a number or a fraction such as 30000/1001, got {value!r}") from None
    if rate > MAX_FPS:  # 1e300 was an OverflowError's traceback when the output stream was made
        raise ValueError(f"a frame rate must be at most {MAX_FPS}, got {value}")
    # the nearest fraction whose numerator and denominator fit FFmpeg's 32-bit ints
    rate = rate.limit_denominator(max(1, min(1_000_000, _INT32_MAX // math.ceil(rate)))) if rate > 0 else rate
    if rate <= 0:
        raise ValueError(f"a frame rate must be positive, got {value}")
    if "." in text and "/" not in text:
        for base in _NTSC_BASES:
            ntsc = Fraction(base * 1000, 1001)
            if rate != base and abs(rate - ntsc) < Fraction(1, 100):
                return ntsc
    return rate


class SourceClock:
    """Places decoded frames in time (seconds from the first frame, exact fractions).

    A timestamp within a small tolerance of one frame interval (at the stream's nominal ``rate``)
    after the previous frame is put exactly there, so a constant-rate video stored with rounded
    timestamps (Matroska's milliseconds) stays on its grid; any other timestamp (a gap, a jitter
    of a variable-rate phone video) is kept as it is. Frames without a timestamp are placed one
    interval after the previous one. ``place`` returns None for a frame whose time does not move
    forward (it cannot be placed).
    """

    def __init__(self, rate: Fraction, time_base: Fraction | None):
        self.interval = 1 / Fraction(rate)
        tick = Fraction(time_base) if time_base else Fraction(0)
        self.tolerance = min(max(tick, self.interval / 100), self.interval / 10)
        self.origin: Fraction | None = None
        self.last: Fraction | None = None

    def place(self, pts: int | None, time_base: Fraction | None) -> Fraction | None:
        if pts is None or not time_base:
            time = Fraction(0) if self.last is None else self.last + self.interval
        else:
            stamp = pts * Fraction(time_base)
            if self.origin is None:
                self.origin = stamp
            time = stamp - self.origin
        if self.last is None:
            self.last = Fraction(0)
            return self.last
        expected = self.last + self.interval
        if abs(time - expected) <= self.tolerance:
            time = expected
        if time <= self.last:
            return None
        self.last = time
        return time


class OutputGrid:
    """The output frames' times ``k / rate`` (k = 0, 1, ...), handed out interval by interval."""

    def __init__(self, rate: Fraction):
        self.rate = Fraction(rate)
        self.next = 0  # the next output frame's index

    def between(self, s0: Fraction, s1: Fraction) -> list[Fraction]:
        """The positions t in [0, 1) (multiples of 1/T_STEPS) of the output frames from time s0 up to,
        not including, s1; t = 0 is the source frame at s0 itself."""
        span = s1 - s0
        positions = []
        while True:
            t = (Fraction(self.next) / self.rate - s0) / span
            t = max(Fraction(0), Fraction(round(t * T_STEPS), T_STEPS))
            if t >= 1:
                return positions
            positions.append(t)
            self.next += 1

    def until(self, end: Fraction, interval: Fraction) -> int:
        """How many output frames fall before ``end`` (the end of the last source frame, which lasts
        ``interval``): the last frame is held for these."""
        count = 0
        slack = interval / (2 * T_STEPS)
        while Fraction(self.next) / self.rate < end - slack:
            count += 1
            self.next += 1
        return count
