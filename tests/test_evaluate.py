"""`pyframegan evaluate` and the classical baselines.

Expectations are independent of the code under test: the crossfade is checked against exact
rational arithmetic, the flow baselines against synthetic scenes whose in-between frames are known
(integer translations), and the evaluation windows against the synthetic clip of tests/conftest.py
(30 distinct frames, a cut before frame 18, frame 5 repeated once in the file).
"""
from __future__ import annotations

import json
import shutil
from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from pyframegan import baselines, diagnostics, evaluate, methods
from pyframegan.cli import main as cli_main

HAVE_FFMPEG = shutil.which("ffmpeg") is not None


def np_psnr(x: np.ndarray, y: np.ndarray) -> float:
    mse = ((x.astype(np.float64) - y.astype(np.float64)) ** 2).mean()
    return float(10 * np.log10(255.0 ** 2 / max(mse, 1e-10)))


# --- synthetic scenes with known in-between frames ------------------------------------------------
def translating_texture(shift=(6, 12), h=96, w=128, margin=16):
    """A smooth random texture translated by ``shift`` (dy, dx) pixels between a and b; the truth at
    time k/6 is translated by k/6 of it (integers for the default shift)."""
    rng = np.random.default_rng(0)
    big = np.array(Image.fromarray(rng.integers(0, 256, (16, 20, 3), dtype=np.uint8))
                   .resize((w + 2 * margin, h + 2 * margin), Image.Resampling.BICUBIC))

    def at(dy: int, dx: int) -> np.ndarray:  # content moved down-right by (dy, dx)
        return big[margin - dy:margin - dy + h, margin - dx:margin - dx + w]

    dy, dx = shift
    truth = [at(dy * k // 6, dx * k // 6) for k in range(1, 6)]
    return at(0, 0), at(dy, dx), truth


def translating_photo(shift=(12, -18), h=120, w=160, top=40, left=60):
    """scikit-image's astronaut (a real photograph, 512x512) moving by ``shift`` (dy, dx) half-pixels
    between a and b: windows of the photograph shifted by whole pixels, then halved in size (means of
    2x2 pixels), so the true frames at times k/6 are exact and move by steps of half a pixel."""
    pytest.importorskip("skimage")
    from pyframegan.data.catalogue import load_photo
    photo = load_photo("astronaut").astype(np.float64)

    def at(dy: int, dx: int) -> np.ndarray:  # content moved down-right by (dy, dx) / 2 output pixels
        y, x = 2 * top - dy, 2 * left - dx
        return np.rint(photo[y:y + 2 * h, x:x + 2 * w].reshape(h, 2, w, 2, 3).mean((1, 3))).astype(np.uint8)

    dy, dx = shift
    return at(0, 0), at(dy, dx), [at(dy * k // 6, dx * k // 6) for k in range(1, 6)]


def dis_ours_missing() -> str | None:
    return methods.unavailable("dis-ours")


def moving_square(dx_total=12, h=128, w=160):
    """A 40x40 checkered square moving right over a smooth background, 2 px per sixth."""
    y, x = np.mgrid[:h, :w]
    bg = np.stack([60 + 40 * np.sin(x / 9.0) + 20 * np.cos(y / 7.0), 80 + 30 * np.cos((x + y) / 11.0),
                   100 + 40 * np.sin(y / 13.0)], -1)
    yy, xx = np.mgrid[:40, :40]
    checks = (xx // 8 + yy // 8) % 2
    square = np.stack([175 + 50 * checks, 180 - 100 * checks, 60 + 3 * xx], -1)

    def at(x0: int) -> np.ndarray:
        f = bg.copy()
        f[40:80, x0:x0 + 40] = square
        return f.clip(0, 255).astype(np.uint8)

    return at(40), at(40 + dx_total), [at(40 + dx_total * k // 6) for k in range(1, 6)]


# --- baselines ------------------------------------------------------------------------------------
def test_blend_is_the_exactly_rounded_crossfade():
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    a[0, 0], b[0, 0] = (0, 255, 1), (255, 0, 2)  # extremes and ties (t = 1/2: (1 + 2) / 2)
    for n in (1, 5):
        out = baselines.blend(a, b, n)
        assert len(out) == n and all(f.dtype == np.uint8 and f.shape == a.shape for f in out)
        for k, frame in enumerate(out, 1):
            t = Fraction(k, n + 1)
            want = np.vectorize(lambda p, q: int((1 - t) * int(p) + t * int(q) + Fraction(1, 2)))(a, b)
            np.testing.assert_array_equal(frame, want)
    np.testing.assert_array_equal(baselines.blend(a, a, 5)[2], a)


@pytest.mark.parametrize("name", ["blend", "dis", "dis-ours", "minterpolate"])
def test_baselines_check_their_inputs(name):
    a = np.zeros((16, 16, 3), np.uint8)
    fn = lambda a, b, n: methods.METHODS[name].run(a, b, [], n)  # noqa: E731
    with pytest.raises(ValueError, match="uint8"):
        fn(a.astype(np.float32), a, 5)
    with pytest.raises(ValueError, match="must match"):
        fn(a, np.zeros((16, 18, 3), np.uint8), 5)
    with pytest.raises(ValueError, match="at least 1"):
        fn(a, a, 0)


def test_dis_recovers_a_translation():
    pytest.importorskip("cv2")
    a, b, truth = translating_texture()
    out = baselines.dis(a, b, 5)
    assert len(out) == 5 and all(f.dtype == np.uint8 and f.shape == a.shape for f in out)
    crossfade = baselines.blend(a, b, 5)
    inner = (slice(16, -16), slice(16, -16))  # away from the borders, where content enters or leaves
    for k in range(5):
        got, fade = np_psnr(out[k][inner], truth[k][inner]), np_psnr(crossfade[k][inner], truth[k][inner])
        assert got > 40 and got > fade + 20, (k, got, fade)


def test_dis_ours_matches_dis_on_a_translated_photograph():
    """The flows of pyframegan's own DIS op, through dis's warp and blend, give dis's frames: on a
    photograph sliding 6 px down and 9 px left (sub-pixel steps), the window's score (mean PSNR of
    the 5 frames against the true ones) is within 0.1 dB of dis's, and every frame of both is far
    above the crossfade."""
    if dis_ours_missing():
        pytest.skip(dis_ours_missing())
    a, b, truth = translating_photo(shift=(12, -18))
    ours, theirs = baselines.dis_ours(a, b, 5), baselines.dis(a, b, 5)
    assert len(ours) == 5 and all(f.dtype == np.uint8 and f.shape == a.shape for f in ours)
    crossfade = baselines.blend(a, b, 5)
    inner = (slice(16, -16), slice(16, -16))  # away from the borders, where content enters or leaves
    scores = {name: [np_psnr(f[inner], t[inner]) for f, t in zip(frames, truth)]
              for name, frames in (("ours", ours), ("dis", theirs), ("crossfade", crossfade))}
    assert abs(np.mean(scores["ours"]) - np.mean(scores["dis"])) < 0.1, scores
    for k in range(5):
        o, d, fade = scores["ours"][k], scores["dis"][k], scores["crossfade"][k]
        assert min(o, d) > 33 and min(o, d) > fade + 15, (k, o, d, fade)
    # no motion: both give the frame back
    assert all(np.array_equal(f, a) for f in baselines.dis_ours(a, a, 3) + baselines.dis(a, a, 3))


def test_oracle_follows_motion_that_is_not_linear():
    """The texture moves 12 px in all, but not at a constant speed: the true frames sit at 0, 1, 3, 7,
    10 of the 12 px. DIS (linear motion) cannot know that; the oracle, which sees them, can."""
    pytest.importorskip("cv2")
    positions = [0, 1, 3, 7, 10]
    a, b, _ = translating_texture(shift=(0, 12))
    truth = [translating_texture(shift=(0, p))[1] for p in positions]
    inner = (slice(16, -16), slice(16, -16))
    got = diagnostics.oracle(a, b, truth)
    assert len(got) == 5 and all(f.dtype == np.uint8 and f.shape == a.shape for f in got)
    guess = baselines.dis(a, b, 5)
    for k in range(5):
        o, d = np_psnr(got[k][inner], truth[k][inner]), np_psnr(guess[k][inner], truth[k][inner])
        assert o > 38, (k, o)
        if positions[k] != 12 * (k + 1) // 6:  # where the motion is not where linear motion puts it
            assert o > d + 10, (k, o, d)
    with pytest.raises(ValueError, match="true frame 1"):
        diagnostics.oracle(a, b, [a, a[:, :-1]])


def test_oracle_shift_recovers_the_camera_shake():
    """The texture moves linearly, 12 px right and 6 down, but the camera shakes: each true frame is
    off its linear place by a pixel or two. DIS cannot know the shake; DIS's frames moved by the one
    shift that fits each true frame can. Without shake, the shift (near zero) changes almost nothing."""
    pytest.importorskip("cv2")
    shake = [(1, 0), (0, -2), (1, 1), (-2, 0), (0, 1)]  # (dy, dx) of each true frame off its linear place
    a, b, steady = translating_texture(shift=(6, 12))
    at = [(6 * k // 6 + sy, 12 * k // 6 + sx) for k, (sy, sx) in zip(range(1, 6), shake)]
    shaken = [translating_texture(shift=p)[1] for p in at]
    inner = (slice(16, -16), slice(16, -16))
    guess = baselines.dis(a, b, 5)
    got = diagnostics.oracle_shift(a, b, shaken)
    assert len(got) == 5 and all(f.dtype == np.uint8 and f.shape == a.shape for f in got)
    for k in range(5):
        o, d = np_psnr(got[k][inner], shaken[k][inner]), np_psnr(guess[k][inner], shaken[k][inner])
        assert o > 38 and o > d + 8, (k, o, d)
    for k, f in enumerate(diagnostics.oracle_shift(a, b, steady)):  # DIS is exact here (~70 dB); so stays the shift
        assert np_psnr(f[inner], steady[k][inner]) > 45, k
    flat = np.full_like(a, 128)  # nothing for ECC to align: DIS's frames come back unmoved
    assert all(np.array_equal(f, g) for f, g in zip(diagnostics.oracle_shift(flat, flat, [flat] * 5),
                                                    baselines.dis(flat, flat, 5)))
    with pytest.raises(ValueError, match="true frame 1"):
        diagnostics.oracle_shift(a, b, [a, a[:, :-1]])


def test_motion_measures_how_far_and_how_linear():
    pytest.importorskip("cv2")
    a, b, truth = translating_texture(shift=(6, 12))
    half = float(np.hypot(3, 6))  # the middle frame is 3 px down, 6 px right of a; the same back from b
    linear = diagnostics.motion(a, b, truth[2])
    assert linear["motion_px"] == pytest.approx(half, abs=0.5) and linear["nonlinear_px"] < 0.5
    stuck = diagnostics.motion(a, b, a)  # nothing moves, then everything: the middle frame is still a
    assert stuck["motion_px"] == pytest.approx(half, abs=0.7)
    assert stuck["nonlinear_px"] == pytest.approx(2 * half, abs=1.0)
    with pytest.raises(ValueError, match="true frame 0 must be a uint8 array"):
        diagnostics.motion(a, b, a[:-1])
    tiny = np.zeros((8, 10, 3), np.uint8)
    for fn in (lambda: diagnostics.motion(tiny, tiny, tiny), lambda: baselines.dis(tiny, tiny, 5),
               lambda: diagnostics.oracle(tiny, tiny, [tiny]), lambda: diagnostics.oracle_shift(tiny, tiny, [tiny])):
        with pytest.raises(ValueError, match="at least 12 px"):
            fn()
    if dis_ours_missing() is None:
        with pytest.raises(ValueError, match="too small"):
            baselines.dis_ours(tiny, tiny, 5)


@pytest.mark.skipif(not HAVE_FFMPEG, reason="no ffmpeg binary")
def test_minterpolate_times_and_motion():
    a, b, truth = moving_square()
    out = baselines.minterpolate(a, b, 5)
    assert len(out) == 5 and all(f.dtype == np.uint8 and f.shape == a.shape for f in out)
    crossfade = baselines.blend(a, b, 5)
    scores = [np_psnr(o, t) for o, t in zip(out, truth)]
    # the middle frame shows the square half-way (not a, not b, not a crossfade)
    assert scores[2] > 33 and scores[2] > np_psnr(crossfade[2], truth[2]) + 8
    assert scores[2] > np_psnr(out[2], a) + 10 and scores[2] > np_psnr(out[2], b) + 10
    for k in range(5):  # each frame is nearest to its own time
        assert scores[k] > np_psnr(crossfade[k], truth[k]) + 4
        others = [np_psnr(out[k], t) for j, t in enumerate(truth) if j != k]
        assert scores[k] >= max(others), (k, scores[k], others)
    # no motion: the two frames come back (up to the YUV 4:4:4 round trip)
    still = baselines.minterpolate(a, a, 3)
    assert all(np_psnr(f, a) > 45 for f in still)


def test_unavailable_tools(monkeypatch):
    assert methods.unavailable("blend") is None
    with monkeypatch.context() as m:  # dis-ours needs pyframegan's extension for the flow, not OpenCV's DIS
        def no_extension():
            raise ImportError("pyframegan's native extension pyframegan._C could not be loaded")

        m.setattr(baselines, "_ops", no_extension)
        m.setattr(baselines, "_cv2", lambda: SimpleNamespace(__version__="3.0"))  # an OpenCV without DIS
        assert "has no DISOpticalFlow_create" in methods.unavailable("dis")
        assert "native extension" in methods.unavailable("dis-ours")
        m.setattr(baselines, "_ops", lambda: None)
        assert methods.unavailable("dis-ours") is None
    monkeypatch.setattr(baselines.shutil, "which", lambda name: None)
    assert "ffmpeg" in methods.unavailable("minterpolate")

    def no_cv2():
        raise ImportError("No module named 'cv2'")

    monkeypatch.setattr(baselines, "_cv2", no_cv2)
    assert "opencv-python-headless" in methods.unavailable("dis")
    assert "opencv-python-headless" in methods.unavailable("dis-ours")  # its warp is OpenCV's remap
    assert "opencv-python-headless" in methods.unavailable("oracle")
    assert "opencv-python-headless" in methods.unavailable("oracle-shift")
    with pytest.raises(ValueError, match="unknown baseline"):
        methods.unavailable("rife")


# --- windows --------------------------------------------------------------------------------------
def test_valid_starts_and_spread():
    assert evaluate.valid_starts(10, []) == [0, 1, 2, 3]
    # a cut at 8 lies between frames 7 and 8: windows 0..1 end before it, 8.. start at it
    assert evaluate.valid_starts(16, [8]) == [0, 1, 8, 9]
    assert evaluate.valid_starts(6, []) == []
    assert evaluate.spread(list(range(10)), 3) == [0, 4, 9]
    assert evaluate.spread([3, 4], 5) == [3, 4]
    assert evaluate.spread(list(range(9)), 1) == [4]


# --- the command ----------------------------------------------------------------------------------
def test_evaluate_end_to_end(clip, lossless_video, tiny_model, tmp_path, capsys):
    out_json, out_png = tmp_path / "eval.json", tmp_path / "eval.png"
    wanted = ["blend", "dis", "dis-ours", "minterpolate", "oracle", "oracle-shift"]
    rc = cli_main(["evaluate", str(lossless_video), "--model", str(tiny_model), "--baselines", ",".join(wanted),
                   "--windows", "3", "--max-side", "512", "--device", "cpu",
                   "--json", str(out_json), "--picture", str(out_png), "--picture-windows", "2"])
    printed = capsys.readouterr().out
    assert rc == 0
    ran = [n for n in wanted if methods.unavailable(n) is None] + ["pyframegan"]
    for name in ran:
        assert name in printed
    for name in set(wanted) - set(ran):
        assert f"note: skipping {name}" in printed
    assert "PSNR" in printed and "SSIM" in printed and "s/window" in printed and "mean, all windows" in printed

    report = json.loads(out_json.read_text())
    assert {"settings", "methods", "skipped", "model", "clips", "mean", "motion", "windows",
            "total_windows"} <= set(report)
    assert report["methods"] == ran
    (c,) = report["clips"]
    # 30 distinct frames (the repeated one dropped), one cut before frame 18 (scene_a frames)
    assert c["frames"] == clip.scene_a + clip.scene_b and c["cuts"] == [clip.scene_a]
    assert (c["height"], c["width"]) == (clip.height, clip.width)
    assert len(c["window_starts"]) == 3 == report["total_windows"] == len(report["windows"])
    assert c["window_starts"][0] == 0 and c["window_starts"][-1] == clip.scene_a + clip.scene_b - 7
    for s in c["window_starts"]:  # no window crosses the cut
        assert s + 6 < clip.scene_a or s >= clip.scene_a
    for name in ran:
        assert set(c["results"][name]) == {"windows", "psnr", "ssim", "seconds_per_window"}
        assert report["mean"][name]["windows"] == 3 and report["mean"][name]["seconds_per_window"] > 0
    # the windows hold the clip's own frames: the crossfade PSNR recomputed from the known pixels
    frames = clip.frames()
    for w in report["windows"]:
        s = w["start"]
        fade = baselines.blend(frames[s], frames[s + 6], 5)
        want = np.mean([np_psnr(f, t) for f, t in zip(fade, frames[s + 1:s + 6])])
        assert w["results"]["blend"]["psnr"] == pytest.approx(want, abs=1e-3)
        assert len(w["results"]["blend"]["psnr_per_frame"]) == 5
        if "dis" in ran:  # with OpenCV: the motion of each window, from its middle frame
            assert w["motion"] == pytest.approx(diagnostics.motion(frames[s], frames[s + 6], frames[s + 3]))
    if "dis" in ran:
        assert c["motion"]["motion_px"] == pytest.approx(np.mean([w["motion"]["motion_px"] for w in report["windows"]]))
        assert "departure from linear motion" in printed and "oracle: not a method" in printed
        assert "oracle-shift: not a method" in printed
    else:
        assert report["motion"] is None and c["motion"] is None

    picture = Image.open(out_png)
    assert picture.width > (1 + len(ran)) * clip.width and picture.height > 2 * clip.height


def test_evaluate_span_two_scores_one_frame_between_frames_two_apart(clip, lossless_video, tiny_model, tmp_path):
    """--span 2: frames 0 and 2 in, frame 1 scored; a model that makes frames at any time (an untrained
    hybrid generator) makes one frame; a fixed-5 U-Net cannot and says so."""
    from pyframegan import export
    from pyframegan.models import build_generator
    hybrid = tmp_path / "hybrid.pt"
    export.export_generator(build_generator({"arch": "hybrid", "n_in": 2, "n_out": 5, "ngf": 8}), hybrid)
    report = evaluate.evaluate([lossless_video], model=hybrid, baselines="blend", windows=4, span=2, log=lambda m: None)
    assert report["settings"]["span"] == 2 and report["settings"]["targets"] == [1]
    frames = clip.frames()
    for w in report["windows"]:
        s = w["start"]
        assert len(w["results"]["pyframegan"]["psnr_per_frame"]) == 1
        want = np_psnr(baselines.blend(frames[s], frames[s + 2], 1)[0], frames[s + 1])
        assert w["results"]["blend"]["psnr"] == pytest.approx(want, abs=1e-3)
    assert all(s + 2 < clip.scene_a or s >= clip.scene_a for s in report["clips"][0]["window_starts"])
    # --context: windows of 7 frames, frames 2 and 4 in, 3 scored, 0 and 6 the model's context
    report = evaluate.evaluate([lossless_video], model=hybrid, baselines="blend", windows=2, span=2, context=True,
                               log=lambda m: None)
    assert report["settings"]["inputs"] == [2, 4] and report["settings"]["targets"] == [3]
    assert report["settings"]["window"] == 7 and report["model"]["context"]
    for w in report["windows"]:
        s = w["start"]
        want = np_psnr(baselines.blend(frames[s + 2], frames[s + 4], 1)[0], frames[s + 3])
        assert w["results"]["blend"]["psnr"] == pytest.approx(want, abs=1e-3)
    with pytest.raises(ValueError, match="does not use context"):
        evaluate.evaluate([lossless_video], model=tiny_model, baselines="blend", windows=1, context=True)
    with pytest.raises(ValueError, match="--span 2 needs a model from 2 frames to 1"):
        evaluate.evaluate([lossless_video], model=tiny_model, baselines="blend", windows=1, span=2)
    for bad in (1, 17, 2.5):
        with pytest.raises(ValueError, match="--span must be an integer"):
            evaluate.evaluate([lossless_video], baselines="blend", windows=1, span=bad)


def test_evaluate_skip_notes(lossless_video, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("pyframegan.engine.DEFAULT_MODEL", tmp_path / "none.pt")
    monkeypatch.setattr(baselines.shutil, "which", lambda name: None)

    def no_cv2():
        raise ImportError("No module named 'cv2'")

    monkeypatch.setattr(baselines, "_cv2", no_cv2)
    assert cli_main(["evaluate", str(lossless_video), "--windows", "1"]) == 0
    printed = capsys.readouterr().out
    assert "note: skipping dis: OpenCV" in printed
    assert "note: skipping minterpolate: no ffmpeg" in printed
    assert "note: skipping pyframegan: no --model given" in printed
    assert "blend" in printed
    # nothing left to run is an error
    assert cli_main(["evaluate", str(lossless_video), "--baselines", "dis"]) == 2
    assert "nothing to evaluate" in capsys.readouterr().err


def test_evaluate_bad_inputs(clip, lossless_video, tmp_path, capsys):
    with pytest.raises(FileNotFoundError, match="no such file"):
        evaluate.evaluate([tmp_path / "missing.mp4"], baselines="blend")
    assert cli_main(["evaluate", str(tmp_path / "missing.mp4"), "--baselines", "blend"]) == 2
    assert "missing.mp4: no such file" in capsys.readouterr().err

    short = clip.write(tmp_path / "short.mov", clip.frames()[:6])
    with pytest.raises(ValueError, match=r"6 frames .* at least 7"):
        evaluate.evaluate([short], baselines="blend")
    # 9 frames, but a cut before frame 5: no 7 frames without a cut
    cut = clip.write(tmp_path / "cut.mov", clip.frames()[13:22])
    with pytest.raises(ValueError, match="without a scene cut"):
        evaluate.evaluate([cut], baselines="blend")
    with pytest.raises(ValueError, match="unknown baseline"):
        evaluate.evaluate([lossless_video], baselines="blend,rife")
    with pytest.raises(ValueError, match="--windows"):
        evaluate.evaluate([lossless_video], baselines="blend", windows=0)
    not_video = tmp_path / "notes.txt"
    not_video.write_text("hello")
    with pytest.raises(ValueError, match="not a readable video"):
        evaluate.evaluate([not_video], baselines="blend")
