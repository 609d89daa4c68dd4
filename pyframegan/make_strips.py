"""`pyframegan make-strips`: cut videos or image sequences into training strips.

Each input (a video, or a folder holding an image sequence) is decoded frame by frame (repeated
frames dropped), cut into windows of ``--frames`` consecutive frames every ``--step`` frames,
windows that cross a scene cut are skipped, and each window is written as one strip image in the
seed layout, named ``<source-stem>_<start-frame:06d>.<format>`` (start frames count the frames
kept after dropping repeats).
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Sequence

from tqdm import tqdm

from pyframegan.data.strips import WindowStats, iter_windows, make_strip, seed_layout, write_strip
from pyframegan.data.decode import check_tile_budget, list_images, read_frames, resize_image, video_info


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="VIDEO_OR_FOLDER",
                        help="video files, or folders holding an image sequence (sorted naturally by name)")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="folder for the strips (created)")
    parser.add_argument("--frames", type=int, default=7, help="frames per strip (2 inputs + frames-2 targets)")
    parser.add_argument("--step", type=int, default=None, metavar="K",
                        help="start a window every K frames; None means K = --frames "
                             "(windows do not overlap)")
    parser.add_argument("--size", type=int, default=None, metavar="S",
                        help="resize each tile to SxS; None keeps the decoded size")
    parser.add_argument("--max-side", type=int, default=None, metavar="N",
                        help="scale frames down while decoding so the longer side is at most N "
                             "(even sizes)")
    parser.add_argument("--format", choices=("jpg", "png"), default="jpg",
                        help="strip image format (jpg: quality 95)")
    parser.add_argument("--max-strips", type=int, default=None, metavar="N",
                        help="stop after writing N strips in all; None: no limit")


def _stem(source: Path) -> str:
    return source.name if source.is_dir() else source.stem


def _check_inputs(inputs: Sequence[Path]) -> None:
    """Fail before writing anything: missing inputs, or two inputs whose strips would share names."""
    seen: dict[str, Path] = {}
    for source in inputs:
        if not source.exists():
            raise FileNotFoundError(f"{source}: no such file or folder")
        other = seen.setdefault(_stem(source), source)
        if other is not source:
            raise ValueError(f"{other} and {source} would both write strips named {_stem(source)}_*; "
                             "rename one of them")


def _frame_count(source: Path) -> int | None:
    return len(list_images(source)) if source.is_dir() else video_info(source)["num_frames"]


def cut_source(source: Path, output: Path, frames: int = 7, step: int = 1, size: int | None = None,
               max_side: int | None = None, fmt: str = "jpg", max_strips: int | None = None) -> WindowStats:
    """Write the strips of one video / image folder into ``output``; returns what was seen."""
    decoded = read_frames(source, max_side=max_side, drop_duplicates=True)
    if size is not None:
        decoded = (resize_image(frame, (size, size)) for frame in decoded)
    stats = WindowStats()
    with tqdm(decoded, total=_frame_count(source), unit="frame", desc=source.name, disable=None) as bar:
        for start, window in iter_windows(bar, frames, step, stats=stats):
            write_strip(output / f"{_stem(source)}_{start:06d}.{fmt}", make_strip(window, frames))
            if max_strips is not None and stats.windows >= max_strips:
                break
    return stats


def make_strips(inputs: Sequence[str | os.PathLike], output: str | os.PathLike, frames: int = 7,
                step: int | None = None, size: int | None = None, max_side: int | None = None,
                fmt: str = "jpg", max_strips: int | None = None) -> dict[Path, WindowStats]:
    """Cut every input into strips in ``output``; returns the statistics per input."""
    inputs, output = [Path(p) for p in inputs], Path(output)
    seed_layout(frames)  # validates frames
    step = frames if step is None else step
    options = {"--step": step, "--size": size, "--max-side": max_side, "--max-strips": max_strips}
    for name, value in options.items():
        if value is not None and value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    if size is not None:
        check_tile_budget("--size", frames, size, size)
    _check_inputs(inputs)
    output.mkdir(parents=True, exist_ok=True)
    results: dict[Path, WindowStats] = {}
    written = 0
    for source in inputs:
        left = None if max_strips is None else max_strips - written
        if left == 0:
            break
        stats = cut_source(source, output, frames, step, size, max_side, fmt, left)
        results[source] = stats
        written += stats.windows
    return results


def main(args: argparse.Namespace) -> int:
    results = make_strips(args.inputs, args.output, args.frames, args.step, args.size, args.max_side,
                          args.format, args.max_strips)
    for source, stats in results.items():
        note = f" (too short for one window of {args.frames})" if stats.frames < args.frames else ""
        print(f"{source}: {stats.windows} strips from {stats.frames} frames, {len(stats.cuts)} scene cuts, "
              f"{stats.skipped_at_cuts} windows skipped at cuts{note}")
    written = sum(stats.windows for stats in results.values())
    skipped = sum(stats.skipped_at_cuts for stats in results.values())
    if written == 0:
        raise ValueError(f"no strips written: no input has {args.frames} consecutive frames "
                         "without a scene cut")
    print(f"wrote {written} strips to {args.output} ({skipped} windows skipped at scene cuts)")
    return 0
