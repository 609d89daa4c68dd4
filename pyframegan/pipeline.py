"""The threaded pipeline of `pyframegan video`: decoder and compute threads joined to the caller's
(encoding) thread by bounded queues, with one stop flag, so decoding, inference and encoding overlap
and memory stays bounded however long the video is. An exception in any stage stops the others
(each waits on its queue with a timeout and checks the flag) and is raised again in the caller's
thread."""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator

import av
import numpy as np
import torch

from pyframegan.data.decode import RepeatTolerance, is_repeat
from pyframegan.data.scenecut import SceneCutDetector
from pyframegan.timing import OutputGrid, SourceClock

POLL_S = 0.1  # how often a blocked stage looks at the stop flag


class Stopped(Exception):
    """Raised inside a stage when another stage failed (or the caller gave up)."""


END = object()  # end of stream, passed down the queues


class Pipeline:
    """Worker threads joined by bounded queues. The first exception anywhere sets ``stop``; every
    stage polls it while it waits on a queue, so none is left blocked on a full or empty queue."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self.decode_stopped: str | None = None  # why decoding ended early (a truncated or damaged input)
        self.stats = {"decoded": 0, "repeats": 0, "unplaced": 0}  # counted by the decoder stage
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def fail(self, exc: BaseException) -> None:
        with self._lock:
            if self.error is None:
                self.error = exc
        self.stop.set()

    def put(self, q: queue.Queue, item: Any) -> None:
        while not self.stop.is_set():
            try:
                q.put(item, timeout=POLL_S)
                return
            except queue.Full:
                pass
        raise Stopped

    def get(self, q: queue.Queue) -> Any:
        while not self.stop.is_set():
            try:
                return q.get(timeout=POLL_S)
            except queue.Empty:
                pass
        raise Stopped

    def spawn(self, name: str, target, *args) -> None:
        def body():
            try:
                target(*args)
            except Stopped:
                pass
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                self.fail(exc)

        thread = threading.Thread(target=body, name=f"pyframegan-video-{name}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def close(self) -> None:
        """Stop every stage and wait for it (a stage in the middle of a model call finishes it)."""
        self.stop.set()
        for thread in self._threads:
            if thread.ident is not None:  # not one that a Ctrl-C or SIGTERM kept from starting
                thread.join()

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


@dataclass
class Schedule:
    """How the decoder stage turns decoded frames into output times (:mod:`pyframegan.timing`)."""
    grid: OutputGrid         # the output frames' times
    rate: Fraction           # the source's nominal frame rate
    by_index: bool = False   # frame i at i / rate (models that make only their own n_out frames)
    dedup: RepeatTolerance | None = None  # drop frames that repeat the previous one


@dataclass
class Batch:
    """Consecutive source frames ``frames[0..m]`` at ``times`` (seconds from the first frame) and,
    for each of the m pairs (frames[j], frames[j+1]), whether a scene cut lies between them and the
    positions t in [0, 1) of the output frames between them (t = 0: frames[j] itself).
    ``mids[j]`` (filled by the compute stage) maps each t > 0 to its interpolated frame, or is None
    for a cut. The final batch holds just the last frame (m = 0), written ``hold`` times."""
    frames: list[np.ndarray]
    times: list[Fraction]
    cuts: list[bool]
    positions: list[list[Fraction]]
    final: bool = False
    hold: int = 0
    mids: list[dict[Fraction, np.ndarray] | None] = field(default_factory=list)
    # context: the frame before frames[0] and after frames[-1] (None at the ends of the video), their
    # times, and whether a scene cut separates them from the batch
    before: np.ndarray | None = None
    before_time: Fraction | None = None
    before_cut: bool = True
    after: np.ndarray | None = None
    after_time: Fraction | None = None
    after_cut: bool = True
    # a later part of a batch whose one pair's new frames were made in parts (:func:`in_parts`): its
    # source frames and cuts were counted with the first part
    continued: bool = False

    def context(self, j: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(the frame before pair j, the frame after it), or None where the video has none, a scene
        cut separates one from the pair, or they are not as far from the pair as its frames are
        from each other (within 5%: repeated frames dropped, a variable frame rate)."""
        m = len(self.cuts)
        before, before_time, before_cut = ((self.frames[j - 1], self.times[j - 1], self.cuts[j - 1]) if j > 0
                                           else (self.before, self.before_time, self.before_cut))
        after, after_time, after_cut = ((self.frames[j + 2], self.times[j + 2], self.cuts[j + 1]) if j + 1 < m
                                        else (self.after, self.after_time, self.after_cut))
        if before is None or after is None or before_cut or after_cut:
            return None
        span = self.times[j + 1] - self.times[j]
        gap_before, gap_after = self.times[j] - before_time, after_time - self.times[j + 1]
        if abs(gap_before - span) > span / 20 or abs(gap_after - span) > span / 20:
            return None
        return before, after


def decode_batches(path: Path, container, stream, pipe: Pipeline, out_q: queue.Queue, batch_size: int,
                   detector: SceneCutDetector | None, schedule: Schedule) -> None:
    """Decoder stage: frames -> batches of ``batch_size`` pairs (consecutive batches share a frame),
    each sent once the frame after it is known (its context). Counts the repeats it drops and the
    frames it cannot place (timestamps going back) in ``pipe.stats``."""
    stream.thread_type = "AUTO"
    clock = SourceClock(schedule.rate, stream.time_base)
    frames: list[np.ndarray] = []
    times: list[Fraction] = []
    cuts: list[bool] = []
    before = (None, None, True)
    shape = None
    decoded = 0
    end = Fraction(0)  # when the last decoded frame (kept or not) ends
    last_duration = clock.interval

    def batch(n_pairs: int, **extra) -> Batch:
        positions = [schedule.grid.between(times[i], times[i + 1]) for i in range(n_pairs)]
        return Batch(frames[:n_pairs + 1], times[:n_pairs + 1], cuts[:n_pairs], positions, before=before[0],
                     before_time=before[1], before_cut=before[2], **extra)

    with container:
        try:
            for frame in container.decode(stream):
                image = frame.to_ndarray(format="rgb24")
                if shape is None:
                    shape = image.shape
                elif image.shape != shape:
                    raise ValueError(f"{path}: the frame size changes from {shape[1]}x{shape[0]} to "
                                     f"{image.shape[1]}x{image.shape[0]} inside the video")
                if schedule.by_index:
                    time = decoded * clock.interval
                else:
                    time = clock.place(frame.pts, frame.time_base)
                decoded += 1
                if time is None:
                    pipe.stats["unplaced"] += 1
                    continue
                last_duration = (frame.duration * Fraction(frame.time_base) if frame.duration and frame.time_base
                                 and not schedule.by_index else clock.interval)
                end = max(end, time + last_duration)
                if schedule.dedup is not None and frames and is_repeat(image, frames[-1], schedule.dedup):
                    pipe.stats["repeats"] += 1
                    continue
                cut = detector.update(image) if detector is not None else False
                if frames:
                    cuts.append(cut)
                frames.append(image)
                times.append(time)
                if len(cuts) == batch_size + 1:  # a full batch and the frame after it
                    pipe.put(out_q, batch(batch_size, after=frames[-1], after_time=times[-1], after_cut=cuts[-1]))
                    before = (frames[-3], times[-3], cuts[-2])
                    frames, times, cuts = frames[-2:], times[-2:], cuts[-1:]
        except av.FFmpegError as exc:
            if not frames:  # nothing decodable: not a truncated video but an unreadable one
                raise ValueError(f"{path}: decoding failed ({exc})") from exc
            pipe.decode_stopped = f"decoding stopped early ({exc})"  # the frames so far are kept
    pipe.stats["decoded"] = decoded
    if cuts:
        pipe.put(out_q, batch(len(cuts)))
    if frames:
        hold = schedule.grid.until(end, last_duration)
        pipe.put(out_q, Batch([frames[-1]], [times[-1]], [], [], final=True, hold=hold))
    pipe.put(out_q, END)


UNION_MAX = 64  # positions one model call may make for all its pairs (memory: batch x positions frames)
UNION_SLACK = 1.5  # ... and at most this many times the frames its pairs need


def in_parts(batch: Batch, max_new: int) -> list[Batch]:
    """The batch, or, where its one pair needs more than ``max_new`` new frames (a high ``-n`` at a
    large size), the same batch in parts, each with at most ``max_new`` of that pair's positions in
    order (the first with its source frame): made and written one after the other, so the pair's new
    frames are never all held at once."""
    if batch.final or len(batch.cuts) != 1 or batch.cuts[0] or len(batch.positions[0]) <= max_new:
        return [batch]
    positions = batch.positions[0]
    return [replace(batch, positions=[positions[i:i + max_new]], mids=[], continued=i > 0)
            for i in range(0, len(positions), max_new)]


def compute_batches(interpolator, pipe: Pipeline, in_q: queue.Queue, out_q: queue.Queue, context: bool,
                    max_new: int | None = None) -> None:
    """Compute stage: the in-between frames of every pair that is not a scene cut, at its positions.
    The pairs with context (``context``: a frame before and after them in the same shot) go through
    the model in one call, those without in another, each call making every position any of its
    pairs needs, unless that is more than UNION_MAX positions or UNION_SLACK times the frames the
    pairs need (a rate conversion whose pairs need different positions): then pairs with the same
    positions go together. Positions k / (n_out + 1) are the model's own frames (any model); others
    need a flow generator. With ``max_new`` (and a model that makes any time), a batch of one pair
    that needs more new frames than that is made and passed on in parts (:func:`in_parts`)."""
    while True:
        batch = pipe.get(in_q)
        if batch is END:
            pipe.put(out_q, END)
            return
        parts = in_parts(batch, max_new) if max_new is not None and getattr(interpolator, "any_times", False) else [batch]
        for part in parts:
            interpolate_batch(interpolator, part, context)
            pipe.put(out_q, part)


def interpolate_batch(interpolator, batch: Batch, context: bool) -> None:
    """Fill ``batch.mids`` (:func:`compute_batches`)."""
    stack = lambda images: torch.from_numpy(np.stack(images))  # noqa: E731
    n_out = int(interpolator.n_out)
    own = tuple(Fraction(k, n_out + 1) for k in range(1, n_out + 1))
    batch.mids = [None] * len(batch.cuts)
    # each pair to interpolate: the positions it needs (t = 0 is its source frame) and its context
    wanted = {j: tuple(t for t in batch.positions[j] if t > 0) for j, cut in enumerate(batch.cuts) if not cut}
    ctx = {j: batch.context(j) if context else None for j, ts in wanted.items() if ts}
    groups: dict[bool, list[int]] = {}
    for j, c in ctx.items():
        groups.setdefault(c is not None, []).append(j)
    calls = []
    for with_ctx, pairs in groups.items():
        union = sorted({t for j in pairs for t in wanted[j]})
        if len(union) <= UNION_MAX and len(union) * len(pairs) <= UNION_SLACK * sum(len(wanted[j]) for j in pairs):
            calls.append((with_ctx, tuple(union), pairs))
            continue
        by_positions: dict[tuple, list[int]] = {}
        for j in pairs:
            by_positions.setdefault(wanted[j], []).append(j)
        calls += [(with_ctx, ts, group) for ts, group in by_positions.items()]
    for with_ctx, ts, pairs in calls:
        extra = []
        if with_ctx:
            extra = [stack([ctx[j][0] for j in pairs]), stack([ctx[j][1] for j in pairs])]
        times = None if ts == own else [float(t) for t in ts]
        out = interpolator.run(stack([batch.frames[j] for j in pairs]), stack([batch.frames[j + 1] for j in pairs]),
                               times, *extra).numpy()
        for j, frames in zip(pairs, out):
            batch.mids[j] = dict(zip(ts, frames))


def output_frames(batch: Batch, montage: bool) -> Iterator[np.ndarray]:
    """The frames a batch contributes to the output, in order (its last source frame excluded:
    it starts the next batch, except in the final batch, which holds it ``hold`` times)."""
    if batch.final:
        last = batch.frames[-1]
        for _ in range(batch.hold):
            yield np.concatenate([last, last], 1) if montage else last
        return
    for j, positions in enumerate(batch.positions):
        source, mids = batch.frames[j], batch.mids[j]
        for t in positions:
            frame = source if t == 0 or mids is None else mids[t]  # a cut: the frame before it, held
            yield np.concatenate([source, frame], 1) if montage else frame
