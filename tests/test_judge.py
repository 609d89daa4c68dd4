"""The hybrid generator's learned judgement (pyframegan/models/judge.py) and its training
(pyframegan/training/judge.py)."""
import numpy as np
import pytest
import torch

from pyframegan import export
from pyframegan.engine import Interpolator
from pyframegan.models import build_generator
from pyframegan.models.judge import inconsistency
from pyframegan.reference import pack_pairs_ref, unpack_frames_ref
from pyframegan.training import judge as training

cv2 = pytest.importorskip("cv2")


def hybrid(**config):
    torch.manual_seed(0)
    return build_generator({"arch": "hybrid", "n_in": 2, "n_out": 5, "learned": False, **config})


def moving_square(h=64, w=96, dx=6):
    """A textured background with a bright square that moves ``dx`` px right over it: an occlusion
    on one side of the square and an uncovered background on the other."""
    rng = np.random.default_rng(3)
    bg = cv2.resize(rng.integers(0, 256, (h // 4, w // 4, 3), dtype=np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    a, b = bg.copy(), bg.copy()
    a[20:44, 20:44] = (240, 230, 40)
    b[20:44, 20 + dx:44 + dx] = (240, 230, 40)
    return a, b


def perturbed_judge(scale=0.2, flows=False, pooled=False, judge_scale=8):
    g = hybrid(judge=True, judge_width=8, judge_flows=flows, judge_pooled=pooled, judge_scale=judge_scale)
    torch.manual_seed(1)
    with torch.no_grad():
        for p in g.judge.parameters():
            p.add_(torch.randn_like(p) * scale)
    return g.eval()


def test_an_untrained_judge_changes_nothing(tmp_path):
    """Its head starts at zero: the engine gives bit for bit the model without it, with and without
    context, at the trained times and at others."""
    a, b = moving_square()
    before, after = moving_square(dx=-6)[1], moving_square(dx=12)[1]
    engines = []
    for config in ({}, {"judge": True}):
        path = tmp_path / f"{len(engines)}.pt"
        export.export_generator(hybrid(**config), path)
        engines.append(Interpolator(path, device="cpu"))
    for kwargs in ({}, {"n": 1}, {"n": 3}, {"before": before, "after": after}):
        u, v = (np.stack(e.interpolate(a, b, **kwargs)) for e in engines)
        assert np.array_equal(u, v)


@pytest.mark.parametrize("flows, pooled, judge_scale", [(False, False, 8), (True, False, 8), (False, True, 8),
                                                        (False, False, 4)])
def test_a_trained_judge_in_the_engine_matches_eager(tmp_path, flows, pooled, judge_scale):
    """The engine's path (the judge's mask, alpha and flow corrections into the fused warp_blend)
    gives the frames of the model's Python composition, at the trained times and at other times
    (also for a judge at 1/4 resolution); and the judge does change them."""
    g = perturbed_judge(flows=flows, pooled=pooled, judge_scale=judge_scale)
    a, b = moving_square()
    path = tmp_path / "judge.pt"
    export.export_generator(g, path)
    engine = Interpolator(path, device="cpu")
    x = pack_pairs_ref(torch.from_numpy(np.stack([a, b]))[None], 1)
    with torch.no_grad():
        flow = g.dis(x)
        for n, times in ((5, None), (3, torch.tensor([0.25, 0.5, 0.75]))):
            out = flow.new_zeros(n, g.head_channels, 16, 24)
            want = unpack_frames_ref(g.frames(x, flow, out, True, times)[0], 64, 96)[0].numpy().astype(int)
            plain = unpack_frames_ref(g.frames(x, flow, out, False, times)[0], 64, 96)[0].numpy().astype(int)
            got = np.stack(engine.interpolate(a, b, n=n)).astype(int)
            assert np.abs(got - want).max() <= 2 and np.abs(got - want).mean() < 0.05
            assert np.abs(want - plain).max() > 5


def test_inconsistency_is_zero_for_a_rigid_motion_and_large_at_an_occlusion():
    f01 = torch.zeros(1, 2, 32, 48)
    f01[:, 0] = 3.0
    f10 = -f01
    assert inconsistency(f01, f10)[..., 4:-4, 4:-4].abs().max() < 1e-5
    f10_occluded = f10.clone()
    f10_occluded[..., 10:20, 20:30] = 0.0  # frame 1 says this region did not move
    o = inconsistency(f01, f10_occluded)
    assert o[..., 12:18, 19:25].min() > 2.5 and o[..., 25:, :].max() < 1e-5


def recorded(monkeypatch, name: str) -> list:
    """The windows that ``training.<name>`` returns from now on (it is wrapped to record them)."""
    made: list = []
    make = getattr(training, name)

    def recording(*a, **k):
        windows = make(*a, **k)
        made.extend(windows)
        return windows
    monkeypatch.setattr(training, name, recording)
    return made


@pytest.mark.parametrize("extra", [["--keep", "48"], ["--flows", "--lambda-labels", "0.1"],
                                   ["--flows", "--lambda-labels", "0.1", "--labels-where-better"],
                                   ["--pooled", "--max-side", "96,72", "--val-sides", "96,72"], ["--context", "0.5"],
                                   ["--synthetic", "3", "--keep", "48", "--scale", "4"],
                                   ["--lambda-gan", "0.1", "--ndf", "8", "--decay", "4"]])
def test_a_short_training_run(clip, lossless_video, tmp_path, monkeypatch, extra):
    """A short run on a synthetic clip (the judge alone, with flow corrections taught by
    pseudo-labels, with the frame means at two scales, with context windows, and with windows of synthetic
    motion over the clip's frames, with a PatchGAN term and the learning rate decaying): training windows are
    collected with their flows, the best judge is kept, a killed run resumes, and the export is a model the
    engine runs; a run started from that model (--init-from) starts at its judge's validation."""
    from pyframegan.data.sources import Source
    src = Source("clip", "video", lossless_video)
    monkeypatch.setattr(training, "default_sources",
                        lambda fetch=False, photos=False, extra=False: ([src], [Source("clip", "video", lossless_video, 0.2)]))
    collected, rendered = recorded(monkeypatch, "collect"), recorded(monkeypatch, "synthetic_windows")
    run = tmp_path / "run"
    args = ["--run-dir", str(run), "--steps", "6", "--per-span", "4", "--val-per-span", "2", "--batch-size", "2",
            "--crop", "32", "--width", "8", "--val-every", "3", "--spans", "2,3"] + extra
    assert training.main(training.parse_args(args)) == 0
    best = torch.load(run / "best.pt", weights_only=True)
    assert best["step"] in (3, 6) and "span2" in best["validation"]
    assert best["config"]["judge_pooled"] == ("--pooled" in extra)
    assert best["config"]["judge_scale"] == (4 if "--scale" in extra else 8)
    if "--context" in extra:  # some windows with their context (and its two flows), some without; validation both ways
        assert {w.context is None for w in collected} == {True, False}
        assert all(w.flow.shape[0] == (2 if w.context is None else 4) for w in collected)
        assert {"span2", "span2-context"} <= set(best["validation"])
    if "--max-side" in extra:  # windows of both scales: the clip's 96x64 and 72x48; validated at both
        shapes = {tuple(w.frames.shape[2:]) for w in collected}
        assert {(64, 96), (48, 72)} <= shapes
        assert {"span2", "span6", "span2@72", "span6@72"} <= set(best["validation"])
    if "--synthetic" in extra:  # 3 rendered windows of each span, 48 px square, moving, with their DIS flows
        assert sorted(w.frames.shape[0] for w in rendered) == [3, 3, 3, 4, 4, 4]
        assert all(w.frames.shape[1:] == (3, 48, 48) and w.flow.shape == (2, 2, 48, 48) for w in rendered)
        assert all(not torch.equal(w.frames[0], w.frames[-1]) and w.flow.abs().max() > 0.5 for w in rendered)
    else:
        assert not rendered
    last = torch.load(run / "last.pt", weights_only=False)
    assert ("disc" in last) == ("--lambda-gan" in extra)
    # decaying over the last 4 of 6 steps, step 6's rate (the last set) is 1/4 of --lr
    assert last["opt"]["param_groups"][0]["lr"] == pytest.approx(2e-4 / 4 if "--decay" in extra else 2e-4)
    assert training.main(training.parse_args(args[:3] + ["12"] + args[4:] + ["--resume"])) == 0
    log = (run / "log.txt").read_text()
    assert "resumed at step 6" in log and "step 12 validation" in log
    assert training.main(training.parse_args(["--run-dir", str(run), "--export", str(tmp_path / "m.pt")])) == 0
    frames = Interpolator(tmp_path / "m.pt", device="cpu").interpolate(clip.frames()[0], clip.frames()[2], n=1)
    assert frames[0].shape == clip.frames()[0].shape
    if "--lambda-gan" in extra:  # a new run from the exported model, then from the run's best.pt
        best = torch.load(run / "best.pt", weights_only=True)
        for start in (tmp_path / "m.pt", run / "best.pt"):
            again = tmp_path / f"again-{start.name}"
            assert training.main(training.parse_args(["--run-dir", str(again), "--init-from", str(start)]
                                                     + args[2:3] + ["1"] + args[4:-len(extra)])) == 0
            first = [line for line in (again / "log.txt").read_text().splitlines() if "step 0 validation" in line]
            assert '"gain": %s' % best["validation"]["gain"] in first[0].split("}, ")[-1], first


@pytest.mark.parametrize("bad, message", [
    (["--steps", "0"], "--steps must be in"),
    (["--crop", "100"], "multiple of 8"),
    (["--spans", "1,2"], "--spans must be"),
    (["--spans", "2,x"], "--spans must be"),
    (["--lr", "nan"], "--lr must be"),
    (["--lambda-labels", "1"], "needs --flows"),
    (["--keep", "100"], "--keep must be"),
    (["--max-side", "512,16"], "--max-side must be"),
    (["--context", "1.5"], "--context must be"),
    (["--val-sides", "512,8"], "--val-sides must be"),
    (["--flows", "--lambda-labels", "1", "--scale", "4"], "needs --scale 8"),
    (["--synthetic", "-1"], "--synthetic must be"),
    (["--lambda-gan", "-0.1"], "--lambda-gan must be"),
    (["--labels-where-better"], "needs --lambda-labels"),
    (["--ndf", "2"], "--ndf must be"),
    (["--steps", "100", "--decay", "101"], "--decay must be in [0, 100]"),
])
def test_bad_options(bad, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        training.parse_args(["--run-dir", str(tmp_path)] + bad)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_labels_where_better_count_only_where_the_prior_is_wrong():
    """A texture moving at constant speed: the prior (linear motion) is right, the labels are worth
    nothing more and weigh ~0 with ``where_better``; the same texture whose middle frame is where
    linear motion does not put it: the labels are better there and keep their weight."""
    big = cv2.resize(np.random.default_rng(2).integers(0, 256, (24, 36, 3), dtype=np.uint8), (144, 96),
                     interpolation=cv2.INTER_CUBIC)
    at = lambda dx: torch.from_numpy(np.ascontiguousarray(big[8:72, 16 + dx:112 + dx])).permute(2, 0, 1)  # noqa: E731
    g = hybrid()
    for middle, wanted in ((4, "little"), (12, "much")):
        frames = torch.stack([at(0), at(middle), at(8)])
        flow = training.window_flow(g, frames)
        _, plain = training.window_labels(frames, flow)
        _, better = training.window_labels(frames, flow, where_better=True)
        inner = (..., slice(8, -8), slice(16, -16))
        assert (better <= plain + 1e-6).all()
        share = better[inner].mean().item() / plain[inner].mean().item()
        assert share < 0.1 if wanted == "little" else share > 0.3, (middle, share)


def test_init_from_takes_only_a_judge_that_fits(tmp_path):
    """--init-from: a missing file, a model without a judge or with a judge of another build is a
    clear error; a fitting one gives its weights."""
    config = {**training.MODEL, "judge_width": 8, "judge_flows": False, "judge_pooled": False, "judge_scale": 8}
    with pytest.raises(FileNotFoundError, match="no such file"):
        training.initial_judge(tmp_path / "none.pt", config)
    export.export_generator(hybrid(), tmp_path / "plain.pt")
    with pytest.raises(ValueError, match="has no judge"):
        training.initial_judge(tmp_path / "plain.pt", config)
    g = perturbed_judge()
    export.export_generator(g, tmp_path / "judged.pt")
    with pytest.raises(ValueError, match="judge_width is 8, this run's 32"):
        training.initial_judge(tmp_path / "judged.pt", {**config, "judge_width": 32})
    weights = training.initial_judge(tmp_path / "judged.pt", config)
    assert all(torch.equal(weights[k], v) for k, v in g.judge.state_dict().items())
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ValueError):
        training.initial_judge(tmp_path / "junk.pt", config)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_the_judge_runs_in_half_precision(tmp_path, dtype):
    """The engine may run the model in fp16 / bf16: the judge's convolutions follow, and the frames stay
    close to float32's."""
    path = tmp_path / "judge.pt"
    export.export_generator(perturbed_judge(), path)
    a, b = moving_square()
    full = np.stack(Interpolator(path, device="cpu").interpolate(a, b, n=3)).astype(int)
    half = np.stack(Interpolator(path, device="cpu", dtype=dtype).interpolate(a, b, n=3)).astype(int)
    assert np.abs(full - half).mean() < 2.0


def test_command_errors_are_one_line(tmp_path):
    """`pyframegan train-judge` (and `python -m pyframegan.training.judge`): a bad option or a run with
    no judge to export is one line on stderr, status 2."""
    import subprocess
    import sys
    for command in (["-m", "pyframegan.cli", "train-judge"], ["-m", "pyframegan.training.judge"]):
        for extra, message in ((["--export", str(tmp_path / "m.pt")], "no judge to export"),
                               (["--spans", "2,x"], "--spans must be")):
            r = subprocess.run([sys.executable, *command, "--run-dir", str(tmp_path / "run"), *extra],
                               capture_output=True, text=True, timeout=120)
            lines = [line for line in r.stderr.splitlines() if line.strip()]
            assert r.returncode == 2 and message in r.stderr, r.stderr
            assert len(lines) == 1 or (len(lines) == 2 and lines[0].startswith("usage:")), r.stderr
        assert not (tmp_path / "m.pt").exists()


def test_a_window_reversed_in_time_gives_the_frames_reversed():
    """augment's time reversal of a window with context (frames, context and the four flows
    reordered) is the same window seen backwards: the model makes the same frames in reverse order."""
    g = hybrid()
    big = np.asarray(cv2.resize(np.random.default_rng(5).integers(0, 256, (20, 30, 3), dtype=np.uint8), (150, 100),
                                interpolation=cv2.INTER_CUBIC))
    at = lambda dx: torch.from_numpy(np.ascontiguousarray(big[10:74, 10 + dx:106 + dx])).permute(2, 0, 1)  # noqa: E731
    frames = torch.stack([at(d) for d in (0, 2, 4, 7)])  # span 3, accelerating
    context = torch.stack([at(0), at(14)])  # 3 before (the same place) and 3 after
    with torch.no_grad():
        x = torch.cat([training.normalise(f) for f in (frames[0], frames[3], context[0], context[1])]).unsqueeze(0)
        win = training.Window(frames, g.dis(x), context=context)

    class Coin:  # no left-right flip, then the time reversal
        draws = iter([0.9, 0.1])

        def random(self):
            return next(self.draws)
    back = training.augment(win, Coin())
    assert torch.equal(back.context, context.flip(0)) and back.flow.shape == (4, 2, 64, 96)
    out = []
    for w in (win, back):
        x, flow, times = training.pairs_of(w.frames[None], w.flow[None], w.context[None])
        out.append(training.compose(g, x, flow, times, use_judge=False).reshape(2, 3, 64, 96))
    torch.testing.assert_close(out[1], out[0].flip(0), atol=1e-4, rtol=0)
