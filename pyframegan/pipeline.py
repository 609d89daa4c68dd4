"""The threaded pipeline of `pyframegan video`: decoder and compute threads joined to the caller's
(encoding) thread by bounded queues, with one stop flag, so decoding, inference and encoding overlap
and memory stays bounded however long the video is. An exception in any stage stops the others
(each waits on its queue with a timeout and checks the flag) and is raised again in the caller's
thread."""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import av
import numpy as np
import torch

from pyframegan.data.scenecut import SceneCutDetector

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
class Batch:
    """Consecutive source frames ``frames[0..m]`` and, for each of the m pairs (frames[j],
    frames[j+1]), whether a scene cut lies between them. ``mids[j]`` (filled by the compute stage)
    holds the n_out frames between pair j, or None for a cut. The final batch holds just the last
    frame (m = 0)."""
    frames: list[np.ndarray]
    cuts: list[bool]
    final: bool = False
    mids: list[np.ndarray | None] = field(default_factory=list)
    # context: the frame before frames[0] and after frames[-1] (None at the ends of the video), and
    # whether a scene cut separates them from it
    before: np.ndarray | None = None
    before_cut: bool = True
    after: np.ndarray | None = None
    after_cut: bool = True

    def context(self, j: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(the frame before pair j, the frame after it), or None where the video has none or a
        scene cut separates one from the pair."""
        m = len(self.cuts)
        before, before_cut = (self.frames[j - 1], self.cuts[j - 1]) if j > 0 else (self.before, self.before_cut)
        after, after_cut = (self.frames[j + 2], self.cuts[j + 1]) if j + 1 < m else (self.after, self.after_cut)
        if before is None or after is None or before_cut or after_cut:
            return None
        return before, after


def decode_batches(path: Path, container, stream, pipe: Pipeline, out_q: queue.Queue, batch_size: int,
            detector: SceneCutDetector | None) -> None:
    """Decoder stage: frames -> batches of ``batch_size`` pairs (consecutive batches share a frame),
    each sent once the frame after it is known (its context)."""
    stream.thread_type = "AUTO"
    frames: list[np.ndarray] = []
    cuts: list[bool] = []
    before, before_cut = None, True
    shape = None
    with container:
        try:
            for frame in container.decode(stream):
                image = frame.to_ndarray(format="rgb24")
                if shape is None:
                    shape = image.shape
                elif image.shape != shape:
                    raise ValueError(f"{path}: the frame size changes from {shape[1]}x{shape[0]} to "
                                     f"{image.shape[1]}x{image.shape[0]} inside the video")
                cut = detector.update(image) if detector is not None else False
                if frames:
                    cuts.append(cut)
                frames.append(image)
                if len(cuts) == batch_size + 1:  # a full batch and the frame after it
                    pipe.put(out_q, Batch(frames[:-1], cuts[:-1], before=before, before_cut=before_cut,
                                           after=frames[-1], after_cut=cuts[-1]))
                    before, before_cut = frames[-3], cuts[-2]
                    frames, cuts = frames[-2:], cuts[-1:]
        except av.FFmpegError as exc:
            if not frames:  # nothing decodable: not a truncated video but an unreadable one
                raise ValueError(f"{path}: decoding failed ({exc})") from exc
            pipe.decode_stopped = f"decoding stopped early ({exc})"  # the frames so far are kept
    if cuts:
        pipe.put(out_q, Batch(frames, cuts, before=before, before_cut=before_cut))
    if frames:
        pipe.put(out_q, Batch([frames[-1]], [], final=True))
    pipe.put(out_q, END)


def compute_batches(interpolator, times: list[float] | None, pipe: Pipeline, in_q: queue.Queue,
             out_q: queue.Queue, context: bool) -> None:
    """Compute stage: the in-between frames (at ``times``; None: the model's) of every pair that is
    not a scene cut; with ``context``, pairs that have a frame before and after them in the same
    shot are run with it (one model call for those, one for the others)."""
    stack = lambda images: torch.from_numpy(np.stack(images))  # noqa: E731
    while True:
        batch = pipe.get(in_q)
        if batch is END:
            pipe.put(out_q, END)
            return
        batch.mids = [None] * len(batch.cuts)
        todo = [j for j, cut in enumerate(batch.cuts) if not cut]
        ctx = {j: batch.context(j) for j in todo} if context else {}
        with_ctx = [j for j in todo if ctx.get(j) is not None]
        for group in (with_ctx, [j for j in todo if ctx.get(j) is None]):
            if not group:
                continue
            extra = ([stack([ctx[j][0] for j in group]), stack([ctx[j][1] for j in group])]
                     if group is with_ctx else [])
            out = interpolator.run(stack([batch.frames[j] for j in group]), stack([batch.frames[j + 1] for j in group]),
                                   times, *extra).numpy()
            for j, frames in zip(group, out):
                batch.mids[j] = frames
        pipe.put(out_q, batch)


def output_frames(batch: Batch, n_out: int, montage: bool) -> Iterator[np.ndarray]:
    """The frames a batch contributes to the output, in order (its last source frame excluded:
    it starts the next batch, except in the final batch)."""
    if batch.final:
        last = batch.frames[-1]
        yield np.concatenate([last, last], 1) if montage else last
        return
    for j, mids in enumerate(batch.mids):
        source = batch.frames[j]
        new = [source] * n_out if mids is None else list(mids)  # a cut: the frame before it, repeated
        for frame in [source] + new:
            yield np.concatenate([source, frame], 1) if montage else frame


