"""`pyframegan evaluate`: the model and classical baselines on held-out windows of real videos.

Each clip is decoded (scaled so the longer side is at most ``--max-side``, exact repeated frames
dropped as ``make-strips`` does) and scanned for scene cuts. Among the windows of ``--span`` + 1
consecutive frames (default 7) that do not cross a cut, ``--windows`` are taken, evenly spaced. In
each window frames 0 and K = ``--span`` are the inputs and frames 1..K-1 the ground truth (K = 6:
the seed's 2 -> 5; K = 2: one frame between frames two apart, the situation closest to doubling a
video's frame rate). The model ("pyframegan") and every baseline (:mod:`pyframegan.baselines`)
interpolate the same windows; PSNR and SSIM (:mod:`pyframegan.metrics`, mean over the K-1 frames
of a window) and the seconds per window are reported per clip and as the
mean over all windows, as a table, a JSON file (``--json``) and a picture of middle frames
(``--picture``).

With OpenCV, the motion of every window is measured too (:func:`pyframegan.diagnostics.motion`):
how far the content moves from the middle frame to the inputs and how far that is from linear
motion, which no method given frames 0 and 6 alone can know. ``--baselines ...,oracle`` adds the
inputs warped with the flows of the true frames (:func:`pyframegan.diagnostics.oracle`), an upper
bound for warping and blending; ``oracle-shift`` moves each of DIS's frames by the one global
translation that fits the true frame (:func:`pyframegan.diagnostics.oracle_shift`): what the
camera's shake, which the inputs do not show, costs.

A baseline whose tool is missing (OpenCV, an ffmpeg binary) and the model when none is given and no
default is shipped are skipped with a note. Seconds per window are wall-clock times of one call
(after one untimed warm-up call per method); minterpolate's include starting an ffmpeg process.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from tqdm import tqdm

from pyframegan import baselines as baseline_fns
from pyframegan import diagnostics, methods
from pyframegan.data.scenecut import SceneCutDetector
from pyframegan.data.decode import read_frames
from pyframegan.files import atomic_write
from pyframegan.metrics import psnr, ssim
from pyframegan.model_options import add_model_options
from pyframegan.picture import make_picture

SPAN = 6                  # default: frames 0 and 6 in, 1..5 compared with the output
MODEL_NAME = methods.MODEL
DEFAULT_BASELINES = "blend,dis,minterpolate"

# (a, b, truth, context: (before, after) or None) -> frames
Method = Callable[[np.ndarray, np.ndarray, "list[np.ndarray]", "tuple | None"], "list[np.ndarray]"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("videos", nargs="+", metavar="VIDEO",
                        help="video files, or folders holding an image sequence")
    add_model_options(parser)  # the model is skipped with a note when none is given and none is shipped
    parser.add_argument("--baselines", default=DEFAULT_BASELINES, metavar="LIST",
                        help=f"comma-separated baselines from {', '.join(methods.BASELINES)} "
                             f"('' for none); one whose tool is missing is skipped with a note. Diagnostics "
                             "that see the true in-between frames (not methods): "
                             + "; ".join(f"'{n}': {methods.METHODS[n].note}" for n in methods.DIAGNOSTICS))
    parser.add_argument("--max-side", type=int, default=512, metavar="N",
                        help="scale frames down so the longer side is at most N")
    parser.add_argument("--span", type=int, default=SPAN, metavar="K",
                        help="frames 0 and K of each window in, the K-1 frames between them scored (2..16; "
                             "6: the seed's 2 -> 5; 2: one frame between frames two apart)")
    parser.add_argument("--context", action="store_true",
                        help="give the model context: windows of 3K+1 frames, frames K and 2K in, K+1..2K-1 "
                             "scored, and frames 0 and 3K as the frames before and after (models that use "
                             "context, the hybrid generator; the baselines use the pair only)")
    parser.add_argument("--windows", type=int, default=8, metavar="N",
                        help="windows of K+1 frames per clip, evenly spaced among those without a scene cut")
    parser.add_argument("--json", default=None, metavar="OUT.json", help="write all results as JSON")
    parser.add_argument("--picture", default=None, metavar="OUT.png",
                        help="write a picture of middle frames: ground truth and every method, one row per window")
    parser.add_argument("--picture-windows", type=int, default=4, metavar="N",
                        help="windows shown in --picture, evenly spaced over all clips")


# --- windows ----------------------------------------------------------------------------------------
@dataclass
class Clip:
    path: Path
    frames: int = 0                 # after dropping repeated frames
    height: int = 0
    width: int = 0
    cuts: list[int] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # first frame of each evaluated window

    @property
    def name(self) -> str:
        return self.path.name


def valid_starts(frames: int, cuts: Sequence[int], window: int = SPAN + 1) -> list[int]:
    """Start frames of the windows of ``window`` consecutive frames that no scene cut crosses
    (a cut at ``c`` lies between frames ``c - 1`` and ``c``)."""
    cut_set = set(cuts)
    return [s for s in range(frames - window + 1) if not any(c in cut_set for c in range(s + 1, s + window))]


def spread(items: Sequence, k: int) -> list:
    """``k`` items evenly spaced over ``items`` (first and last included), or all of them if fewer."""
    if len(items) <= k:
        return list(items)
    if k == 1:
        return [items[(len(items) - 1) // 2]]
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)]


def scan_clip(path: Path, max_side: int, windows: int, window: int = SPAN + 1) -> Clip:
    """First pass over a clip: frame count, size, scene cuts, and the windows to evaluate."""
    clip = Clip(path)
    detector = SceneCutDetector()
    for i, frame in enumerate(read_frames(path, max_side=max_side, drop_duplicates=True)):
        if detector.update(frame):
            clip.cuts.append(i)
        clip.frames = i + 1
        clip.height, clip.width = frame.shape[:2]
    if clip.frames < window:
        raise ValueError(f"{path}: {clip.frames} frames (after dropping repeated frames); evaluation "
                         f"needs at least {window} consecutive frames")
    starts = valid_starts(clip.frames, clip.cuts, window)
    if not starts:
        raise ValueError(f"{path}: no {window} consecutive frames without a scene cut "
                         f"(cuts before frames {clip.cuts})")
    clip.starts = spread(starts, windows)
    return clip


def iter_clip_windows(clip: Clip, max_side: int, size: int = SPAN + 1) -> Iterator[tuple[int, list[np.ndarray]]]:
    """Second pass: ``(start, size frames)`` for each of ``clip.starts``, holding one window in memory."""
    wanted = set(clip.starts)
    window: list[np.ndarray] = []
    for i, frame in enumerate(read_frames(clip.path, max_side=max_side, drop_duplicates=True)):
        window = window[-(size - 1):] + [frame]
        start = i - size + 1
        if start in wanted:
            yield start, window
            if start == clip.starts[-1]:
                return


# --- methods ----------------------------------------------------------------------------------------
def _model_method(model: str | os.PathLike | None, device, span: int = SPAN) -> tuple[Method | None, str | None, dict]:
    """The model as a method making the ``span`` - 1 frames between frames 0 and ``span``, or (None,
    why it is skipped, {})."""
    from pyframegan import engine  # imported here: the baselines alone run without the C++ extension
    if model is None and not engine.DEFAULT_MODEL.is_file():
        return None, "no --model given and no default model is shipped (pyframegan/weights/default.pt)", {}
    interpolator = engine.Interpolator(model, device=device)
    n_in, n = int(interpolator.meta.get("n_in", 2)), span - 1
    if n_in != 2 or (interpolator.n_out != n and not interpolator.any_times):
        raise ValueError(f"{model or engine.DEFAULT_MODEL}: the model maps {n_in} frames to {interpolator.n_out} at "
                         f"fixed times; --span {span} needs a model from 2 frames to {n}, or one that makes frames "
                         "at any time (a flow or hybrid generator)")
    times = interpolator.times(n)

    def run(a: np.ndarray, b: np.ndarray, truth, context) -> list[np.ndarray]:
        extra = [] if context is None else [torch.from_numpy(f)[None] for f in context]
        out = interpolator.run(torch.from_numpy(a)[None], torch.from_numpy(b)[None], times, *extra)
        return list(out[0].numpy())

    info = {"path": str(model or engine.DEFAULT_MODEL), "device": str(interpolator.device),
            "n_out": interpolator.n_out, "context": interpolator.context}
    return run, None, info


def parse_baselines(text: str | Sequence[str]) -> list[str]:
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else list(text)
    names = [n for n in names if n]
    for name in names:
        methods.check_name(name)
    return list(dict.fromkeys(names))


# --- metrics ----------------------------------------------------------------------------------------
def _to_tensor(frames: Sequence[np.ndarray]) -> torch.Tensor:
    return torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float() / 255.0


def score(output: Sequence[np.ndarray], truth: Sequence[np.ndarray]) -> dict:
    """PSNR (dB) and SSIM per frame and their means over the frames."""
    x, y = _to_tensor(output), _to_tensor(truth)
    p, s = psnr(x, y).tolist(), ssim(x, y).tolist()
    return {"psnr": float(np.mean(p)), "ssim": float(np.mean(s)), "psnr_per_frame": p, "ssim_per_frame": s}


def _summary(records: Sequence[dict]) -> dict:
    return {"windows": len(records),
            "psnr": float(np.mean([r["psnr"] for r in records])),
            "ssim": float(np.mean([r["ssim"] for r in records])),
            "seconds_per_window": float(np.mean([r["seconds"] for r in records]))}


# --- the evaluation ---------------------------------------------------------------------------------
def evaluate(videos: Sequence[str | os.PathLike], model: str | os.PathLike | None = None,
             baselines: str | Sequence[str] = DEFAULT_BASELINES, max_side: int = 512, windows: int = 8,
             device=None, json_path: str | os.PathLike | None = None,
             picture: str | os.PathLike | None = None, picture_windows: int = 4,
             log: Callable[[str], None] = print, span: int = SPAN, context: bool = False) -> dict:
    """Evaluate the model and baselines on windows of ``span`` + 1 frames; returns the report (what
    ``--json`` writes)."""
    if isinstance(span, bool) or not isinstance(span, int) or not 2 <= span <= 16:
        raise ValueError(f"--span must be an integer in [2, 16], got {span!r}")
    size, n_out = (3 * span + 1 if context else span + 1), span - 1
    first = span if context else 0  # the window's frame a
    if windows < 1:
        raise ValueError(f"--windows must be at least 1, got {windows}")
    if max_side < 16:
        raise ValueError(f"--max-side must be at least 16, got {max_side}")
    if picture_windows < 1:
        raise ValueError(f"--picture-windows must be at least 1, got {picture_windows}")
    paths = [Path(v) for v in videos]
    if not paths:
        raise ValueError("no videos given")
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file or folder")

    run: dict[str, Method] = {}
    skipped: dict[str, str] = {}
    for name in parse_baselines(baselines):
        why = methods.unavailable(name)
        if why:
            skipped[name] = why
        else:
            run[name] = lambda a, b, truth, ctx, fn=methods.METHODS[name].run: fn(a, b, truth, n_out)
    run_model, why, model_info = _model_method(model, device, span)
    if run_model is None:
        skipped[MODEL_NAME] = why
    else:
        if context and not model_info.get("context"):
            raise ValueError(f"--context: {model_info['path']} does not use context frames; the hybrid generator does")
        run[MODEL_NAME] = run_model
    for name, why in skipped.items():
        log(f"note: skipping {name}: {why}")
    if not run:
        raise ValueError("nothing to evaluate: every method was skipped or none was asked for")
    measure_motion = baseline_fns.opencv_missing() is None

    clips = [scan_clip(path, max_side, windows, size) for path in paths]
    total = sum(len(c.starts) for c in clips)
    shown = set(spread([(i, s) for i, c in enumerate(clips) for s in c.starts], picture_windows)) if picture else set()
    records: list[dict] = []
    tiles: list[dict] = []
    warmed: set[str] = set()
    for index, clip in enumerate(clips):
        for start, window in tqdm(iter_clip_windows(clip, max_side, size), total=len(clip.starts),
                                  desc=clip.name, unit="window", disable=None, leave=False):
            a, b = window[first], window[first + span]
            truth = window[first + 1:first + span]
            ctx = (window[0], window[-1]) if context else None
            record = {"clip": clip.name, "clip_index": index, "start": start, "results": {}}
            outputs = {}
            for name, method in run.items():
                if name not in warmed:  # first call: lazy initialisation, JIT profiling runs
                    method(a, b, truth, ctx)
                    warmed.add(name)
                t0 = time.perf_counter()
                out = method(a, b, truth, ctx)
                seconds = time.perf_counter() - t0
                if len(out) != n_out or any(f.shape != a.shape or f.dtype != np.uint8 for f in out):
                    raise RuntimeError(f"{name} returned frames of the wrong number, shape or type")
                record["results"][name] = {**score(out, truth), "seconds": seconds}
                outputs[name] = out
            if measure_motion and max(a.shape[:2]) >= baseline_fns.DIS_MIN_SIDE:
                record["motion"] = diagnostics.motion(a, b, window[first + span // 2])
            records.append(record)
            if (index, start) in shown:
                mid = n_out // 2
                s0 = start + first
                tiles.append({"label": f"{clip.name}  frames {s0}-{s0 + span} (middle {s0 + mid + 1})",
                              "images": [truth[mid]] + [outputs[n][mid] for n in run],
                              "psnr": [None] + [record["results"][n]["psnr_per_frame"][mid] for n in run]})

    def results_of(name: str, recs: Sequence[dict]) -> dict:
        return _summary([r["results"][name] for r in recs])

    def motion_of(recs: Sequence[dict]) -> dict | None:
        measured = [r["motion"] for r in recs if "motion" in r]
        if not measured:
            return None
        return {key: float(np.mean([m[key] for m in measured])) for key in ("motion_px", "nonlinear_px")}

    report = {
        "settings": {"span": span, "context": context, "window": size, "inputs": [first, first + span],
                     "targets": list(range(first + 1, first + span)),
                     "max_side": max_side, "windows_per_clip": windows, "drop_duplicates": True,
                     "minterpolate_filter": baseline_fns.MINTERPOLATE, "torch_threads": torch.get_num_threads()},
        "methods": list(run),
        "skipped": skipped,
        "model": model_info or None,
        "clips": [{"path": str(c.path), "name": c.name, "frames": c.frames, "height": c.height, "width": c.width,
                   "cuts": c.cuts, "window_starts": c.starts,
                   "results": {n: results_of(n, [r for r in records if r["clip_index"] == i]) for n in run},
                   "motion": motion_of([r for r in records if r["clip_index"] == i])}
                  for i, c in enumerate(clips)],
        "mean": {n: results_of(n, records) for n in run},
        "motion": motion_of(records),
        "total_windows": total,
        "windows": records,
    }
    if json_path is not None:
        json_path = Path(json_path)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(json_path, lambda f: f.write(json.dumps(report, indent=2).encode()), durable=False)
    if picture is not None:
        make_picture(tiles, ["ground truth"] + [methods.label(n) for n in run], picture)
    return report


# --- output -----------------------------------------------------------------------------------------
def format_table(report: dict) -> str:
    """The per-clip and overall table as text."""
    rows = [("clip", "method", "windows", "PSNR dB", "SSIM", "s/window")]
    for clip in report["clips"]:
        for i, (name, r) in enumerate(clip["results"].items()):
            rows.append((clip["name"] if i == 0 else "", name, str(r["windows"]), f"{r['psnr']:.2f}",
                         f"{r['ssim']:.4f}", f"{r['seconds_per_window']:.3f}"))
    for i, (name, r) in enumerate(report["mean"].items()):
        rows.append(("mean, all windows" if i == 0 else "", name, str(r["windows"]), f"{r['psnr']:.2f}",
                     f"{r['ssim']:.4f}", f"{r['seconds_per_window']:.3f}"))
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    lines = []
    for k, row in enumerate(rows):
        cells = [row[c].ljust(widths[c]) if c < 2 else row[c].rjust(widths[c]) for c in range(len(row))]
        lines.append("  ".join(cells).rstrip())
        if k == 0 or (k + 1 < len(rows) and rows[k + 1][0]):  # under the header, between groups
            lines.append("  ".join("-" * w for w in widths))
    if report.get("motion"):
        parts = [f"{c['name']} {c['motion']['motion_px']:.2f} / {c['motion']['nonlinear_px']:.2f}"
                 for c in report["clips"] if c["motion"]]
        lines.append("motion from the middle frame to the inputs / its departure from linear motion, px "
                     f"(DIS): {', '.join(parts)}; all {report['motion']['motion_px']:.2f} / "
                     f"{report['motion']['nonlinear_px']:.2f}")
    lines += [f"{name}: not a method -- {methods.METHODS[name].note}" for name in methods.DIAGNOSTICS
              if name in report["methods"]]
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    report = evaluate(args.videos, model=args.model, baselines=args.baselines, max_side=args.max_side,
                      windows=args.windows, device=args.device, json_path=args.json, picture=args.picture,
                      picture_windows=args.picture_windows, span=args.span, context=args.context)
    clips = ", ".join(f"{c['name']}: {len(c['window_starts'])} windows of {c['frames']} frames "
                      f"{c['width']}x{c['height']}, {len(c['cuts'])} cuts" for c in report["clips"])
    st = report["settings"]
    (i0, i1), targets = st["inputs"], st["targets"]
    scored = f"target {targets[0]}" if len(targets) == 1 else f"targets {targets[0]}-{targets[-1]}"
    extra = f", context frames 0 and {st['window'] - 1} for the model" if st["context"] else ""
    print(f"{report['total_windows']} windows of {st['window']} frames (inputs {i0} and {i1}, {scored}{extra}) "
          f"-- {clips}")
    print(format_table(report))
    if args.json:
        print(f"wrote {args.json}")
    if args.picture:
        print(f"wrote {args.picture}")
    return 0
