"""`pyframegan video` as users of frame-rate tools expect: rate conversion (--to-fps), frames placed
by their timestamps (variable frame rate), pipes, repeated frames (--dedup), colour metadata.

A random flow generator (any time t) and clips of 64x48 written with PyAV; exact comparisons use
lossless RGB video (png in .mov) and the model's own output at the expected position t.
"""
from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import torch

from pyframegan import cli
from pyframegan.engine import Interpolator
from pyframegan.pipeline import Batch
from pyframegan.timing import T_STEPS, parse_fps
from pyframegan.video import interpolate_video
from test_video import H, LOSSLESS, W, decode, leftovers, moving_square, write_clip


@pytest.fixture(scope="module")
def flow_path(tmp_path_factory) -> Path:
    from pyframegan import export
    from pyframegan.models import build_generator
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "flow.pt"
    export.export_generator(build_generator({"arch": "flow", "n_in": 2, "n_out": 5}), path)
    return path


@pytest.fixture(scope="module")
def flow(flow_path):
    return Interpolator(flow_path, device="cpu")


def at(engine, a, b, t) -> np.ndarray:
    """The model's frame at position t between a and b (t as the video rounds it)."""
    t = Fraction(round(Fraction(t) * T_STEPS), T_STEPS)
    return engine.run(torch.from_numpy(a)[None], torch.from_numpy(b)[None], [float(t)]).numpy()[0, 0]


def write_timed(path: Path, frames, pts, time_base=Fraction(1, 50), codec="png", pix_fmt="rgb24", **tags) -> Path:
    """frames at the given pts (in time_base units): a variable-frame-rate video when the steps differ."""
    with av.open(str(path), "w") as out:
        v = out.add_stream(codec, rate=int(1 / time_base))
        v.width, v.height, v.pix_fmt = frames[0].shape[1], frames[0].shape[0], pix_fmt
        v.time_base = time_base
        for name, value in tags.items():
            setattr(v.codec_context, name, value)
        for f, p in zip(frames, pts):
            frame = av.VideoFrame.from_ndarray(f, format="rgb24")
            if pix_fmt != "rgb24":
                frame = frame.reformat(format=pix_fmt, dst_colorspace="ITU709" if tags else None)
            frame.pts, frame.time_base = p, time_base
            out.mux(v.encode(frame))
        out.mux(v.encode())
    return path


def test_rates_parse_and_ntsc_decimals_are_exact():
    assert parse_fps("59.94") == parse_fps("60000/1001") == Fraction(60000, 1001)
    assert parse_fps("23.976") == Fraction(24000, 1001) and parse_fps(29.97) == Fraction(30000, 1001)
    assert parse_fps("60") == 60 and parse_fps("25.0") == 25 and parse_fps("12.5") == Fraction(25, 2)
    for bad in ("fast", "0", "-24", "1/0", "nan", "inf", "1e300", "1e-300", 2_000_000):
        with pytest.raises(ValueError, match="frame rate"):
            parse_fps(bad)
    for value in ("5000.123456", "999999.5", "1000000"):  # FFmpeg's rates are fractions of 32-bit ints
        rate = parse_fps(value)
        assert rate.numerator < 2 ** 31 and abs(rate - Fraction(value)) < Fraction(1, 1000)


def test_a_target_rate_over_1025_times_the_input_is_refused(flow, tmp_path):
    """--to-fps makes at most 1024 frames between two source frames, as -n does: --to-fps 1e9 on a
    10 fps clip ran for hours listing output times, its memory growing, and SIGTERM waited for it."""
    src = write_clip(tmp_path / "ten.mov", moving_square(3), audio=False, fps=10)
    assert interpolate_video(src, tmp_path / "ok.mov", flow, to_fps=10250, progress=False,
                             **LOSSLESS)["output_frames"] == 3 * 1025
    for rate in ("10251", "1e6"):
        with pytest.raises(ValueError, match=r"--to-fps\) .* more than 1025 times the input's 10 fps"):
            interpolate_video(src, tmp_path / "out.mov", flow, to_fps=rate, progress=False)
    assert cli.main(["video", str(src), "-o", str(tmp_path / "c.mp4"), "--to-fps", "1e300"]) == 2
    assert not (tmp_path / "out.mov").exists() and not (tmp_path / "c.mp4").exists()


def test_rate_conversion_23_976_to_59_94(flow, tmp_path):
    source = moving_square(12)
    src = write_clip(tmp_path / "film.mov", source, audio=False, fps=Fraction(24000, 1001))
    dst = tmp_path / "out.mov"
    stats = interpolate_video(src, dst, flow, to_fps="59.94", progress=False, **LOSSLESS)
    frames, facts = decode(dst)
    assert facts["rate"] == Fraction(60000, 1001) and stats["output_fps"] == 60000 / 1001
    assert len(frames) == stats["output_frames"] == 30  # 12 frames x 2.5, the duration kept exactly
    assert abs(len(frames) * Fraction(1001, 60000) - 12 * Fraction(1001, 24000)) < Fraction(1001, 60000)
    for i in range(0, 12, 2):  # output frame 5i/2 lands on source frame i
        assert np.array_equal(frames[5 * i // 2], source[i]), i
    # the others are the model's frames at their positions: 0.4, 0.8 | 0.2, 0.6 | ...
    assert np.array_equal(frames[1], at(flow, source[0], source[1], 0.4))
    assert np.array_equal(frames[2], at(flow, source[0], source[1], 0.8))
    assert np.array_equal(frames[3], at(flow, source[1], source[2], 0.2))
    assert np.array_equal(frames[4], at(flow, source[1], source[2], 0.6))
    assert stats["n_out"] is None and stats["sample_fps"] == 60000 / 1001


def test_rate_conversion_down_interpolates(flow, tmp_path):
    source = moving_square(20)
    src = write_clip(tmp_path / "fifty.mov", source, audio=False, fps=50)
    stats = interpolate_video(src, tmp_path / "out.mov", flow, to_fps=24, progress=False, **LOSSLESS)
    frames, facts = decode(tmp_path / "out.mov")
    assert facts["rate"] == 24 and len(frames) == 10  # 0.4 s: 9.6 frames at 24 fps, the last one held
    assert abs(len(frames) / 24 - 20 / 50) < 1 / 24
    assert np.array_equal(frames[0], source[0]) and np.array_equal(frames[6], at(flow, source[12], source[13], 0.5))
    assert np.array_equal(frames[1], at(flow, source[2], source[3], Fraction(1, 12)))  # 50/24 = 2 + 1/12
    assert stats["input_frames"] == 20


def test_variable_frame_rate_frames_sit_at_their_timestamps(flow, tmp_path):
    """A gap of 5.5 frame intervals (as in the phone clip): the output keeps the input's duration and
    the frames in the gap are interpolated across it at their true positions."""
    source = moving_square(10)
    pts = [0, 2, 4, 6, 8, 19, 21, 23, 25, 27]  # 1/50 s units: 25 fps, then a gap of 11 units
    src = write_timed(tmp_path / "vfr.mov", source, pts)
    dst = tmp_path / "out.mov"
    stats = interpolate_video(src, dst, flow, to_fps=50, progress=False, **LOSSLESS)
    frames, _ = decode(dst)
    with av.open(str(src)) as c:  # 28/50 s: the muxer gave the last frame 1/50 s
        seconds = float(c.streams.video[0].duration * c.streams.video[0].time_base)
    assert len(frames) == round(seconds * 50) == 28 and stats["duration"] == seconds
    for i, p in enumerate(pts):
        assert np.array_equal(frames[p], source[i]), i
    for k in range(9, 19):  # inside the gap: between source frames 4 (8/50) and 5 (19/50)
        assert np.array_equal(frames[k], at(flow, source[4], source[5], Fraction(k - 8, 11))), k
    # by default (-n: the model's 5 between) the duration is kept too, on the average rate's grid
    stats = interpolate_video(src, tmp_path / "n.mov", flow, progress=False, **LOSSLESS)
    assert abs(stats["duration"] - seconds) <= 1 / stats["output_fps"]


def test_a_y4m_pipe_in_and_out(flow_path, tmp_path):
    source = moving_square(6)
    y4m = tmp_path / "in.y4m"
    write_timed(y4m, source, range(6), Fraction(1, 25), codec="rawvideo", pix_fmt="yuv420p")
    cmd = [sys.executable, "-m", "pyframegan.cli", "video", "-", "-o", "-", "--model", str(flow_path), "--device", "cpu"]
    run = subprocess.run(cmd, stdin=y4m.open("rb"), capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr.decode()
    assert run.stdout.startswith(b"YUV4MPEG2 W64 H48 F150:1")  # nothing but the video on stdout
    assert b"wrote stdout: 36 frames" in run.stderr
    out = tmp_path / "out.y4m"
    out.write_bytes(run.stdout)
    frames, facts = decode(out)
    assert len(frames) == 36 and facts["rate"] == 150
    assert np.abs(frames[6].astype(int) - source[1]).mean() < 4  # yuv420p twice: close, not exact
    run = subprocess.run(cmd + ["--format", "nut", "--to-fps", "50"], stdin=y4m.open("rb"), capture_output=True,
                         timeout=120)
    assert run.returncode == 0 and run.stdout.startswith(b"nut/multimedia container")
    (tmp_path / "out.nut").write_bytes(run.stdout)
    assert len(decode(tmp_path / "out.nut")[0]) == 12


def test_dedup_makes_animation_on_twos_smooth(flow, tmp_path):
    drawings = moving_square(6)
    on_twos = [d for d in drawings for _ in range(2)]  # every drawing held for two frames
    src = write_clip(tmp_path / "anime.mov", on_twos, audio=False)
    stats = interpolate_video(src, tmp_path / "plain.mov", flow, to_fps=25, progress=False, **LOSSLESS)
    plain, _ = decode(tmp_path / "plain.mov")
    assert stats["repeats_dropped"] == 0 and any(np.array_equal(a, b) for a, b in zip(plain, plain[1:]))
    stats = interpolate_video(src, tmp_path / "dedup.mov", flow, to_fps=25, dedup=True, progress=False, **LOSSLESS)
    smooth, _ = decode(tmp_path / "dedup.mov")
    assert stats["repeats_dropped"] == 6 and len(smooth) == 12  # same duration
    body = smooth[:-2]  # the last drawing is held for its two frames, as in the source
    assert not any(np.array_equal(a, b) for a, b in zip(body, body[1:]))
    for i in range(5):  # each drawing at its own time, the frame between at t = 1/2
        assert np.array_equal(smooth[2 * i], drawings[i])
        assert np.array_equal(smooth[2 * i + 1], at(flow, drawings[i], drawings[i + 1], 0.5))


def test_colour_description_survives(flow, tmp_path):
    """A BT.709, full-range input: the output is tagged the same and its colours match."""
    source = moving_square(4)
    tags = dict(color_primaries=1, color_trc=1, colorspace=1, color_range=2)
    src = write_timed(tmp_path / "bt709.mkv", source, range(4), Fraction(1, 25), codec="libx264",
                      pix_fmt="yuv420p", **tags)
    dst = tmp_path / "out.mp4"
    interpolate_video(src, dst, flow, progress=False)
    with av.open(str(dst)) as c:
        cc = c.streams.video[0].codec_context
        assert (cc.color_primaries, cc.color_trc, cc.colorspace, cc.color_range) == (1, 1, 1, 2)
    first_in = decode(src)[0][0]
    first_out = decode(dst)[0][0]
    assert np.abs(first_out.astype(int) - first_in).mean() < 2


def test_ten_bit_input_is_said_to_become_eight_bit(flow, tmp_path, capsys):
    src = write_timed(tmp_path / "deep.mkv", moving_square(3), range(3), Fraction(1, 25), codec="ffv1",
                      pix_fmt="yuv420p10le")
    with pytest.warns(UserWarning, match="10-bit .*interpolation is 8-bit") as caught:
        stats = interpolate_video(src, tmp_path / "out.mkv", flow, progress=False)
    assert len([w for w in caught if "8-bit" in str(w.message)]) == 1 and stats["pix_fmt"] == "yuv420p"


def test_conflicting_or_impossible_timing_options_are_refused(flow, tiny_model, tmp_path):
    src = write_clip(tmp_path / "a.mov", moving_square(3), audio=False)
    with pytest.raises(ValueError, match="not both"):
        interpolate_video(src, tmp_path / "o.mov", flow, n=2, to_fps=60, progress=False)
    unet = Interpolator(tiny_model, device="cpu")
    for kw in (dict(to_fps=60), dict(dedup=True)):
        with pytest.raises(ValueError, match="flow generator"):
            interpolate_video(src, tmp_path / "o.mov", unet, progress=False, **kw)
    with pytest.raises(ValueError, match="frame rate"):
        interpolate_video(src, tmp_path / "o.mov", flow, to_fps="sixty", progress=False)
    assert leftovers(tmp_path) == ["a.mov"]
    assert cli.main(["video", str(src), "-o", str(tmp_path / "o.mov"), "--model", str(tiny_model), "--dedup"]) == 2


def test_context_only_from_evenly_spaced_neighbours():
    f = [np.full((2, 2, 3), i, np.uint8) for i in range(4)]
    even = Batch(f, [Fraction(i) for i in range(4)], [False] * 3, [[Fraction(0)]] * 3)
    assert even.context(1) is not None and even.context(0) is None  # no frame before the first
    uneven = Batch(f, [Fraction(0), Fraction(2), Fraction(3), Fraction(4)], [False] * 3, [[Fraction(0)]] * 3)
    assert uneven.context(1) is None  # 2 s before the pair, 1 s after: not quadratic motion's spacing
