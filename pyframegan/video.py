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
The threads are :mod:`pyframegan.pipeline`; the encoder, pixel format and audio :mod:`pyframegan.encoding`.

Timing (:mod:`pyframegan.timing`). Source frames are placed by their timestamps, so a variable
frame rate keeps its timing; the output is a constant-rate grid whose every frame is the source
frame at that time or the one interpolated at its position between the two source frames around
it. The grid's rate is the input's (average) rate times ``n + 1`` (``n``: the model's ``n_out``, or
``-n/--frames-between`` for a flow generator), or ``to_fps`` (``--to-fps``) for rate conversion up or
down. Either way the duration is kept: the last source frame is held for its own interval.
``fps`` (``--fps``) writes the frames at another rate than they were made for (slow or fast
motion). ``dedup`` drops repeated frames first, so the remaining ones are interpolated across at
their own times (animation drawn on twos). Standard input and output can be pipes (``-``).

Scene cuts (pyframegan.data.scenecut) are not interpolated across: the frame before the cut is
held until the cut instead. Audio is copied packet for packet when the output container
takes its codec, re-encoded to AAC (Opus for WebM) when it does not, and dropped when ``fps``
changes the duration of the video or either end is a pipe.
"""
from __future__ import annotations

import argparse
import math
import os
import queue
import sys
import time
import warnings
from contextlib import nullcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import torch
from tqdm import tqdm

from pyframegan.data.decode import DEFAULT_REPEAT_TOLERANCE, STDIN, _open_video
from pyframegan.data.scenecut import SceneCutDetector
from pyframegan.engine import MAX_FRAMES_BETWEEN, MIN_SIDE
from pyframegan.encoding import (CRF_CODECS, DEFAULT_CODECS, RAW_CODECS, Colour, bit_depth, choose_codec,
                                 choose_pix_fmt, codec_options, open_audio)
from pyframegan.files import atomic_output
from pyframegan.model_options import add_model_options
from pyframegan.pipeline import END, Pipeline, Schedule, Stopped, compute_batches, decode_batches, output_frames
from pyframegan.timing import OutputGrid, parse_fps



# --- the public API ------------------------------------------------------------------------------
class TruncatedVideoWarning(UserWarning):
    """The input decoded to fewer frames than its header declares."""


PIPE = STDIN  # "-": as the input, standard input; as the output, standard output
# a batch's pairs are fewer where their new frames would take more than this, and a pair's own new
# frames are made and written in parts of at most this (a few batches are in flight): -n 1024 at
# 640x272 made 2 GB a batch of 4, at 1080p 6.4 GB a pair
BATCH_BYTES = 1 << 30


def _check_paths(src: Path, dst: Path, format: str | None = None) -> None:
    if str(src) != PIPE and not src.exists():
        raise FileNotFoundError(f"{src}: no such file")
    if str(dst) == PIPE:
        return
    if not dst.suffix and not format:
        raise ValueError(f"{dst}: give the output an extension (.mp4, .mkv, .mov, .webm ...): it picks the container")
    if not dst.parent.is_dir():
        raise FileNotFoundError(f"{dst.parent}: the output folder does not exist")
    if dst.is_dir():
        raise ValueError(f"{dst}: is a folder; give an output file name")
    if dst.exists() and str(src) != PIPE and src.resolve() == dst.resolve():
        raise ValueError(f"{dst}: the output would overwrite the input")


def interpolate_video(src: str | os.PathLike, dst: str | os.PathLike, interpolator=None, *,
                      model: str | os.PathLike | None = None, device: str | torch.device | None = None,
                      dtype: torch.dtype = torch.float32, fps: float | str | Fraction | None = None,
                      to_fps: float | str | Fraction | None = None, batch_size: int = 4, montage: bool = False,
                      scene_detect: bool = True, scene_threshold: float = 3.0, codec: str | None = None,
                      pix_fmt: str | None = None, crf: float | None = None, preset: str | None = None,
                      audio: bool = True, progress: bool = True, queue_size: int = 2, n: int | None = None,
                      context: bool = True, strict: bool = False, dedup: bool = False,
                      format: str | None = None) -> dict:
    """Write ``dst``: the video ``src`` with new frames interpolated between its frames.

    Three ways to say which frames (see the module's "Timing"):
    n: frames between every two source frames, evenly spaced in time (default: the model's
    ``n_out``; any n needs a flow generator, like the default model); the output rate is the input
    rate times ``n + 1`` and the duration is kept.
    to_fps: a target rate (60, "59.94", "60000/1001"; up or down): the output keeps the duration,
    and each of its frames is the source frame at that time or one interpolated at its position
    between the two around it (flow generators). Not with ``n``.
    fps: the rate the frames are *written* at (default: the rate they were made for). Another rate
    plays the same frames slower or faster (slow motion), and drops the audio.

    src / dst: ``"-"`` reads standard input (any container FFmpeg reads from a pipe) / writes to
    standard output (``format``, default yuv4mpegpipe, raw video; audio is not carried through a
    pipe). format: the container (an FFmpeg muxer name: yuv4mpegpipe, nut, matroska, mp4 ...);
    default: from ``dst``'s extension.
    interpolator: a :class:`pyframegan.Interpolator`; if None, one is made from ``model``, ``device``
    and ``dtype`` (``model=None``: the shipped default model).
    dedup: drop frames that repeat the previous one (animation drawn on twos or threes, a held
    frame) and interpolate across them at their true times (flow generators).
    batch_size: pairs per model call. montage: source (each frame held) | interpolated, side by side.
    scene_detect / scene_threshold: do not interpolate across scene cuts (ratio to the shot's
    typical frame difference, see :class:`~pyframegan.data.scenecut.SceneCutDetector`).
    codec / pix_fmt / crf / preset: the video encoder (default: libx264, crf 18, yuv420p, or
    yuv444p when a side is odd; the first encoder the container takes otherwise; raw video to a
    pipe). The input's colour description (primaries, transfer, matrix, range) is carried over.
    audio: copy the input's first audio stream (re-encoded when the container needs it).
    queue_size: batches buffered between stages (memory stays bounded on long videos).
    strict: a video that decodes to fewer frames than its header declares (truncated, damaged) is an
    error (nothing is written) instead of a warning.
    context: give models that use context (the hybrid generator) the frame before and after each
    pair, in the same shot and evenly spaced, for quadratic motion (no effect on other models).

    Returns statistics: frames in and out, rates, sizes, codec, scene cuts, audio, seconds.
    Raises FileNotFoundError / ValueError for unusable inputs or options (checked before any frame
    is decoded). On any error, KeyboardInterrupt included, the partial file is removed and an
    existing ``dst`` is left as it was.
    """
    started = time.perf_counter()
    src, dst = Path(src), Path(dst)
    from_pipe, to_pipe = str(src) == PIPE, str(dst) == PIPE
    _check_paths(src, dst, format)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if queue_size < 1:
        raise ValueError(f"queue_size must be at least 1, got {queue_size}")
    if to_fps is not None and n is not None:
        raise ValueError("give either n (-n: frames between every two source frames) or to_fps "
                         "(--to-fps: a target rate), not both")
    write_rate_given = parse_fps(fps) if fps is not None else None
    target_rate = parse_fps(to_fps) if to_fps is not None else None
    detector = SceneCutDetector(threshold=scene_threshold) if scene_detect else None
    label = Path("stdin") if from_pipe else src

    container, stream = _open_video(src)
    try:
        width, height = stream.codec_context.width, stream.codec_context.height
        if min(width, height) < MIN_SIDE:
            raise ValueError(f"{label}: frames are {width}x{height}; they must be at least {MIN_SIDE}x{MIN_SIDE}")
        if interpolator is None:
            from pyframegan.engine import Interpolator
            interpolator = Interpolator(model, device, dtype)
        times = interpolator.times(n)  # None: the model's own n_out frames
        if not interpolator.any_times and (target_rate is not None or dedup):
            raise ValueError(f"{'to_fps (--to-fps)' if target_rate is not None else 'dedup (--dedup)'} puts frames "
                             f"at any time between two inputs, and this model makes exactly {interpolator.n_out} "
                             "evenly spaced ones; use a flow generator, like the shipped default model")
        n_out = len(times) if times is not None else int(interpolator.n_out)
        in_rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        in_rate = Fraction(in_rate) if in_rate else None
        if in_rate is None:
            if write_rate_given is None or target_rate is not None:
                raise ValueError(f"{label}: the video does not say its frame rate; pass fps (--fps)")
            in_rate = write_rate_given / (n_out + 1)
        # at most as many frames between two source frames as -n makes (--to-fps 1e9 ran for hours,
        # its memory growing, listing the output times of each pair, and a SIGTERM waited for it)
        if target_rate is not None and target_rate > in_rate * (MAX_FRAMES_BETWEEN + 1):
            raise ValueError(f"to_fps (--to-fps) {float(target_rate):g} is more than {MAX_FRAMES_BETWEEN + 1} times "
                             f"the input's {float(in_rate):g} fps: at most {MAX_FRAMES_BETWEEN} frames are made "
                             "between two source frames")
        start_time = float(stream.start_time * stream.time_base) if stream.start_time is not None and stream.time_base else 0.0
        in_frames = declared_frames = stream.frames or None
        if in_frames is None:
            seconds = (float(stream.duration * stream.time_base) if stream.duration is not None and stream.time_base
                       else container.duration / av.time_base if container.duration else 0)
            in_frames = round(seconds * float(in_rate)) or None
        has_audio = bool(container.streams.audio)
        colour = Colour.of(stream)
        bits = bit_depth(stream)
        if bits > 8:
            warnings.warn(f"{label} is {bits}-bit ({stream.codec_context.format.name}); interpolation is 8-bit, "
                          "so the output is 8-bit", stacklevel=2)
    except BaseException:
        container.close()
        raise
    sample_rate = target_rate or in_rate * (n_out + 1)  # the output frames' times: k / sample_rate
    write_rate = write_rate_given or sample_rate
    schedule = Schedule(OutputGrid(sample_rate), in_rate, by_index=not interpolator.any_times,
                        dedup=DEFAULT_REPEAT_TOLERANCE if dedup else None)
    out_width = 2 * width if montage else width
    per_pair = math.ceil(sample_rate / in_rate) * out_width * height * 3  # bytes of a pair's output frames
    batch_size = max(1, min(batch_size, BATCH_BYTES // per_pair))

    with atomic_output(dst, f".partial{dst.suffix}") if not to_pipe else nullcontext("pipe:1") as tmp:
        pipe = Pipeline()
        out = audio_in = None
        stats: dict[str, Any] = {}
        try:
            try:
                out = av.open(str(tmp), "w", format=format or ("yuv4mpegpipe" if to_pipe else None))
            except (av.FFmpegError, ValueError) as exc:
                what = f"the container {format!r}" if format else f"extension {dst.suffix}"
                raise ValueError(f"{dst}: cannot write a video with {what} ({exc})") from None
            video_codec = choose_codec(out, codec, RAW_CODECS if to_pipe else DEFAULT_CODECS)
            chosen_pix = choose_pix_fmt(video_codec, pix_fmt, out_width, height)
            vstream = out.add_stream(video_codec.name, rate=write_rate)
            vstream.width, vstream.height, vstream.pix_fmt = out_width, height, chosen_pix
            vstream.options = codec_options(video_codec.name, crf, preset)
            colour.tag(vstream)
            audio_in, audio_mode = open_audio(src, out, start_time, present=has_audio, wanted=audio,
                                              piped=from_pipe or to_pipe, retimed=write_rate != sample_rate)
            try:
                out.start_encoding()  # opens the encoders now: a bad option fails before any decoding
            except av.FFmpegError as exc:
                raise ValueError(f"{dst}: the encoder could not be set up ({exc})") from None

            decoded: queue.Queue = queue.Queue(maxsize=queue_size)
            computed: queue.Queue = queue.Queue(maxsize=queue_size)
            pipe.spawn("decode", decode_batches, label, container, stream, pipe, decoded, batch_size, detector,
                       schedule)
            container = None  # owned (and closed) by the decoder stage now
            use_context = bool(context and getattr(interpolator, "context", False))
            pipe.spawn("compute", compute_batches, interpolator, pipe, decoded, computed, use_context,
                       max(1, BATCH_BYTES // (width * height * 3)))

            total = round(in_frames / in_rate * sample_rate) if in_frames else None
            time_base = 1 / write_rate
            written = kept = 0
            cuts: list[int] = []
            with tqdm(total=total, unit="frame", desc=dst.name or "stdout", disable=True if not progress else None,
                      dynamic_ncols=True) as bar:
                while True:
                    try:
                        batch = pipe.get(computed)
                    except Stopped:
                        break
                    if batch is END:
                        break
                    if not batch.continued:
                        cuts += [kept + j + 1 for j, cut in enumerate(batch.cuts) if cut]
                        kept += 1 if batch.final else len(batch.cuts)
                    for image in output_frames(batch, montage):
                        if audio_in is not None:
                            audio_in.advance(out, float(written * time_base))
                        frame = colour.frame(np.ascontiguousarray(image), chosen_pix)
                        frame.pts, frame.time_base = written, time_base
                        for packet in vstream.encode(frame):
                            out.mux(packet)
                        written += 1
                        bar.update(1)
            pipe.close()
            pipe.raise_error()
            if written == 0:
                raise ValueError(f"{label}: no video frames could be decoded")
            source_frames = pipe.stats["decoded"]
            short = declared_frames and source_frames < declared_frames - 1  # one frame of slack: edit lists
            if short or pipe.decode_stopped:
                declared = f" of the {declared_frames} frames its header declares" if declared_frames else ""
                why = f"; {pipe.decode_stopped}" if pipe.decode_stopped else ""
                message = (f"{label}: decoded {source_frames}{declared} (the file may be truncated or damaged{why})")
                if strict:
                    raise ValueError(message + "; nothing written (--strict)")
                warnings.warn(message, TruncatedVideoWarning, stacklevel=2)
            for packet in vstream.encode(None):
                out.mux(packet)
            if audio_in is not None:
                audio_in.finish(out)
            out.close()
            out = None
            seconds = time.perf_counter() - started
            stats = {
                "input": str(label), "output": "stdout" if to_pipe else str(dst), "input_frames": source_frames,
                "repeats_dropped": pipe.stats["repeats"], "unplaced_frames": pipe.stats["unplaced"],
                "output_frames": written, "n_out": None if target_rate is not None else n_out,
                "context": use_context, "input_fps": float(in_rate), "output_fps": float(write_rate),
                "sample_fps": float(sample_rate), "duration": float(written * time_base),
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


# --- the command ---------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", metavar="IN",
                        help="the video to interpolate (anything FFmpeg reads); - reads a pipe on standard input "
                             "(y4m, nut, matroska)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="the video to write; its extension picks the container (.mp4, .mkv, .mov, .webm). "
                             "Written under a temporary name in the same folder, renamed when complete. - writes "
                             "raw video to standard output (--format: yuv4mpegpipe by default, or nut); audio is "
                             "not carried through a pipe")
    add_video_options(parser)


def add_video_options(parser: argparse.ArgumentParser) -> None:
    """Every option of `pyframegan video` but its input and output (`batch` takes them too)."""
    add_model_options(parser)
    parser.add_argument("--fp16", action="store_true", help="run the model in half precision (CUDA only)")
    parser.add_argument("-n", "--frames-between", type=int, default=None, metavar="N",
                        help="new frames between every two source frames, evenly spaced in time: the output "
                             "rate is the input rate x (N+1), the duration is kept (default: the model's n_out, "
                             "5 for the default model; any N needs a flow generator)")
    parser.add_argument("--to-fps", default=None, metavar="F",
                        help="convert to the frame rate F (60, 59.94, 60000/1001; up or down), keeping the "
                             "duration: each output frame is the source frame at its time or one interpolated "
                             "at its position between the two around it. Instead of -n")
    parser.add_argument("--fps", default=None, metavar="F",
                        help="the rate the frames are written at (default: the rate they were made for, by -n or "
                             "--to-fps). Another rate plays the same frames slower or faster (slow motion: "
                             "-n 7 --fps 30 on a 30 fps video is 8x slower) and drops the audio")
    parser.add_argument("--dedup", action="store_true",
                        help="drop frames that repeat the previous one before interpolating, and interpolate "
                             "across them at their true times: animation drawn on twos or threes comes out "
                             "smooth instead of stuttering (e.g. --dedup --to-fps 60 for anime)")
    parser.add_argument("--format", default=None, metavar="NAME",
                        help="the output container as FFmpeg names it (yuv4mpegpipe, nut, matroska, mp4 ...); "
                             "default: from the extension, or yuv4mpegpipe for -o -")
    parser.add_argument("--batch-size", type=int, default=4, metavar="N", help="frame pairs per model call")
    parser.add_argument("--strict", action="store_true",
                        help="fail (writing nothing) when the input decodes to fewer frames than its header "
                             "declares; by default that is a warning with both counts")
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


def engine_dtype(device: str | None, fp16: bool) -> torch.dtype:
    """The model's dtype for --fp16: float16 (CUDA only), else float32."""
    if fp16 and torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu")).type != "cuda":
        raise ValueError("--fp16 needs a CUDA device (on the CPU half precision is slower, not faster)")
    return torch.float16 if fp16 else torch.float32


def video_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of :func:`interpolate_video` that :func:`add_arguments` put in ``args``
    (input, output, model and device excepted): one definition for `video` and `batch`."""
    return dict(fps=args.fps, to_fps=args.to_fps, dedup=args.dedup, format=args.format, batch_size=args.batch_size,
                montage=args.montage, scene_detect=args.scene_detect, scene_threshold=args.scene_threshold,
                codec=args.codec, pix_fmt=args.pix_fmt, crf=args.crf, preset=args.preset, audio=args.audio,
                n=args.frames_between, context=args.context, strict=args.strict)


def main(args: argparse.Namespace) -> int:
    from pyframegan.engine import Interpolator

    dtype = engine_dtype(args.device, args.fp16)
    _check_paths(Path(args.input), Path(args.output), args.format)  # before the model is loaded
    interpolator = Interpolator(args.model, args.device, dtype)
    try:
        stats = interpolate_video(args.input, args.output, interpolator, **video_options(args))
    except KeyboardInterrupt:
        print(f"pyframegan video: interrupted; {args.output} was not written", file=sys.stderr)
        return 130
    cuts = len(stats["scene_cuts"])
    made = (f"{stats['n_out']} between each pair" if stats["n_out"] is not None
            else f"resampled to {stats['sample_fps']:.6g} fps")
    repeats = f", {stats['repeats_dropped']} repeats dropped" if args.dedup else ""
    print(f"wrote {stats['output']}: {stats['output_frames']} frames ({stats['input_frames']} source frames, {made}"
          f"{repeats}) {stats['output_width']}x{stats['height']} at {stats['output_fps']:.6g} fps, {stats['codec']} "
          f"{stats['pix_fmt']}, audio {stats['audio']}, {cuts} scene cut{'s' if cuts != 1 else ''} not "
          f"interpolated; {stats['seconds']:.1f} s ({stats['frames_per_second']:.1f} frames/s)",
          file=sys.stderr if args.output == PIPE else sys.stdout)  # stdout carries the video
    return 0
