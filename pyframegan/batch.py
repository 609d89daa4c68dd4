"""`pyframegan batch`: interpolate many videos (files, folders, globs) into a tree that mirrors them.

    pyframegan batch clips/ 'more/**/*.mkv' -o out/ [--jobs N | --ray auto|local] [every option of video]

Each video goes through :func:`pyframegan.video.interpolate_video`, which writes under a temporary
name and renames the file when it is complete, so an output that exists is complete: running the
same command again skips it (``--overwrite`` redoes it) and does the rest. The manifest
``OUTDIR/pyframegan-batch.json``, rewritten atomically after each video, records each input's
status -- "pending", "done", "skipped" (complete before this run) or "failed" -- with its output,
frames, seconds and error. An input that fails is recorded and the job goes on; the exit status
is 1 when any failed.

Where the videos run:

- in this process (the default): one after another, or ``--jobs N`` at once, in threads that each
  hold a copy of the model (the engine runs one call at a time per copy, with the GIL released),
  torch's intra-op threads divided among them;
- on a Ray cluster (``--ray auto`` / ``--ray local``): :mod:`pyframegan.batch_ray`, imported only
  then, so this path never needs Ray.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import queue
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import torch
from tqdm import tqdm

from pyframegan.errors import first_line
from pyframegan.files import atomic_write, remove_stale_temporaries
from pyframegan.video import add_video_options, engine_dtype, interpolate_video, video_options

MANIFEST = "pyframegan-batch.json"
#: what a folder or a glob is searched for (a file named on the command line is taken whatever its name)
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts",
                    ".wmv", ".flv", ".3gp", ".ogv", ".y4m", ".mxf", ".vob", ".dv")
RAY_HINT = "pip install 'pyframegan[ray]' (or pip install 'ray>=2.10') on every node"


# --- which videos, and where their outputs go ----------------------------------------------------
@dataclass(frozen=True)
class Item:
    """One video of the batch: absolute input and output paths, and the output relative to OUTDIR
    (the manifest's key)."""
    src: Path
    dst: Path
    key: str


def _is_under(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _videos_under(folder: Path, outdir: Path) -> list[Path]:
    """The video files below ``folder`` by extension: hidden files and folders (temporary outputs
    among them) and anything inside ``outdir`` left out."""
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if (path.suffix.lower() in VIDEO_EXTENSIONS and path.is_file()
                and not any(part.startswith(".") for part in rel.parts)
                and not _is_under(path.absolute(), outdir)):
            found.append(path)
    return found


def _glob_root(pattern: str) -> Path:
    """The folder a glob's matches are relative to: its leading components without wildcards."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def find_videos(inputs: Iterable[str | os.PathLike], outdir: str | os.PathLike, container: str = "mp4") -> list[Item]:
    """The batch's videos, each with its output under ``outdir``: a file as ``OUTDIR/NAME``, a
    folder's videos (searched recursively by extension) and a glob's matches at their path below
    the folder (or the glob's fixed leading folders), with the extension ``container``.

    FileNotFoundError for an input that is not there (or a glob that matches nothing); ValueError
    when no video is found or two inputs would write the same output."""
    outdir = Path(outdir).absolute()
    ext = "." + str(container).lstrip(".")
    if not ext[1:].isalnum():
        raise ValueError(f"container must be a file extension such as mp4, mkv, mov or webm, got {container!r}")
    pairs: list[tuple[Path, Path]] = []  # (input, output relative to outdir)
    for given in map(str, inputs):
        path = Path(given)
        if path.is_file():
            pairs.append((path, Path(path.name)))
        elif path.is_dir():
            pairs += [(p, p.relative_to(path)) for p in _videos_under(path, outdir)]
        elif glob.has_magic(given):
            matches = sorted(Path(m) for m in glob.glob(given, recursive=True))
            if not matches:
                raise FileNotFoundError(f"{given}: no file matches")
            root = _glob_root(given)
            for match in matches:
                if match.is_dir():
                    pairs += [(p, p.relative_to(root)) for p in _videos_under(match, outdir)]
                elif match.suffix.lower() in VIDEO_EXTENSIONS and not _is_under(match.absolute(), outdir):
                    pairs.append((match, match.relative_to(root)))
        else:
            raise FileNotFoundError(f"{given}: no such file or folder")
    items: dict[Path, Item] = {}
    seen: set[Path] = set()
    for src, rel in pairs:
        if src.resolve() in seen:
            continue
        seen.add(src.resolve())
        dst = outdir / rel.with_suffix(ext)
        if dst in items:
            raise ValueError(f"{items[dst].src} and {src.absolute()} would both be written to {dst}; "
                             "batch them separately (another -o)")
        items[dst] = Item(src.absolute(), dst, rel.with_suffix(ext).as_posix())
    if not items:
        raise ValueError(f"no video files ({' '.join(VIDEO_EXTENSIONS)}) in {' '.join(map(str, inputs))}")
    return sorted(items.values(), key=lambda item: item.key)


# --- the manifest --------------------------------------------------------------------------------
class Manifest:
    """``OUTDIR/pyframegan-batch.json``: {"videos": {output relative to OUTDIR: entry}}, each entry
    {"input", "output", "status", "input_frames", "output_frames", "seconds", "error", "updated"}.
    Entries of earlier runs that this run does not touch are kept."""

    def __init__(self, outdir: Path):
        self.path = outdir / MANIFEST
        self.videos: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            try:
                self.videos = dict(json.loads(self.path.read_text())["videos"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{self.path}: not a batch manifest ({exc}); move it away or pick another "
                                 "output folder") from None

    def set(self, item: Item, status: str, stats: dict | None = None, error: str | None = None) -> dict:
        old = self.videos.get(item.key, {})
        numbers = dict.fromkeys(("input_frames", "output_frames", "seconds"))
        if stats:
            numbers.update((key, stats[key]) for key in numbers)
            numbers["seconds"] = round(stats["seconds"], 3)
        elif status == "skipped" and old.get("status") in ("done", "skipped"):  # the run that wrote it
            numbers.update((key, old.get(key)) for key in numbers)
        entry = {"input": str(item.src), "output": str(item.dst), "status": status, **numbers, "error": error,
                 "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        self.videos[item.key] = entry
        return entry

    def save(self) -> None:
        lines = ",\n".join(f" {json.dumps(key)}: {json.dumps(entry)}" for key, entry in self.videos.items())
        text = f'{{"version": 1, "videos": {{\n{lines}\n}}}}\n'  # an entry a line: compact, and diffable
        atomic_write(self.path, lambda f: f.write(text.encode()))


# --- running the videos here ---------------------------------------------------------------------
class Cancelled(Exception):
    """A video stopped because the batch was interrupted."""


class _Stoppable:
    """An Interpolator whose model calls raise :class:`Cancelled` once ``stop`` is set: how the
    batch stops the videos of other threads (their pipelines then remove the partial files)."""

    def __init__(self, engine, stop: threading.Event):
        self._engine, self._stop = engine, stop

    def __getattr__(self, name: str):
        return getattr(self._engine, name)

    def run(self, *args, **kwargs):
        if self._stop.is_set():
            raise Cancelled("the batch was interrupted")
        return self._engine.run(*args, **kwargs)


def run_here(items: list[Item], video_kwargs: dict, report: Callable, *, model=None, device=None,
             dtype: torch.dtype = torch.float32, jobs: int = 1) -> None:
    """Each item through interpolate_video in this process, ``jobs`` at once (threads, one model
    copy each); ``report(item, stats, error)`` in the calling thread as each ends. On an interrupt
    the running videos stop at their next model call and their partial files are removed."""
    from pyframegan.engine import Interpolator

    jobs = min(jobs, len(items))
    engines: queue.SimpleQueue = queue.SimpleQueue()
    for _ in range(jobs):
        engines.put(Interpolator(model, device, dtype))
    stop = threading.Event()

    def one(item: Item) -> dict:
        engine = engines.get()
        try:
            return interpolate_video(item.src, item.dst, _Stoppable(engine, stop), progress=False, **video_kwargs)
        finally:
            engines.put(engine)

    threads = torch.get_num_threads()
    torch.set_num_threads(max(1, threads // jobs))  # N videos at once share the cores instead of oversubscribing
    try:
        with ThreadPoolExecutor(jobs, thread_name_prefix="pyframegan-batch") as pool:
            futures = {pool.submit(one, item): item for item in items}
            try:
                for future in as_completed(futures):
                    try:
                        stats = future.result()
                    except Exception as exc:  # noqa: BLE001 - one input failing does not stop the batch
                        report(futures[future], None, exc)
                    else:
                        report(futures[future], stats, None)
            except BaseException:  # Ctrl-C, SIGTERM: stop the running videos; the pool waits for them
                stop.set()
                for future in futures:
                    future.cancel()
                raise
    finally:
        torch.set_num_threads(threads)


# --- the batch -----------------------------------------------------------------------------------
def run_batch(inputs: Iterable[str | os.PathLike], outdir: str | os.PathLike, *, model=None, device=None,
              fp16: bool = False, container: str = "mp4", overwrite: bool = False, jobs: int = 1,
              ray: str | None = None, retries: int = 3, cpus_per_video: int = 1, progress: bool = True,
              **video_kwargs) -> dict:
    """Interpolate every video of ``inputs`` (see :func:`find_videos`) into ``outdir``; outputs that
    exist are skipped unless ``overwrite``. ``video_kwargs``: options of interpolate_video.

    ``ray``: None (this process, ``jobs`` videos at once), "auto" (the Ray cluster of RAY_ADDRESS or
    this node) or "local" (a Ray instance started here), see :mod:`pyframegan.batch_ray`.

    Returns {"videos": the manifest entries of these inputs, "done", "skipped", "failed": counts,
    "seconds", "manifest": its path}. Raises for unusable inputs or options before any video is
    run; a video that fails is recorded, not raised. On KeyboardInterrupt the manifest is saved
    (unfinished videos "pending") and no partial file is left under an output's name."""
    started = time.perf_counter()
    if jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {jobs}")
    if ray not in (None, "auto", "local"):
        raise ValueError(f"ray must be None, 'auto' or 'local', got {ray!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"--retries must be an integer of at least 0, got {retries!r}")
    if isinstance(cpus_per_video, bool) or not isinstance(cpus_per_video, int) or cpus_per_video < 1:
        raise ValueError(f"--cpus-per-video must be an integer of at least 1, got {cpus_per_video!r}")
    if ray and jobs != 1:
        raise ValueError("--jobs is for one machine; with --ray each GPU (or --cpus-per-video CPUs) runs a video")
    if model is not None and not Path(model).is_file():
        raise FileNotFoundError(f"{model}: no such model file")
    outdir = Path(outdir).absolute()
    if outdir.exists() and not outdir.is_dir():
        raise ValueError(f"{outdir}: is a file; the output must be a folder")
    items = find_videos(inputs, outdir, container)
    if ray:
        try:
            from pyframegan import batch_ray
        except ImportError as exc:
            raise RuntimeError(f"--ray needs Ray ({exc}): {RAY_HINT}") from None
    else:
        dtype = engine_dtype(device, fp16)
    outdir.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(outdir)
    todo = []
    for item in items:
        if item.dst.parent.is_dir():
            remove_stale_temporaries(item.dst)  # what a killed run left beside it
        if item.dst.exists() and not overwrite:
            manifest.set(item, "skipped")
        else:
            item.dst.parent.mkdir(parents=True, exist_ok=True)
            manifest.set(item, "pending")
            todo.append(item)
    manifest.save()

    frames = failed = 0
    bar = tqdm(total=len(todo), unit="video", desc="batch", disable=True if not progress else None,
               dynamic_ncols=True)

    def report(item: Item, stats: dict | None, exc: BaseException | None) -> None:
        nonlocal frames, failed
        if exc is None:
            manifest.set(item, "done", stats)
            frames += stats["output_frames"]
        else:
            manifest.set(item, "failed", error=first_line(exc) or type(exc).__name__)
            failed += 1
        manifest.save()
        bar.set_postfix(frames=frames, failed=failed, refresh=False)
        bar.update(1)

    try:
        if todo and ray:
            batch_ray.run_on_ray(todo, video_kwargs, report, mode=ray, model=model, device=device, fp16=fp16,
                                 retries=retries, cpus_per_video=cpus_per_video)
        elif todo:
            run_here(todo, video_kwargs, report, model=model, device=device, dtype=dtype, jobs=jobs)
    finally:
        bar.close()
        manifest.save()
    entries = [manifest.videos[item.key] for item in items]
    counts = {status: sum(e["status"] == status for e in entries) for status in ("done", "skipped", "failed")}
    return {"videos": entries, **counts, "seconds": time.perf_counter() - started, "manifest": str(manifest.path)}


def describe(entry: dict) -> str:
    """The input, and its error (which usually names the input already)."""
    error = entry["error"]
    return entry["input"] if not error else error if error.startswith(entry["input"]) else f"{entry['input']}: {error}"


def format_table(entries: list[dict]) -> str:
    """One row per video: status, frames in -> out, seconds, output frames/s, input (and error)."""
    rows = [("status", "frames", "seconds", "frames/s", "input (error)")]
    for e in entries:
        frames = f"{e['input_frames']} -> {e['output_frames']}" if e["output_frames"] is not None else "-"
        seconds = f"{e['seconds']:.1f}" if e["seconds"] is not None else "-"
        rate = f"{e['output_frames'] / e['seconds']:.1f}" if e["seconds"] and e["output_frames"] else "-"
        rows.append((e["status"], frames, seconds, rate, describe(e)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[4] for row in rows)


# --- the command ---------------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="video files, folders (searched recursively for video files by extension) and "
                             "globs (quoted, e.g. 'clips/**/*.mov')")
    parser.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                        help="the output folder: a folder's videos keep their path below it, files and glob "
                             "matches their name (below the glob's fixed folders); with --ray it must be "
                             "storage that every node reaches at the same path")
    parser.add_argument("--container", default="mp4", metavar="EXT",
                        help="the outputs' extension, which picks the container (mp4, mkv, mov, webm)")
    parser.add_argument("--overwrite", action="store_true",
                        help="redo outputs that exist (by default an existing output is complete and skipped)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="videos at once on this machine (for many small videos; they share the cores)")
    parser.add_argument("--ray", choices=("auto", "local"), default=None,
                        help="run the videos as Ray tasks: auto, the cluster of RAY_ADDRESS (or of this node); "
                             f"local, a Ray instance started here. Needs Ray: {RAY_HINT}")
    parser.add_argument("--retries", type=int, default=3, metavar="N",
                        help="--ray: times a video is retried when its worker dies (killed, out of memory, "
                             "node lost); a video that fails with an error is not retried")
    parser.add_argument("--cpus-per-video", type=int, default=1, metavar="N",
                        help="--ray: CPUs each video's worker reserves (and torch threads, when the model runs "
                             "on the CPU)")
    add_video_options(parser.add_argument_group("options of pyframegan video"))


def main(args: argparse.Namespace) -> int:
    try:
        summary = run_batch(args.inputs, args.output, model=args.model, device=args.device, fp16=args.fp16,
                            container=args.container, overwrite=args.overwrite, jobs=args.jobs, ray=args.ray,
                            retries=args.retries, cpus_per_video=args.cpus_per_video, **video_options(args))
    except KeyboardInterrupt:
        print(f"pyframegan batch: interrupted; the finished videos are kept (see {Path(args.output) / MANIFEST}): "
              "run the same command again to do the rest", file=sys.stderr)
        return 130
    print(format_table(summary["videos"]))
    n = len(summary["videos"])
    print(f"{n} video{'s' if n != 1 else ''}: {summary['done']} done, {summary['skipped']} skipped (complete "
          f"before), {summary['failed']} failed in {summary['seconds']:.1f} s; manifest {summary['manifest']}")
    failed = [e for e in summary["videos"] if e["status"] == "failed"]
    if failed:
        print(f"pyframegan batch: {len(failed)} failed: " + "; ".join(map(describe, failed)),
              file=sys.stderr)
        return 1
    return 0
