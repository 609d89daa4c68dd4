"""`pyframegan batch` (pyframegan.batch, pyframegan.batch_ray): many videos, resumable, isolated
failures, --jobs, and a local Ray cluster.

Small clips (64x48, lossless png in .mov) through the tiny exported U-Net (5 frames between each
pair) keep each video under a second on a CPU; the Ray tests start one local instance each.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

import pyframegan
from pyframegan import cli
from pyframegan.batch import MANIFEST, find_videos, run_batch
from test_video import moving_square, write_clip

LOSSLESS = ["--codec", "png", "--pix-fmt", "rgb24", "--container", "mov"]


def frames_of(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]


def hidden_files(folder: Path) -> list[Path]:
    """Temporary files (hidden, .NAME.<pid>-...) anywhere below ``folder``."""
    return [p for p in folder.rglob(".*")]


def library(root: Path, n: int = 9) -> dict[str, int]:
    """Three clips in nested folders, a corrupt .mp4 and a text file; {relative path: frames}."""
    clips = {"a.mov": n, "sub/b.mov": n + 2, "sub/deeper/c.mp4": n + 1}
    for rel, frames in clips.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        write_clip(root / rel, moving_square(n=frames), codec="png" if rel.endswith(".mov") else "libx264", audio=False)
    (root / "sub" / "broken.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 5000, np.uint8).tobytes())
    (root / "notes.txt").write_text("not a video")
    return clips


def manifest(out: Path) -> dict[str, dict]:
    return json.loads((out / MANIFEST).read_text())["videos"]


def assert_complete(out: Path, clips: dict[str, int], ext: str = ".mp4") -> None:
    """Each clip's output decodes to the frames the run that wrote it reported for a clip of its
    length (the tiny model makes 5 between each pair). A run killed between an output's rename and
    the manifest's next save leaves that output "skipped" without numbers: another clip of the
    same length vouches for it."""
    entries = {rel: manifest(out)[Path(rel).with_suffix(ext).as_posix()] for rel in clips}
    written = {}  # frames in -> frames out
    for rel, entry in entries.items():
        assert entry["status"] in ("done", "skipped"), entry
        if entry["input_frames"] is not None:
            assert entry["input_frames"] == clips[rel], entry
            written[clips[rel]] = entry["output_frames"]
    for rel, n in clips.items():
        assert len(frames_of(out / Path(rel).with_suffix(ext))) == written[n] >= (n - 1) * 6 + 1


def test_folder_with_nested_folders_and_a_corrupt_file(tiny_model, tmp_path, capsys):
    """The good videos are done at their mirrored paths, the corrupt one is recorded and named,
    the exit status is 1; a second run skips every complete output; --overwrite redoes one."""
    clips = library(tmp_path / "lib")
    out = tmp_path / "out"
    cmd = ["batch", str(tmp_path / "lib"), "-o", str(out), "--model", str(tiny_model)]
    assert cli.main(cmd) == 1
    captured = capsys.readouterr()
    assert "broken.mp4" in captured.err and "1 failed" in captured.err
    assert "3 done, 0 skipped (complete before), 1 failed" in captured.out
    assert_complete(out, clips)
    assert not (out / "sub" / "broken.mp4").exists() and not (out / "notes.mp4").exists()
    assert not hidden_files(out)
    entries = manifest(out)
    assert sorted(entries) == ["a.mp4", "sub/b.mp4", "sub/broken.mp4", "sub/deeper/c.mp4"]
    assert entries["sub/broken.mp4"]["status"] == "failed" and "broken.mp4" in entries["sub/broken.mp4"]["error"]
    assert entries["sub/b.mp4"]["status"] == "done" and entries["sub/b.mp4"]["seconds"] > 0
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*.mp4")}

    assert cli.main(cmd) == 1  # the corrupt file fails again; nothing else is redone
    assert "0 done, 3 skipped (complete before), 1 failed" in capsys.readouterr().out
    assert mtimes == {p: p.stat().st_mtime_ns for p in out.rglob("*.mp4")}
    entries = manifest(out)
    assert [entries[k]["status"] for k in ("a.mp4", "sub/b.mp4", "sub/deeper/c.mp4")] == ["skipped"] * 3
    assert_complete(out, clips)  # skipped entries keep the numbers of the run that wrote them

    assert cli.main(["batch", str(tmp_path / "lib" / "a.mov"), "-o", str(out), "--model", str(tiny_model),
                     "--overwrite"]) == 0
    assert (out / "a.mp4").stat().st_mtime_ns != mtimes[out / "a.mp4"]
    assert manifest(out)["a.mp4"]["status"] == "done"


def test_inputs_files_folders_globs(tmp_path):
    lib = tmp_path / "lib"
    library(lib)
    (lib / "sub" / ".hidden.mp4").write_bytes(b"")  # e.g. another writer's temporary file
    out = lib / "out"  # inside the input folder: its files are never inputs
    (out / "x").mkdir(parents=True)
    (out / "x" / "old.mp4").write_bytes(b"")
    keys = lambda items: [item.key for item in items]  # noqa: E731
    assert keys(find_videos([lib], out)) == ["a.mp4", "sub/b.mp4", "sub/broken.mp4", "sub/deeper/c.mp4"]
    assert keys(find_videos([f"{lib}/**/*.mov"], out, "mkv")) == ["a.mkv", "sub/b.mkv"]
    assert keys(find_videos([f"{lib}/s*"], out)) == ["sub/b.mp4", "sub/broken.mp4", "sub/deeper/c.mp4"]
    assert keys(find_videos([lib / "notes.txt", lib / "sub" / "b.mov", lib / "sub"], tmp_path / "o")) == [
        "b.mp4", "broken.mp4", "deeper/c.mp4", "notes.mp4"]  # b.mov once; a named file whatever its name
    items = find_videos([lib / "a.mov"], "rel")
    assert items[0].src.is_absolute() and items[0].dst == Path("rel").absolute() / "a.mp4"
    (tmp_path / "c.mov").write_bytes(b"")
    with pytest.raises(ValueError, match="c.mov would both be written to .*c.mp4"):
        find_videos([lib / "sub" / "deeper" / "c.mp4", tmp_path / "c.mov"], out)
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        find_videos([tmp_path / "nothing"], out)
    with pytest.raises(FileNotFoundError, match="no file matches"):
        find_videos([f"{lib}/*.avi"], out)
    with pytest.raises(ValueError, match="no video files"):
        find_videos([out], out)  # everything there is an output
    with pytest.raises(ValueError, match="container must be"):
        find_videos([lib], out, "m/p4")
    with pytest.raises(ValueError, match="--jobs must be at least 1"):
        run_batch([lib], out, jobs=0)
    # the Ray options are checked with or without --ray, before any video runs
    with pytest.raises(ValueError, match="--retries must be an integer of at least 0"):
        run_batch([lib], out, retries=-1)
    with pytest.raises(ValueError, match="--cpus-per-video must be an integer of at least 1"):
        run_batch([lib], out, cpus_per_video=0)


def partial_files(folder: Path) -> list[Path]:
    return [p for p in hidden_files(folder) if ".partial" in p.name]


def test_sigterm_and_sigkill_part_way_then_rerun_finishes(tiny_model, tmp_path):
    """SIGTERM in the middle of two videos (--jobs 2): exit 130, their partial files removed, the
    manifest saved. SIGKILL in the middle of a video, then the same command again: every output
    complete, the manifest all done, no temporary file left anywhere."""
    lib, out = tmp_path / "lib", tmp_path / "out"
    lengths = {f"part{i}/clip{i}.mov": 40 for i in range(5)}
    for rel, n in lengths.items():
        (lib / rel).parent.mkdir(parents=True)
        write_clip(lib / rel, moving_square(n=n), audio=False)
    cmd = [sys.executable, "-m", "pyframegan.cli", "batch", str(lib), "-o", str(out), "--model", str(tiny_model),
           "--batch-size", "1"]
    for sig, jobs in ((signal.SIGTERM, "2"), (signal.SIGKILL, "1")):
        proc = subprocess.Popen(cmd + ["--jobs", jobs], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while proc.poll() is None and time.time() < deadline:  # a video being written (after one done: SIGKILL)
            if partial_files(out) and (sig == signal.SIGTERM or list(out.rglob("clip*.mp4"))):
                break
            time.sleep(0.01)
        proc.send_signal(sig)
        proc.wait(timeout=60)
        err = proc.stderr.read()
        if sig == signal.SIGTERM:
            assert proc.returncode == 130 and "run the same command again" in err, err
            assert not hidden_files(out)
            assert {e["status"] for e in manifest(out).values()} <= {"pending", "done"}
    assert proc.returncode == -signal.SIGKILL, err
    assert partial_files(out)  # what the kill left
    done_before = set(out.rglob("clip*.mp4"))
    assert 1 <= len(done_before) < len(lengths)

    summary = run_batch([lib], out, model=tiny_model, progress=False, batch_size=1)
    assert summary["failed"] == 0 and summary["skipped"] == len(done_before)
    assert summary["done"] == len(lengths) - len(done_before)
    assert_complete(out, lengths)
    assert not hidden_files(out)


def test_jobs_2_writes_what_jobs_1_writes(tiny_model, tmp_path):
    lib = tmp_path / "lib"
    clips = library(lib)
    (lib / "sub" / "broken.mp4").unlink()
    one = run_batch([lib], tmp_path / "one", model=tiny_model, progress=False, codec="png", pix_fmt="rgb24")
    two = run_batch([lib], tmp_path / "two", model=tiny_model, progress=False, codec="png", pix_fmt="rgb24", jobs=2)
    assert one["done"] == two["done"] == len(clips)
    for rel in clips:
        rel = Path(rel).with_suffix(".mp4")
        assert np.array_equal(np.stack(frames_of(tmp_path / "one" / rel)), np.stack(frames_of(tmp_path / "two" / rel)))


def test_ray_missing_says_how_to_install(tmp_path, monkeypatch):
    library(tmp_path / "lib")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    monkeypatch.delitem(sys.modules, "pyframegan.batch_ray", raising=False)
    monkeypatch.delattr(pyframegan, "batch_ray", raising=False)
    with pytest.raises(RuntimeError, match=r"pip install 'pyframegan\[ray\]'"):
        run_batch([tmp_path / "lib"], tmp_path / "out", ray="local")
    assert not (tmp_path / "out").exists()


# --- Ray (the optional extra) --------------------------------------------------------------------
def test_ray_local_writes_what_one_machine_writes(tiny_model, tmp_path, capsys):
    pytest.importorskip("ray")
    lib = tmp_path / "lib"
    clips = library(lib)
    common = ["--model", str(tiny_model), *LOSSLESS]
    assert cli.main(["batch", str(lib), "-o", str(tmp_path / "here"), *common]) == 1
    assert cli.main(["batch", str(lib), "-o", str(tmp_path / "ray"), "--ray", "local", *common]) == 1
    err = capsys.readouterr().err
    assert "1 failed" in err and "broken.mp4" in err
    for rel, n in clips.items():
        rel = Path(rel).with_suffix(".mov")
        here, there = frames_of(tmp_path / "here" / rel), frames_of(tmp_path / "ray" / rel)
        assert len(here) == len(there) >= (n - 1) * 6 + 1
        assert all(np.array_equal(a, b) for a, b in zip(here, there))
    assert manifest(tmp_path / "ray")["sub/broken.mov"]["status"] == "failed"
    assert not hidden_files(tmp_path / "ray")


def test_ray_worker_killed_mid_video_is_retried(tiny_model, tmp_path):
    ray = pytest.importorskip("ray")
    lib, out = tmp_path / "lib", tmp_path / "out"
    lib.mkdir()
    write_clip(lib / "long.mov", moving_square(n=150), audio=False)
    killed: list[int] = []

    def kill_the_writer():  # the worker's pid is in its temporary file's name: .long.mp4.<pid>-<tag>...
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            for p in hidden_files(out):  # the manifest's temporary file (the driver's) is another one
                match = re.match(r"\.long\.mp4\.(\d+)-", p.name)
                pid = int(match.group(1)) if match else os.getpid()
                if pid != os.getpid():
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                    break
            time.sleep(0.01)

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    try:
        killer = threading.Thread(target=kill_the_writer)
        killer.start()
        summary = run_batch([lib], out, ray="local", model=tiny_model, progress=False, batch_size=1, retries=2)
        killer.join()
    finally:
        ray.shutdown()
    assert killed, "the worker was not seen writing"
    assert summary["done"] == 1 and summary["failed"] == 0
    assert_complete(out, {"long.mov": 150})
    assert not hidden_files(out)
