"""`pyframegan video`: interpolate a whole video with an exported generator.

The input is streamed, never held in memory::

    decoder thread      PyAV decode -> uint8 RGB frames -> scene-cut detection -> batches of pairs
        │  bounded queue
    compute thread      Interpolator.run on the pairs that do not cross a scene cut
        │  bounded queue
    caller's thread     (montage) -> PyAV encode + mux, audio packets interleaved -> temporary file

so decoding, inference and encoding overlap, and at most a few batches are in flight however long
the video is. An exception in any stage stops the others (each waits on its queue with a timeout
and checks a shared stop flag) and is raised again in the caller's thread; the temporary output
(same folder, same extension) is removed, and only a complete file is renamed to the output path.

Timing. Between every two consecutive source frames, ``n`` new frames are written (the model's
``n_out``, or any ``n`` for a flow generator: ``-n/--frames-between``, evenly spaced in time), so
N source frames give ``(N - 1) * (n + 1) + 1`` output frames. By default the output rate is the
input rate times ``n + 1`` (the duration is kept: smoother motion); ``fps`` writes the same frames
timed at another rate (a different rate means a slower or faster video). The last source frame
is shown for one output frame interval, so the video is shorter than the source by less than one
source frame interval (as with ffmpeg's minterpolate). The input's frame rate is taken as constant
(its average rate).

Scene cuts (pyframegan.data.scenecut) are not interpolated across: the frame before the cut is
repeated ``n`` times instead. Audio is copied packet for packet when the output container
takes its codec, re-encoded to AAC (Opus for WebM) when it does not, and dropped when ``fps``
changes the duration of the video.
"""
from __future__ import annotations

import argparse
import os
import queue
import sys
import threading
import time
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator

import av
import numpy as np
import torch
from tqdm import tqdm

from pyframegan.cli import add_model_options
from pyframegan.data.scenecut import SceneCutDetector
from pyframegan.data.decode import _open_video
from pyframegan.files import temporary_path

# encoders tried, in order, when no codec is given: the first one the output container takes
DEFAULT_CODECS = ("libx264", "libvpx-vp9", "mpeg4", "ffv1")
# encoders that take a constant-quality factor (crf) and an x264-style preset
CRF_CODECS = {"libx264": 18, "libx265": 22, "libvpx-vp9": 31, "libaom-av1": 30, "libsvtav1": 35}
PRESET_CODECS = ("libx264", "libx265", "libsvtav1")
# pixel formats tried, in order, when none is given (yuv420p only when both sides are even)
PIX_FMTS = ("yuv420p", "yuv444p", "gbrp", "rgb24", "bgr0", "rgba")
MIN_SIDE = 8
POLL_S = 0.1  # how often a blocked stage looks at the stop flag


# --- the pipeline: threads joined by bounded queues, one stop flag -------------------------------
class _Stopped(Exception):
    """Raised inside a stage when another stage failed (or the caller gave up)."""


_END = object()  # end of stream, passed down the queues


class _Pipeline:
    """Worker threads joined by bounded queues. The first exception anywhere sets ``stop``; every
    stage polls it while it waits on a queue, so none is left blocked on a full or empty queue."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.error: BaseException | None = None
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
        raise _Stopped

    def get(self, q: queue.Queue) -> Any:
        while not self.stop.is_set():
            try:
                return q.get(timeout=POLL_S)
            except queue.Empty:
                pass
        raise _Stopped

    def spawn(self, name: str, target, *args) -> None:
        def body():
            try:
                target(*args)
            except _Stopped:
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
            thread.join()

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


@dataclass
class _Batch:
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


def _decode(path: Path, container, stream, pipe: _Pipeline, out_q: queue.Queue, batch_size: int,
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
                    pipe.put(out_q, _Batch(frames[:-1], cuts[:-1], before=before, before_cut=before_cut,
                                           after=frames[-1], after_cut=cuts[-1]))
                    before, before_cut = frames[-3], cuts[-2]
                    frames, cuts = frames[-2:], cuts[-1:]
        except av.FFmpegError as exc:
            raise ValueError(f"{path}: decoding failed ({exc})") from exc
    if cuts:
        pipe.put(out_q, _Batch(frames, cuts, before=before, before_cut=before_cut))
    if frames:
        pipe.put(out_q, _Batch([frames[-1]], [], final=True))
    pipe.put(out_q, _END)


def _compute(interpolator, times: list[float] | None, pipe: _Pipeline, in_q: queue.Queue,
             out_q: queue.Queue, context: bool) -> None:
    """Compute stage: the in-between frames (at ``times``; None: the model's) of every pair that is
    not a scene cut; with ``context``, pairs that have a frame before and after them in the same
    shot are run with it (one model call for those, one for the others)."""
    stack = lambda images: torch.from_numpy(np.stack(images))  # noqa: E731
    while True:
        batch = pipe.get(in_q)
        if batch is _END:
            pipe.put(out_q, _END)
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


def _output_frames(batch: _Batch, n_out: int, montage: bool) -> Iterator[np.ndarray]:
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


# --- output streams ------------------------------------------------------------------------------
def _parse_fps(value) -> Fraction:
    try:
        rate = Fraction(str(value)).limit_denominator(1_000_000)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"fps must be a number or a fraction such as 30000/1001, got {value!r}") from None
    if rate <= 0:
        raise ValueError(f"fps must be positive, got {value}")
    return rate


def _is_subsampled(pix_fmt: str) -> bool:
    """True for formats whose chroma planes are subsampled (they need even sizes)."""
    fmt = av.VideoFormat(pix_fmt, 2, 2)
    return any(c.width < 2 or c.height < 2 for c in fmt.components)


def _choose_codec(out, codec: str | None) -> av.Codec:
    supported = out.supported_codecs
    names = (codec,) if codec else DEFAULT_CODECS
    for name in names:
        try:
            candidate = av.Codec(name, "w")
        except Exception:  # noqa: BLE001 - PyAV's UnknownCodecError
            if codec:
                raise ValueError(f"unknown video encoder {codec!r} (e.g. libx264, libx265, libvpx-vp9, ffv1, png)") from None
            continue
        if candidate.type != "video":
            raise ValueError(f"{name!r} is a {candidate.type} encoder, not a video encoder")
        if candidate.canonical_name in supported or candidate.name in supported:
            return candidate
        if codec:
            raise ValueError(f"the {out.format.name} container cannot hold {name} video; pick another "
                             "--codec or output extension (e.g. .mkv holds almost any codec)")
    raise ValueError(f"none of {', '.join(DEFAULT_CODECS)} fits the {out.format.name} container; pass --codec")


def _choose_pix_fmt(codec: av.Codec, pix_fmt: str | None, width: int, height: int) -> str:
    formats = [f.name for f in (codec.video_formats or ())]
    odd = width % 2 or height % 2
    if pix_fmt:
        if formats and pix_fmt not in formats:
            raise ValueError(f"{codec.name} does not encode pixel format {pix_fmt}; it takes {', '.join(formats)}")
        if odd and _is_subsampled(pix_fmt):
            raise ValueError(f"{pix_fmt} needs even sizes but the output is {width}x{height}; "
                             "leave --pix-fmt out (yuv444p is then used) or choose a format without "
                             "chroma subsampling (yuv444p, gbrp, rgb24)")
        return pix_fmt
    for name in PIX_FMTS:
        if (not formats or name in formats) and not (odd and _is_subsampled(name)):
            return name
    for name in formats:
        if not (odd and _is_subsampled(name)):
            return name
    raise ValueError(f"{codec.name} has no pixel format for the odd size {width}x{height}; try --codec libx264")


def _codec_options(codec: str, crf: float | None, preset: str | None) -> dict[str, str]:
    options: dict[str, str] = {}
    if crf is not None and codec not in CRF_CODECS:
        raise ValueError(f"--crf applies to {', '.join(CRF_CODECS)}, not {codec}")
    if preset is not None and codec not in PRESET_CODECS:
        raise ValueError(f"--preset applies to {', '.join(PRESET_CODECS)}, not {codec}")
    if codec in CRF_CODECS:
        value = CRF_CODECS[codec] if crf is None else crf
        options["crf"] = f"{value:g}"
        if codec in ("libvpx-vp9", "libaom-av1"):
            options["b"] = "0"  # constant quality
    if codec in PRESET_CODECS and preset is not None:
        options["preset"] = preset
    return options


def _encoder_fits(name: str, out) -> bool:
    try:
        return av.Codec(name, "w").canonical_name in out.supported_codecs
    except Exception:  # noqa: BLE001 - an encoder this FFmpeg build lacks
        return False


class _NoAudio(Exception):
    """The output container can hold the input's audio neither as it is nor re-encoded."""


_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


class _Audio:
    """Copies (or re-encodes) the input's first audio stream into the output, interleaved with the
    video: ``advance(t)`` writes the audio up to output time t, ``finish()`` the rest."""

    def __init__(self, path: Path, out, start_time: float):
        self.container = av.open(str(path))
        self.stream = self.container.streams.audio[0]
        name = self.stream.codec_context.name
        self.encoder = None
        if name in out.supported_codecs:
            self.out_stream = out.add_stream_from_template(self.stream)
            self.mode = f"copied ({name})"
        else:
            target = next((c for c in ("aac", "libopus") if _encoder_fits(c, out)), None)
            if target is None:
                self.container.close()
                raise _NoAudio(f"the {out.format.name} container takes neither {name} nor AAC/Opus audio")
            layout = self.stream.layout
            layout = layout.name if not layout.name.endswith("channels") else _LAYOUTS.get(len(layout.channels), "stereo")
            rate = self.stream.rate or 48000
            if target == "libopus" and rate not in (8000, 12000, 16000, 24000, 48000):
                rate = 48000
            self.out_stream = self.encoder = out.add_stream(target, rate=rate, layout=layout)
            self.mode = f"re-encoded ({name} -> {target})"
        tb = self.stream.time_base
        self.offset = round(Fraction(start_time) / tb) if tb else 0  # video output time 0 = first video frame
        self._packets = self.container.demux(self.stream)
        self._pending = None
        self._done = False

    def _next(self):
        for packet in self._packets:
            if packet.dts is None and packet.size == 0:  # the demuxer's final empty packet
                continue
            return packet
        self._done = True
        return None

    def _write(self, out, packet) -> None:
        if packet.pts is not None:
            packet.pts -= self.offset
        if packet.dts is not None:
            packet.dts -= self.offset
        if self.encoder is None:
            packet.stream = self.out_stream
            out.mux(packet)
            return
        for frame in packet.decode():
            for encoded in self.encoder.encode(frame):
                out.mux(encoded)

    def advance(self, out, seconds: float) -> None:
        while not self._done:
            if self._pending is None:
                self._pending = self._next()
                if self._pending is None:
                    return
            packet = self._pending
            stamp = packet.pts if packet.pts is not None else packet.dts
            if stamp is not None and float((stamp - self.offset) * packet.time_base) > seconds:
                return
            self._pending = None
            self._write(out, packet)

    def finish(self, out) -> None:
        self.advance(out, float("inf"))
        if self.encoder is not None:
            for encoded in self.encoder.encode(None):
                out.mux(encoded)

    def close(self) -> None:
        self.container.close()


# --- the public API ------------------------------------------------------------------------------
def _check_paths(src: Path, dst: Path) -> None:
    if not src.exists():
        raise FileNotFoundError(f"{src}: no such file")
    if not dst.suffix:
        raise ValueError(f"{dst}: give the output an extension (.mp4, .mkv, .mov, .webm ...): it picks the container")
    if not dst.parent.is_dir():
        raise FileNotFoundError(f"{dst.parent}: the output folder does not exist")
    if dst.is_dir():
        raise ValueError(f"{dst}: is a folder; give an output file name")
    if dst.exists() and src.resolve() == dst.resolve():
        raise ValueError(f"{dst}: the output would overwrite the input")


def interpolate_video(src: str | os.PathLike, dst: str | os.PathLike, interpolator=None, *,
                      model: str | os.PathLike | None = None, device: str | torch.device | None = None,
                      dtype: torch.dtype = torch.float32, fps: float | str | Fraction | None = None,
                      batch_size: int = 4, montage: bool = False, scene_detect: bool = True,
                      scene_threshold: float = 3.0, codec: str | None = None, pix_fmt: str | None = None,
                      crf: float | None = None, preset: str | None = None, audio: bool = True,
                      progress: bool = True, queue_size: int = 2, n: int | None = None,
                      context: bool = True) -> dict:
    """Write ``dst``: the video ``src`` with ``n_out`` interpolated frames between every two frames
    (``n``, evenly spaced in time, if given: any n needs a flow generator, like the default model).

    interpolator: a :class:`pyframegan.Interpolator`; if None, one is made from ``model``, ``device``
    and ``dtype`` (``model=None``: the shipped default model).
    fps: output frame rate; default the input rate times ``n_out + 1`` (duration kept). Another
    rate keeps the same frames (slow or fast motion) and drops the audio.
    batch_size: pairs per model call. montage: source (each frame held) | interpolated, side by side.
    scene_detect / scene_threshold: do not interpolate across scene cuts (ratio to the shot's
    typical frame difference, see :class:`~pyframegan.data.scenecut.SceneCutDetector`).
    codec / pix_fmt / crf / preset: the video encoder (default: libx264, crf 18, yuv420p, or
    yuv444p when a side is odd; the first encoder the container takes otherwise).
    audio: copy the input's first audio stream (re-encoded when the container needs it).
    queue_size: batches buffered between stages (memory stays bounded on long videos).
    context: give models that use context (the hybrid generator) the frame before and after each
    pair, in the same shot, for quadratic motion (no effect on other models).

    Returns statistics: frames in and out, rates, sizes, codec, scene cuts, audio, seconds.
    Raises FileNotFoundError / ValueError for unusable inputs or options (checked before any frame
    is decoded). On any error, KeyboardInterrupt included, the partial file is removed and an
    existing ``dst`` is left as it was.
    """
    started = time.perf_counter()
    src, dst = Path(src), Path(dst)
    _check_paths(src, dst)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if queue_size < 1:
        raise ValueError(f"queue_size must be at least 1, got {queue_size}")
    out_rate_given = _parse_fps(fps) if fps is not None else None
    detector = SceneCutDetector(threshold=scene_threshold) if scene_detect else None

    container, stream = _open_video(src)
    try:
        width, height = stream.codec_context.width, stream.codec_context.height
        if min(width, height) < MIN_SIDE:
            raise ValueError(f"{src}: frames are {width}x{height}; they must be at least {MIN_SIDE}x{MIN_SIDE}")
        in_rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        in_rate = Fraction(in_rate) if in_rate else None
        if in_rate is None and out_rate_given is None:
            raise ValueError(f"{src}: the video does not say its frame rate; pass fps (--fps)")
        start_time = float(stream.start_time * stream.time_base) if stream.start_time is not None and stream.time_base else 0.0
        in_frames = stream.frames or None
        if in_frames is None and in_rate:  # an estimate, for the progress bar only
            seconds = (float(stream.duration * stream.time_base) if stream.duration is not None and stream.time_base
                       else container.duration / av.time_base if container.duration else 0)
            in_frames = round(seconds * float(in_rate)) or None
        has_audio = bool(container.streams.audio)
        if interpolator is None:
            from pyframegan.engine import Interpolator
            interpolator = Interpolator(model, device, dtype)
        times = interpolator.times(n)  # None: the model's own n_out frames
    except BaseException:
        container.close()
        raise
    n_out = len(times) if times is not None else int(interpolator.n_out)
    natural_rate = in_rate * (n_out + 1) if in_rate else None
    out_rate = out_rate_given or natural_rate
    out_width = 2 * width if montage else width

    tmp = temporary_path(dst, f".partial{dst.suffix}")
    pipe = _Pipeline()
    out = audio_in = None
    stats: dict[str, Any] = {}
    try:
        try:
            out = av.open(str(tmp), "w")
        except (av.FFmpegError, ValueError) as exc:
            raise ValueError(f"{dst}: cannot write a video with extension {dst.suffix} ({exc})") from None
        video_codec = _choose_codec(out, codec)
        chosen_pix = _choose_pix_fmt(video_codec, pix_fmt, out_width, height)
        vstream = out.add_stream(video_codec.name, rate=out_rate)
        vstream.width, vstream.height, vstream.pix_fmt = out_width, height, chosen_pix
        vstream.options = _codec_options(video_codec.name, crf, preset)
        audio_mode = "none"
        if has_audio and not audio:
            audio_mode = "dropped (audio=False)"
        elif has_audio and out_rate_given is not None and out_rate_given != natural_rate:
            audio_mode = "dropped (fps changes the duration)"
        elif has_audio:
            try:
                audio_in = _Audio(src, out, start_time)
                audio_mode = audio_in.mode
            except _NoAudio as exc:
                audio_mode = f"dropped ({exc})"
        try:
            out.start_encoding()  # opens the encoders now: a bad option fails before any decoding
        except av.FFmpegError as exc:
            raise ValueError(f"{dst}: the encoder could not be set up ({exc})") from None

        decoded: queue.Queue = queue.Queue(maxsize=queue_size)
        computed: queue.Queue = queue.Queue(maxsize=queue_size)
        pipe.spawn("decode", _decode, src, container, stream, pipe, decoded, batch_size, detector)
        container = None  # owned (and closed) by the decoder stage now
        use_context = bool(context and getattr(interpolator, "context", False))
        pipe.spawn("compute", _compute, interpolator, times, pipe, decoded, computed, use_context)

        total = (in_frames - 1) * (n_out + 1) + 1 if in_frames else None
        time_base = 1 / out_rate
        written = source_frames = 0
        cuts: list[int] = []
        with tqdm(total=total, unit="frame", desc=dst.name, disable=True if not progress else None,
                  dynamic_ncols=True) as bar:
            while True:
                try:
                    batch = pipe.get(computed)
                except _Stopped:
                    break
                if batch is _END:
                    break
                cuts += [source_frames + j + 1 for j, cut in enumerate(batch.cuts) if cut]
                source_frames += 1 if batch.final else len(batch.cuts)
                for image in _output_frames(batch, n_out, montage):
                    if audio_in is not None:
                        audio_in.advance(out, float(written * time_base))
                    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
                    frame.pts, frame.time_base = written, time_base
                    for packet in vstream.encode(frame):
                        out.mux(packet)
                    written += 1
                    bar.update(1)
        pipe.close()
        pipe.raise_error()
        if written == 0:
            raise ValueError(f"{src}: no video frames could be decoded")
        for packet in vstream.encode(None):
            out.mux(packet)
        if audio_in is not None:
            audio_in.finish(out)
        out.close()
        out = None
        os.replace(tmp, dst)
        seconds = time.perf_counter() - started
        stats = {
            "input": str(src), "output": str(dst), "input_frames": source_frames, "output_frames": written,
            "n_out": n_out, "context": use_context, "input_fps": float(in_rate) if in_rate else None,
            "output_fps": float(out_rate),
            "width": width, "height": height, "output_width": out_width, "montage": montage,
            "codec": video_codec.name, "pix_fmt": chosen_pix, "scene_cuts": cuts, "audio": audio_mode,
            "seconds": seconds, "frames_per_second": written / seconds if seconds > 0 else None,
        }
        return stats
    finally:
        pipe.close()
        if container is not None:
            container.close()
        if audio_in is not None:
            audio_in.close()
        if out is not None:
            try:
                out.close()
            except Exception:  # noqa: BLE001 - already failing; the file is deleted below
                pass
        if tmp.exists() and not stats:
            tmp.unlink()


# --- the command ---------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="IN", help="the video to interpolate (anything FFmpeg reads)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="the video to write; its extension picks the container (.mp4, .mkv, .mov, .webm). "
                             "Written under a temporary name in the same folder, renamed when complete")
    add_model_options(parser)
    parser.add_argument("--fp16", action="store_true", help="run the model in half precision (CUDA only)")
    parser.add_argument("--fps", default=None, metavar="F",
                        help="output frame rate (e.g. 60 or 30000/1001). Default: input rate x (n_out+1), "
                             "which keeps the duration. Another rate writes the same frames, so the video "
                             "plays slower or faster, and the audio is dropped")
    parser.add_argument("-n", "--frames-between", type=int, default=None, metavar="N",
                        help="new frames between every two source frames, evenly spaced in time (default: the "
                             "model's n_out, 5 for the default model; any N needs a flow generator)")
    parser.add_argument("--batch-size", type=int, default=4, metavar="N", help="frame pairs per model call")
    parser.add_argument("--no-context", dest="context", action="store_false",
                        help="interpolate each pair from its two frames alone (by default a model that uses "
                             "context, like the hybrid default, also gets the frame before and after each pair "
                             "in the same shot, for accelerating motion)")
    parser.add_argument("--montage", action="store_true",
                        help="write source (each frame held) | interpolated side by side (double width)")
    parser.add_argument("--no-scene-detect", dest="scene_detect", action="store_false",
                        help="interpolate across scene cuts too (by default the frame before a cut is repeated)")
    parser.add_argument("--scene-threshold", type=float, default=3.0, metavar="R",
                        help="a frame difference R times the shot's typical difference is a cut "
                             "(larger: fewer cuts)")
    parser.add_argument("--codec", default=None,
                        help="video encoder (libx264, libx265, libvpx-vp9, ffv1, png ...); default: libx264, "
                             "or the first of libvpx-vp9, mpeg4, ffv1 that the container takes")
    parser.add_argument("--crf", type=float, default=None,
                        help=f"constant quality for {', '.join(CRF_CODECS)} (lower is better; 0 is lossless "
                             "for libx264); default: 18 for libx264")
    parser.add_argument("--preset", default=None, help="encoder speed preset for libx264/libx265 (e.g. veryfast, slow)")
    parser.add_argument("--pix-fmt", default=None,
                        help="pixel format; default yuv420p, or yuv444p when the width or height is odd "
                             "(yuv420p needs even sizes)")
    parser.add_argument("--no-audio", dest="audio", action="store_false",
                        help="do not copy the audio (by default the first audio stream is copied, or re-encoded "
                             "to AAC when the container needs it)")


def main(args: argparse.Namespace) -> int:
    from pyframegan.engine import Interpolator

    if args.fp16:
        device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
        if device.type != "cuda":
            raise ValueError("--fp16 needs a CUDA device (on the CPU half precision is slower, not faster)")
    _check_paths(Path(args.input), Path(args.output))  # before the model is loaded
    interpolator = Interpolator(args.model, args.device, torch.float16 if args.fp16 else torch.float32)
    try:
        stats = interpolate_video(args.input, args.output, interpolator, fps=args.fps, batch_size=args.batch_size,
                                  montage=args.montage, scene_detect=args.scene_detect,
                                  scene_threshold=args.scene_threshold, codec=args.codec, pix_fmt=args.pix_fmt,
                                  crf=args.crf, preset=args.preset, audio=args.audio, n=args.frames_between,
                                  context=args.context)
    except KeyboardInterrupt:
        print(f"pyframegan video: interrupted; {args.output} was not written", file=sys.stderr)
        return 130
    cuts = len(stats["scene_cuts"])
    print(f"wrote {stats['output']}: {stats['output_frames']} frames ({stats['input_frames']} source frames + "
          f"{stats['n_out']} between each pair) {stats['output_width']}x{stats['height']} at "
          f"{stats['output_fps']:.6g} fps, {stats['codec']} {stats['pix_fmt']}, audio {stats['audio']}, "
          f"{cuts} scene cut{'s' if cuts != 1 else ''} not interpolated; {stats['seconds']:.1f} s "
          f"({stats['frames_per_second']:.1f} frames/s)")
    return 0
