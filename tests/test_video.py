"""`pyframegan video` (pyframegan.video.interpolate_video) and `pyframegan interpolate` (two images).

A tiny exported U-Net (random weights, ngf 8, depth 4, 5 frames out) and clips of 9-10 frames of
64x48 written with PyAV keep every case to about a second on a CPU. Exact comparisons use
lossless RGB video (png in .mov).
"""
from __future__ import annotations

import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

from pyframegan import cli
from pyframegan.engine import Interpolator
from pyframegan.video import interpolate_video

N_OUT, FPS, H, W = 5, 25, 48, 64
LOSSLESS = dict(codec="png", pix_fmt="rgb24")


@pytest.fixture(scope="module")
def model_path(tiny_model):
    return tiny_model  # n_out = N_OUT


@pytest.fixture(scope="module")
def engine(model_path):
    return Interpolator(model_path, device="cpu")


def moving_square(n=9, h=H, w=W):
    frames = []
    y, x = np.mgrid[:h, :w]
    for t in range(n):
        f = np.stack([30 + 2 * x, 60 + 2 * y, np.full_like(x, 120)], -1).clip(0, 255).astype(np.uint8)
        f[8 + t:20 + t, 4 + 4 * t:16 + 4 * t] = (240, 230, 40)
        frames.append(f)
    return frames


def write_clip(path: Path, frames, codec="png", audio=True, fps=FPS) -> Path:
    """frames -> a video with PyAV (png/rgb24 is lossless), plus a 440 Hz AAC tone as long as the video."""
    with av.open(str(path), "w") as out:
        v = out.add_stream(codec, rate=fps)
        v.width, v.height = frames[0].shape[1], frames[0].shape[0]
        v.pix_fmt = "rgb24" if codec == "png" else "yuv444p" if v.width % 2 or v.height % 2 else "yuv420p"
        a = out.add_stream("aac", rate=16000, layout="mono") if audio else None
        for f in frames:
            out.mux(v.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(v.encode())
        if a is not None:
            total, s = 16000 * len(frames) // fps, 0
            while s < total:
                k = min(1024, total - s)
                samples = (3000 * np.sin(np.arange(s, s + k) * 2 * np.pi * 440 / 16000)).astype(np.int16)
                frame = av.AudioFrame.from_ndarray(samples[None], format="s16", layout="mono")
                frame.sample_rate, frame.pts = 16000, s
                out.mux(a.encode(frame))
                s += k
            out.mux(a.encode())
    return path


def decode(path: Path):
    """(frames, facts) of a video file."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(v)]
        facts = {"rate": v.average_rate, "duration": c.duration / 1e6,
                 "audio": [s.codec_context.name for s in c.streams.audio]}
    return frames, facts


def source_duration(n, fps=FPS):
    return n / fps


@pytest.fixture(scope="module")
def lossless(tmp_path_factory):
    """9 frames, lossless RGB, with audio: (path, frames)."""
    frames = moving_square()
    return write_clip(tmp_path_factory.mktemp("clip") / "square.mov", frames), frames


@pytest.fixture(scope="module")
def h264(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip") / "square.mp4", moving_square(), codec="libx264")


def no_pipeline_threads():
    return not [t for t in threading.enumerate() if t.name.startswith("pyframegan-video-") and t.is_alive()]


def leftovers(folder: Path, keep=()):
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


# --- counts, rates, duration, audio --------------------------------------------------------------
def test_mp4_frame_count_rate_duration_and_audio(h264, engine, tmp_path):
    dst = tmp_path / "out.mp4"
    stats = interpolate_video(h264, dst, engine, progress=False)
    frames, facts = decode(dst)
    n = 9
    # the last source frame is held for its whole interval: the duration is the source's
    assert len(frames) == stats["output_frames"] == n * (N_OUT + 1)
    assert frames[0].shape == (H, W, 3)
    assert facts["rate"] == FPS * (N_OUT + 1) and stats["output_fps"] == FPS * (N_OUT + 1)
    assert stats["duration"] == source_duration(n)
    assert abs(facts["duration"] - source_duration(n)) < 1 / FPS
    assert facts["audio"] == ["aac"] and stats["audio"].startswith("copied")
    assert stats["codec"] == "libx264" and stats["pix_fmt"] == "yuv420p" and stats["scene_cuts"] == []
    assert leftovers(tmp_path) == ["out.mp4"] and no_pipeline_threads()
    assert dst.stat().st_mode & 0o777 == 0o666 & ~current_umask()  # as readable as any new file


def current_umask() -> int:
    import os
    umask = os.umask(0)
    os.umask(umask)
    return umask


def test_written_images_and_models_have_the_usual_file_mode(tmp_path):
    """Outputs go through a temporary file; the renamed result gets the mode of a plain new file,
    0666 less the umask (not an owner-only 0600 like mkstemp's)."""
    import os
    from pyframegan.export import export_generator
    from pyframegan.interpolate_images import write_image
    from pyframegan.models import build_generator
    old = os.umask(0o027)
    try:
        image = write_image(tmp_path / "a.png", np.zeros((4, 4, 3), np.uint8))
        model = tmp_path / "g.pt"
        export_generator(build_generator({"arch": "flow", "n_in": 2, "n_out": 1}), model)
    finally:
        os.umask(old)
    assert image.stat().st_mode & 0o777 == 0o640 and model.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "g.pt"]


def test_batches_of_large_frames_hold_fewer_pairs(lossless, engine, tmp_path, monkeypatch):
    """Where a batch's new frames would take more than BATCH_BYTES, it holds fewer pairs (at least
    one): the same video."""
    from pyframegan import video
    src, source = lossless
    interpolate_video(src, tmp_path / "a.mov", engine, batch_size=4, progress=False, **LOSSLESS)
    sizes = []
    decode_batches = video.decode_batches
    monkeypatch.setattr(video, "decode_batches", lambda *a: sizes.append(a[5]) or decode_batches(*a))
    h, w = source[0].shape[:2]
    monkeypatch.setattr(video, "BATCH_BYTES", 2 * (N_OUT + 1) * h * w * 3)
    interpolate_video(src, tmp_path / "b.mov", engine, batch_size=4, progress=False, **LOSSLESS)
    monkeypatch.setattr(video, "BATCH_BYTES", 1)
    interpolate_video(src, tmp_path / "c.mov", engine, batch_size=4, progress=False, **LOSSLESS)
    assert sizes == [2, 1]
    want = decode(tmp_path / "a.mov")[0]
    assert all(np.array_equal(np.stack(decode(tmp_path / f)[0]), np.stack(want)) for f in ("b.mov", "c.mov"))


def test_a_pair_with_more_new_frames_than_a_batch_holds_is_made_in_parts(lossless, tmp_path, monkeypatch):
    """Where one pair's new frames would take more than BATCH_BYTES (a high -n at a large size), they
    are made and written in parts of at most that many bytes, the pair's source frame first: the same
    video, the same statistics, and no model call makes more frames than a part holds."""
    from pyframegan import export, video
    from pyframegan.models import build_generator
    model = tmp_path / "hybrid.pt"
    export.export_generator(build_generator({"arch": "hybrid", "n_in": 2, "n_out": 2, "ngf": 8}), model)
    engine = Interpolator(model, device="cpu")
    src, source = lossless
    whole = interpolate_video(src, tmp_path / "whole.mov", engine, n=7, progress=False, **LOSSLESS)
    made: list[int] = []
    run = engine.run
    engine.run = lambda a, b, times=None, *ctx: made.append(a.shape[0] * len(times)) or run(a, b, times, *ctx)
    h, w = source[0].shape[:2]
    monkeypatch.setattr(video, "BATCH_BYTES", 3 * h * w * 3 + 100)  # 3 new frames
    parts = interpolate_video(src, tmp_path / "parts.mov", engine, n=7, progress=False, **LOSSLESS)
    assert max(made) == 3 and sum(made) == 7 * (len(source) - 1)
    assert {k: v for k, v in parts.items() if k not in ("seconds", "frames_per_second", "output")} == \
        {k: v for k, v in whole.items() if k not in ("seconds", "frames_per_second", "output")}
    assert np.array_equal(np.stack(decode(tmp_path / "parts.mov")[0]), np.stack(decode(tmp_path / "whole.mov")[0]))


def test_source_frames_kept_and_in_betweens_are_the_models(lossless, engine, tmp_path):
    src, source = lossless
    dst = tmp_path / "out.mov"
    interpolate_video(src, dst, engine, batch_size=3, progress=False, **LOSSLESS)
    frames, facts = decode(dst)
    step = N_OUT + 1
    assert len(frames) == len(source) * step
    for i, f in enumerate(source):
        assert np.array_equal(frames[i * step], f), i
    assert all(np.array_equal(f, source[-1]) for f in frames[-step:])  # the last one held
    want = engine.run(torch.from_numpy(np.stack(source[:-1])), torch.from_numpy(np.stack(source[1:]))).numpy()
    got = np.stack([frames[i * step + 1:(i + 1) * step] for i in range(len(source) - 1)])
    assert np.array_equal(got, want)  # batching across calls changes nothing
    assert facts["audio"] == ["aac"]


def test_fps_retimes_the_same_frames_and_drops_audio(lossless, engine, tmp_path):
    src, source = lossless
    dst = tmp_path / "out.mov"
    stats = interpolate_video(src, dst, engine, fps="30", progress=False, **LOSSLESS)
    frames, facts = decode(dst)
    assert len(frames) == len(source) * (N_OUT + 1) and facts["rate"] == 30
    assert abs(facts["duration"] - len(frames) / 30) < 1 / 30
    assert facts["audio"] == [] and stats["audio"].startswith("dropped")
    same = tmp_path / "same.mov"  # an fps equal to the natural rate keeps the audio
    interpolate_video(src, same, engine, fps=Fraction(FPS * (N_OUT + 1)), progress=False, **LOSSLESS)
    assert decode(same)[1]["audio"] == ["aac"]


def test_audio_reencoded_when_the_container_needs_it(tmp_path, engine):
    frames = moving_square(5)
    src = tmp_path / "pcm.mkv"
    with av.open(str(src), "w") as out:  # pcm audio, which WebM cannot hold
        v = out.add_stream("ffv1", rate=FPS)
        v.width, v.height, v.pix_fmt = W, H, "yuv420p"
        a = out.add_stream("pcm_s16le", rate=16000, layout="mono")
        for f in frames:
            out.mux(v.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        out.mux(v.encode())
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 3200), np.int16), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        out.mux(a.encode(frame))
        out.mux(a.encode())
    dst = tmp_path / "out.webm"
    stats = interpolate_video(src, dst, engine, progress=False)
    assert stats["audio"].startswith("re-encoded") and decode(dst)[1]["audio"] == ["opus"]
    assert stats["codec"] == "libvpx-vp9"


# --- scene cuts, montage, odd sizes --------------------------------------------------------------
def test_scene_cut_repeats_the_frame_before_it(clip, engine, tmp_path):
    distinct = clip.frames()
    source = distinct[clip.scene_a - 5:clip.scene_a] + distinct[clip.scene_a:clip.scene_a + 4]  # cut before 5
    src = write_clip(tmp_path / "cut.mov", source, audio=False)
    step = N_OUT + 1
    dst = tmp_path / "out.mov"
    stats = interpolate_video(src, dst, engine, progress=False, **LOSSLESS)
    frames, _ = decode(dst)
    assert stats["scene_cuts"] == [5] and len(frames) == len(source) * step
    for k in range(step):  # the pair (4, 5) across the cut: frame 4, repeated
        assert np.array_equal(frames[4 * step + k], source[4]), k
    assert np.array_equal(frames[5 * step], source[5])
    assert not np.array_equal(frames[3 * step + 1], source[3])  # pairs inside a shot are interpolated
    plain = tmp_path / "plain.mov"
    stats = interpolate_video(src, plain, engine, scene_detect=False, progress=False, **LOSSLESS)
    frames, _ = decode(plain)
    assert stats["scene_cuts"] == [] and not np.array_equal(frames[4 * step + 1], source[4])


@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_context_frames_come_from_the_same_shot(clip, tmp_path, batch_size):
    """A model that uses context gets, for each pair, the frame before and after it, unless the
    video ends there or a scene cut separates them; --no-context gives it none."""
    from pyframegan import export
    from pyframegan.models import build_generator
    model = tmp_path / "hybrid.pt"
    export.export_generator(build_generator({"arch": "hybrid", "n_in": 2, "n_out": 2, "ngf": 8}), model)
    distinct = clip.frames()
    source = distinct[clip.scene_a - 5:clip.scene_a] + distinct[clip.scene_a:clip.scene_a + 4]  # cut before 5
    src = write_clip(tmp_path / "cut.mov", source, audio=False)
    engine = Interpolator(model, device="cpu")
    seen: list[tuple[int, int | None, int | None]] = []  # (pair's first frame, before, after) as indices
    index = lambda f: next(i for i, s in enumerate(source) if np.array_equal(s, f))  # noqa: E731
    run = engine.run

    def spy(a, b, times=None, before=None, after=None):
        for k in range(a.shape[0]):
            seen.append((index(a[k].numpy()), None if before is None else index(before[k].numpy()),
                         None if after is None else index(after[k].numpy())))
        return run(a, b, times, before, after)

    engine.run = spy
    stats = interpolate_video(src, tmp_path / "out.mov", engine, batch_size=batch_size, progress=False, **LOSSLESS)
    assert stats["context"] and stats["scene_cuts"] == [5]
    # pairs 0..7 without (4, 5), across the cut; context only where frames j-1 and j+2 are in the shot
    want = {0: (None, None), 1: (0, 3), 2: (1, 4), 3: (None, None), 5: (None, None), 6: (5, 8), 7: (None, None)}
    assert sorted(seen) == sorted((j, *ctx) for j, ctx in want.items())
    seen.clear()
    stats = interpolate_video(src, tmp_path / "plain.mov", engine, batch_size=batch_size, context=False,
                              progress=False, **LOSSLESS)
    assert not stats["context"] and len(seen) == 7 and all(s[1] is None and s[2] is None for s in seen)


def test_montage_holds_the_source_beside_the_interpolation(lossless, engine, tmp_path):
    src, source = lossless
    interpolate_video(src, tmp_path / "plain.mov", engine, progress=False, **LOSSLESS)
    stats = interpolate_video(src, tmp_path / "montage.mov", engine, montage=True, progress=False, **LOSSLESS)
    plain, _ = decode(tmp_path / "plain.mov")
    montage, _ = decode(tmp_path / "montage.mov")
    assert stats["output_width"] == 2 * W and len(montage) == len(plain)
    for i, f in enumerate(montage):
        assert f.shape == (H, 2 * W, 3)
        assert np.array_equal(f[:, :W], source[i // (N_OUT + 1)]), i  # each source frame held
        assert np.array_equal(f[:, W:], plain[i])


@pytest.mark.parametrize("size", [(47, 63), (48, 63), (47, 64)])
def test_odd_sizes(size, engine, tmp_path):
    h, w = size
    frames = [f[:h, :w] for f in moving_square(4)]
    src = write_clip(tmp_path / "odd.mov", frames, audio=False)
    dst = tmp_path / "odd.mp4"
    stats = interpolate_video(src, dst, engine, progress=False)
    out, _ = decode(dst)
    assert stats["pix_fmt"] == "yuv444p" and len(out) == 4 * (N_OUT + 1) and out[0].shape == (h, w, 3)
    assert np.abs(out[0].astype(int) - frames[0]).mean() < 3  # near-lossless at crf 18, no padding shift
    with pytest.raises(ValueError, match="needs even sizes"):
        interpolate_video(src, tmp_path / "bad.mp4", engine, pix_fmt="yuv420p", progress=False)
    assert leftovers(tmp_path) == ["odd.mov", "odd.mp4"]


# --- failures: nothing written, nothing left, nothing hangs --------------------------------------
def failing_run(engine, monkeypatch, after: int, exc: BaseException, seen: list | None = None, folder=None):
    calls = {"n": 0}
    real = engine.run

    def run(a, b, times=None):
        calls["n"] += 1
        if seen is not None:
            seen.append(leftovers(folder))
        if calls["n"] > after:
            raise exc
        return real(a, b, times)

    monkeypatch.setattr(engine, "run", run)
    return calls


def call_with_timeout(fn, timeout=60):
    """fn() in a thread; its exception, or a failure if it does not finish in time (a hang)."""
    result = {}

    def body():
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001
            result["exc"] = exc

    t = threading.Thread(target=body, daemon=True)
    t.start()
    t.join(timeout)
    assert not t.is_alive(), "interpolate_video hung"
    return result.get("exc")


def test_failure_midway_leaves_no_output_and_no_temp_file(h264, engine, monkeypatch, tmp_path):
    dst = tmp_path / "out.mp4"
    seen: list = []
    calls = failing_run(engine, monkeypatch, 2, RuntimeError("boom"), seen, tmp_path)
    exc = call_with_timeout(lambda: interpolate_video(h264, dst, engine, batch_size=1, progress=False))
    assert isinstance(exc, RuntimeError) and str(exc) == "boom" and calls["n"] == 3
    assert any(name.startswith(".out.") and name.endswith(".partial.mp4") for name in seen[-1])  # temp name, same extension
    assert leftovers(tmp_path) == [] and no_pipeline_threads()


def test_failure_keeps_an_existing_output_untouched(h264, engine, monkeypatch, tmp_path):
    dst = tmp_path / "out.mp4"
    dst.write_bytes(b"previous result")
    failing_run(engine, monkeypatch, 1, RuntimeError("boom"))
    with pytest.raises(RuntimeError, match="boom"):
        interpolate_video(h264, dst, engine, batch_size=2, progress=False)
    assert dst.read_bytes() == b"previous result" and leftovers(tmp_path) == ["out.mp4"]


def test_keyboard_interrupt_removes_the_temp_file(h264, engine, monkeypatch, tmp_path):
    failing_run(engine, monkeypatch, 1, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        interpolate_video(h264, tmp_path / "out.mp4", engine, batch_size=2, progress=False)
    assert leftovers(tmp_path) == [] and no_pipeline_threads()


def test_decoder_and_encoder_failures_stop_the_other_stages(tmp_path, engine, monkeypatch):
    src = write_clip(tmp_path / "long.mp4", moving_square(40), codec="libx264", audio=False)
    import pyframegan.video as video

    count = {"n": 0}
    real_update = video.SceneCutDetector.update

    def update(self, frame):  # fails in the decoder thread, at the 20th frame
        count["n"] += 1
        if count["n"] == 20:
            raise OSError("decoder broke")
        return real_update(self, frame)

    monkeypatch.setattr(video.SceneCutDetector, "update", update)
    exc = call_with_timeout(lambda: interpolate_video(src, tmp_path / "a.mp4", engine, batch_size=1,
                                                      queue_size=1, progress=False))
    assert isinstance(exc, OSError) and "decoder broke" in str(exc)
    monkeypatch.undo()

    real_frames = video.output_frames

    encoded = {"n": 0}

    def output_frames(batch, montage):  # fails in the caller's (encoding) thread, at the 3rd batch
        encoded["n"] += 1
        if encoded["n"] == 3:
            raise RuntimeError("encoder broke")
        return real_frames(batch, montage)

    monkeypatch.setattr(video, "output_frames", output_frames)
    exc = call_with_timeout(lambda: interpolate_video(src, tmp_path / "b.mp4", engine, batch_size=1,
                                                      queue_size=1, progress=False))
    assert isinstance(exc, RuntimeError) and "encoder broke" in str(exc)
    assert leftovers(tmp_path) == ["long.mp4"] and no_pipeline_threads()


def test_bad_inputs_and_outputs_give_clear_errors(tmp_path, engine, h264):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    text = tmp_path / "notes.mkv"
    text.write_text("not a video at all\n")
    audio_only = tmp_path / "tone.m4a"
    with av.open(str(audio_only), "w") as out:
        a = out.add_stream("aac", rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.int16), format="s16", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        out.mux(a.encode(frame))
        out.mux(a.encode())
    cases = [(junk, tmp_path / "o.mp4", ValueError, "not a readable video"),
             (text, tmp_path / "o.mp4", ValueError, "not a readable video"),
             (audio_only, tmp_path / "o.mp4", ValueError, "no video stream"),
             (tmp_path / "missing.mp4", tmp_path / "o.mp4", FileNotFoundError, "no such file"),
             (h264, tmp_path / "nodir" / "o.mp4", FileNotFoundError, "output folder does not exist"),
             (h264, tmp_path / "noext", ValueError, "extension"),
             (h264, tmp_path / "o.xyz", ValueError, "cannot write a video"),
             (h264, tmp_path / "o.webm", ValueError, "cannot hold ffv1")]
    for src, dst, kind, match in cases:
        kwargs = {"codec": "ffv1"} if match == "cannot hold ffv1" else {}
        with pytest.raises(kind, match=match):
            interpolate_video(src, dst, engine, progress=False, **kwargs)
    with pytest.raises(ValueError, match="overwrite the input"):
        interpolate_video(h264, h264, engine, progress=False)
    assert leftovers(tmp_path) == ["junk.mp4", "notes.mkv", "tone.m4a"]


# --- the commands --------------------------------------------------------------------------------
def test_video_command(h264, model_path, tmp_path, capsys):
    dst = tmp_path / "out.mkv"
    rc = cli.main(["video", str(h264), "-o", str(dst), "--model", str(model_path), "--device", "cpu",
                   "--montage", "--batch-size", "2", "--crf", "23", "--preset", "ultrafast"])
    assert rc == 0 and "54 frames" in capsys.readouterr().out
    frames, facts = decode(dst)
    assert len(frames) == 54 and frames[0].shape == (H, 2 * W, 3) and facts["audio"] == ["aac"]
    rc = cli.main(["video", str(tmp_path / "none.mp4"), "-o", str(dst), "--model", str(model_path)])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "no such file" in err
    rc = cli.main(["video", str(h264), "-o", str(tmp_path / "x.mp4"), "--model", str(model_path),
                   "--device", "cpu", "--crf", "5", "--codec", "ffv1"])
    assert rc == 2 and "--crf applies to" in capsys.readouterr().err


def write_png(path, image):
    Image.fromarray(image).save(path)
    return path


def test_interpolate_command_writes_the_frames_and_a_montage(model_path, engine, tmp_path, capsys):
    source = moving_square(2)
    a, b = write_png(tmp_path / "a.png", source[0]), write_png(tmp_path / "b.png", source[1])
    out, montage = tmp_path / "frames", tmp_path / "row.jpg"
    rc = cli.main(["interpolate", str(a), str(b), "-o", str(out), "--model", str(model_path), "--device", "cpu",
                   "--montage", str(montage)])
    assert rc == 0 and "wrote 7 frames" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [f"frame_{i}.png" for i in range(N_OUT + 2)]
    frames = [np.array(Image.open(out / f"frame_{i}.png")) for i in range(N_OUT + 2)]
    assert np.array_equal(frames[0], source[0]) and np.array_equal(frames[-1], source[1])
    for got, want in zip(frames[1:-1], engine.interpolate(source[0], source[1])):
        assert np.array_equal(got, want)
    assert Image.open(montage).size == ((N_OUT + 2) * W, H)


def test_interpolate_command_converts_grayscale_and_rgba(model_path, tmp_path):
    source = moving_square(2)
    a = tmp_path / "gray.png"
    Image.fromarray(source[0]).convert("L").save(a)
    b = tmp_path / "rgba.png"
    Image.fromarray(source[1]).convert("RGBA").save(b)
    assert cli.main(["interpolate", str(a), str(b), "-o", str(tmp_path / "o"), "--model", str(model_path),
                     "--device", "cpu"]) == 0
    first = np.array(Image.open(tmp_path / "o" / "frame_0.png"))
    assert first.shape == (H, W, 3) and (first[..., 0] == first[..., 1]).all()
    assert np.array_equal(np.array(Image.open(tmp_path / "o" / f"frame_{N_OUT + 1}.png")), source[1])


def test_interpolate_command_errors(model_path, tmp_path, capsys):
    source = moving_square(2)
    a = write_png(tmp_path / "a.png", source[0])
    small = write_png(tmp_path / "small.png", source[1][:40])
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    out = tmp_path / "o"
    cases = [([str(a), str(tmp_path / "nope.png")], "no such file"),
             ([str(a), str(small)], "same size"),
             ([str(a), str(broken)], "not a readable image"),
             ([str(a), str(a), "--montage", str(tmp_path / "row.xyz")], "cannot write images"),
             ([str(a), str(a), "--montage", str(tmp_path / "nodir" / "row.png")], "does not exist"),
             ([str(a), str(a), "-n", "3"], "exactly 5 frames")]
    for argv, match in cases:
        rc = cli.main(["interpolate", *argv, "-o", str(out), "--model", str(model_path), "--device", "cpu"])
        err = capsys.readouterr().err
        assert rc == 2 and match in err and err.count("\n") == 1, (argv, err)
    assert not out.exists()


def test_n_frames_between_needs_a_flow_generator(h264, engine, tmp_path):
    with pytest.raises(ValueError, match="exactly 5 frames"):
        engine.interpolate(np.zeros((H, W, 3), np.uint8), np.zeros((H, W, 3), np.uint8), n=3)
    with pytest.raises(ValueError, match="exactly 5 frames"):
        interpolate_video(h264, tmp_path / "out.mp4", engine, n=2, progress=False)
    assert leftovers(tmp_path) == []
    assert len(engine.interpolate(np.zeros((H, W, 3), np.uint8), np.zeros((H, W, 3), np.uint8), n=N_OUT)) == N_OUT


def test_video_with_n_frames_between(lossless, tmp_path):
    """A flow generator makes any number of frames between two source frames: -n 2 triples the rate."""
    from pyframegan import export
    from pyframegan.models import build_generator
    torch.manual_seed(0)
    export.export_generator(build_generator({"arch": "flow", "n_in": 2, "n_out": 5}), tmp_path / "flow.pt")
    flow = Interpolator(tmp_path / "flow.pt", device="cpu")
    src, source = lossless
    dst = tmp_path / "out.mov"
    stats = interpolate_video(src, dst, flow, n=2, progress=False, **LOSSLESS)
    frames, facts = decode(dst)
    assert len(frames) == stats["output_frames"] == len(source) * 3 and stats["n_out"] == 2
    assert facts["rate"] == FPS * 3
    for i, f in enumerate(source):
        assert np.array_equal(frames[3 * i], f), i
    want = flow.run(torch.from_numpy(np.stack(source[:-1])), torch.from_numpy(np.stack(source[1:])),
                    [1 / 3, 2 / 3]).numpy()
    assert np.array_equal(np.stack([frames[3 * i + 1:3 * i + 3] for i in range(len(source) - 1)]), want)
    pa, pb = write_png(tmp_path / "a.png", source[0]), write_png(tmp_path / "b.png", source[1])
    assert cli.main(["interpolate", str(pa), str(pb), "-o", str(tmp_path / "o"), "-n", "2",
                     "--model", str(tmp_path / "flow.pt")]) == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [f"frame_{i}.png" for i in range(4)]


@pytest.mark.parametrize("preset, want", [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_importing_pyframegan_lets_idle_openmp_workers_sleep(preset, want):
    """So that the video pipeline's decoder and encoder threads get the cores: OMP_WAIT_POLICY is
    PASSIVE after `import pyframegan` (before torch loads OpenMP), unless the user set it."""
    import os
    import subprocess
    import sys
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if preset:
        env["OMP_WAIT_POLICY"] = preset
    code = "import os, pyframegan, torch; print(os.environ['OMP_WAIT_POLICY'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == want


def faststart_noise(path: Path, n: int = 60) -> Path:
    """n frames of noise as an H.264 .mp4 with its index first (faststart), ~90 KB: cut in half, the
    index still declares n frames."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        v = out.add_stream("libx264", rate=FPS)
        v.width, v.height, v.pix_fmt = W, H, "yuv420p"
        for _ in range(n):
            out.mux(v.encode(av.VideoFrame.from_ndarray(rng.integers(0, 256, (H, W, 3), dtype=np.uint8), format="rgb24")))
        out.mux(v.encode())
    return path


def test_a_truncated_input_is_said_so(engine, tmp_path, capsys):
    """A faststart mp4 cut in half: a warning with both counts (the output has what could be
    decoded); --strict makes it an error and writes nothing."""
    full = faststart_noise(tmp_path / "full.mp4")
    data = full.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[:len(data) // 2])
    with pytest.warns(UserWarning, match=r"decoded \d+ of the 60 frames its header declares"):
        stats = interpolate_video(cut, tmp_path / "out.mp4", engine, progress=False)
    assert 0 < stats["input_frames"] < 60
    with pytest.raises(ValueError, match="--strict"):
        interpolate_video(cut, tmp_path / "strict.mp4", engine, progress=False, strict=True)
    assert not (tmp_path / "strict.mp4").exists()


def test_command_errors_are_one_line(model_path, tmp_path, capsys, monkeypatch):
    """Expected failures reach the user as one line and a non-zero status: a truncated input's
    warning, a frame size over the memory budget (a tiny PNG declaring 12000x12000), a model that
    returns the wrong shape, a bad device."""
    from PIL import Image
    full = faststart_noise(tmp_path / "full.mp4")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[:full.stat().st_size // 2])
    assert cli.main(["video", str(cut), "-o", str(tmp_path / "o.mp4"), "--model", str(model_path)]) == 0
    err = capsys.readouterr().err
    assert "pyframegan video: warning:" in err and "of the 60 frames its header declares" in err
    assert len([line for line in err.splitlines() if "warning" in line]) == 1
    assert cli.main(["video", str(cut), "-o", str(tmp_path / "s.mp4"), "--model", str(model_path), "--strict"]) == 2
    assert "--strict" in capsys.readouterr().err

    huge = tmp_path / "huge.png"
    Image.new("1", (12000, 12000)).save(huge)
    assert huge.stat().st_size < 100_000
    assert cli.main(["interpolate", str(huge), str(huge), "-o", str(tmp_path / "h"), "--model", str(model_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "12000x12000" in err and "memory budget" in err

    assert cli.main(["video", str(full), "-o", str(tmp_path / "d.mp4"), "--model", str(model_path),
                     "--device", "cuda:7"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("pyframegan video: error:")

    class WrongShape(torch.nn.Module):  # forward returns 2 frames where the metadata promises 5
        def __init__(self):
            super().__init__()
            self.n_in, self.n_out, self.multiple = 2, 5, 1

        def forward(self, x):
            return x[:, :6]

    from pyframegan import export
    bad = tmp_path / "bad.pt"
    export.export_generator(WrongShape(), bad)
    square = write_clip(tmp_path / "square.mov", moving_square(), audio=False)  # no scene cuts: the model runs
    assert cli.main(["video", str(square), "-o", str(tmp_path / "w.mp4"), "--model", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the generator returned" in err

    y4m = tmp_path / "huge.y4m"  # a video declaring 12000x12000 frames: refused before decoding
    y4m.write_bytes(b"YUV4MPEG2 W12000 H12000 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + bytes(1000))
    assert cli.main(["video", str(y4m), "-o", str(tmp_path / "y.mp4"), "--model", str(model_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "12000x12000" in err and "memory budget" in err

    for oom in (torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB\n(details)"), MemoryError()):
        def out_of_memory(*args, exc=oom):
            raise exc
        monkeypatch.setattr(Interpolator, "run", out_of_memory)
        assert cli.main(["video", str(square), "-o", str(tmp_path / "m.mp4"), "--model", str(model_path)]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("pyframegan video: error:") and "Traceback" not in err
        assert not list(tmp_path.glob(".m.mp4*")) and not (tmp_path / "m.mp4").exists()


def test_options_that_make_no_sense_are_refused(engine, lossless, tmp_path):
    """Each names the argument and its range: --crf 100, --scene-threshold -1, batch_size 0 / -1,
    times given as a string, a sparse tensor, n = 10**7."""
    src, frames = lossless
    with pytest.raises(ValueError, match=r"--crf must be in \[0, 51\] for libx264, got 100"):
        interpolate_video(src, tmp_path / "a.mp4", engine, crf=100, progress=False)
    with pytest.raises(ValueError, match="--scene-threshold"):
        interpolate_video(src, tmp_path / "b.mp4", engine, scene_threshold=-1, progress=False)
    a, b = frames[0], frames[1]
    for bad in (0, -1):
        with pytest.raises(ValueError, match="batch_size must be a positive number"):
            engine.batch([(a, b)], batch_size=bad)
    with pytest.raises(ValueError, match="times must be a sequence"):
        engine.run(torch.from_numpy(a)[None], torch.from_numpy(b)[None], "0.5")
    with pytest.raises(ValueError, match="dense"):
        engine.interpolate(torch.from_numpy(a).to_sparse(), b)
    with pytest.raises(ValueError, match="a must be a dense"):  # was the engine's "Cannot set version_counter"
        engine.run(torch.from_numpy(a)[None].to_sparse(), torch.from_numpy(b)[None])
    for bad in ([None], torch.tensor(0.5), np.zeros((1, 2))):  # were TypeErrors naming no argument
        with pytest.raises(ValueError, match="times must be a sequence"):
            engine.run(torch.from_numpy(a)[None], torch.from_numpy(b)[None], bad)
    with pytest.raises(ValueError, match="at most 1024"):
        engine.interpolate(a, b, n=10 ** 7)
    assert not any(tmp_path.iterdir())


def test_sigterm_and_sigkill_leave_no_stray_partial_file(lossless, model_path, tmp_path):
    """SIGTERM ends `pyframegan video` as Ctrl-C does (its partial output removed); the partial
    file a SIGKILLed run leaves is removed by the next run to the same output."""
    import signal
    import subprocess
    import sys
    import time as clock
    src, _ = lossless
    long = write_clip(tmp_path / "long.mov", moving_square(n=200), audio=False)
    dst = tmp_path / "out.mp4"
    cmd = [sys.executable, "-m", "pyframegan.cli", "video", str(long), "-o", str(dst), "--model", str(model_path),
           "--batch-size", "1"]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = clock.time() + 60
        while not list(tmp_path.glob(".out.mp4.*")) and clock.time() < deadline and proc.poll() is None:
            clock.sleep(0.05)
        proc.send_signal(sig)
        proc.wait(timeout=60)
        if sig == signal.SIGTERM:
            err = proc.stderr.read()
            assert proc.returncode == 130 and "interrupted" in err, err
            assert not list(tmp_path.glob(".out.mp4.*")) and not dst.exists()
    assert list(tmp_path.glob(".out.mp4.*"))  # what SIGKILL left
    interpolate_video(src, dst, model=model_path, progress=False, **LOSSLESS)
    assert dst.exists() and not list(tmp_path.glob(".out.mp4.*"))


def test_stale_partial_files_are_found_whatever_the_output_name(tmp_path):
    """The next write to an output removes its dead writers' temporary files even when the name holds
    glob characters ("clip [1080p].mp4": such files stayed forever), and leaves alone those of a live
    writer and those of another output whose name the pattern also matched ("clip 1.mp4")."""
    import os
    import subprocess
    import sys
    from pyframegan.files import remove_stale_temporaries
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    for name in ("clip [1080p].mp4", "a*b?.mp4", "plain.mp4"):
        stale = tmp_path / f".{name}.{gone}-0123abcd.partial.mp4"
        live = tmp_path / f".{name}.{os.getppid()}-4567cdef.partial.mp4"  # this test's parent: alive
        stale.touch()
        live.touch()
        assert remove_stale_temporaries(tmp_path / name) == [stale] and not stale.exists() and live.exists()
    other = tmp_path / f".clip 1.mp4.{gone}-89abcdef.partial.mp4"  # matched by the unescaped "clip [1]" pattern
    other.touch()
    assert remove_stale_temporaries(tmp_path / "clip [1].mp4") == [] and other.exists()


def test_a_folder_given_as_an_output_file_is_one_clear_error(tmp_path, capsys):
    """evaluate --json DIR (and every atomic writer) said "[Errno 21] Is a directory: '.DIR.<pid>-<hex>.tmp'
    -> 'DIR'"; a file that is no checkpoint gave `export` torch's page-long refusal."""
    from pyframegan.files import atomic_write
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(ValueError, match="out: is a folder; give the name of a file to write"):
        atomic_write(folder, lambda f: f.write(b"x"))
    assert [p.name for p in tmp_path.iterdir()] == ["out"] and not any(folder.iterdir())
    not_a_checkpoint = write_png(tmp_path / "x.png", np.zeros((8, 8, 3), np.uint8))
    assert cli.main(["export", str(not_a_checkpoint), "-o", str(tmp_path / "m.pt")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "x.png is not a readable pyframegan checkpoint (not a PyTorch file" in err
