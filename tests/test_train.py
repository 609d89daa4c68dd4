"""`pyframegan train`: learning, checkpoints and resume, DDP, bad input, metrics."""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from pyframegan import metrics
from pyframegan import training as train
from pyframegan.models import build_generator
from pyframegan.data import make_strip, open_strip_dataset, write_strip
from pyframegan.ops import preprocess_strips

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--size", "32", "--depth", "5", "--ngf", "8", "--ndf", "8", "--workers", "0"]


# --- helpers --------------------------------------------------------------------------------------
def moving_textures(root: Path, count: int = 16, tile: int = 32, frames: int = 7, velocity=(1, 2),
                    blob: int = 8, seed: int = 0) -> Path:
    """Strips (seed layout) of smooth random textures (detail about ``blob`` px) translating by
    ``velocity`` px per frame."""
    gen = torch.Generator().manual_seed(seed)
    root.mkdir(parents=True, exist_ok=True)
    vy, vx = velocity
    span = tile + max(abs(vy), abs(vx)) * (frames - 1) + 8
    for k in range(count):
        tex = F.interpolate(torch.rand(1, 3, span // blob, span // blob, generator=gen), size=(span, span),
                            mode="bicubic", align_corners=False)[0]
        tex = ((tex - tex.amin()) / (tex.amax() - tex.amin()) * 255).round().clamp(0, 255)
        tex = tex.byte().permute(1, 2, 0).numpy()
        y0, x0 = 4 + max(0, -vy) * (frames - 1), 4 + max(0, -vx) * (frames - 1)
        window = [tex[y0 + vy * t:y0 + vy * t + tile, x0 + vx * t:x0 + vx * t + tile] for t in range(frames)]
        write_strip(root / f"tex{k:03d}.png", make_strip(window, frames))
    return root


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train.add_arguments(parser)
    return parser.parse_args([str(a) for a in argv])


def test_lambda_frame_and_its_old_name_set_the_same_weight(tmp_path):
    new = train.config_from_args(parse("--data", tmp_path, "--lambda-frame", "7.5"))
    old = train.config_from_args(parse("--data", tmp_path, "--lambda-l1", "7.5"))
    assert new.lambda_l1 == old.lambda_l1 == 7.5
    assert train.config_from_args(parse("--data", tmp_path)).lambda_l1 == 100.0


def run(*argv: str, progress: bool = False) -> dict:
    return train.run(train.config_from_args(parse(*argv)), progress=progress)


def run_killed_in_step(n: int, monkeypatch, *argv: str) -> None:
    """Run, interrupted inside training step ``n`` as a kill would stop it (no cleanup of its own)."""
    real_step = train.Pix2Pix.step
    calls = {"n": 0}

    def dying_step(self, *args):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt("killed")
        return real_step(self, *args)

    with monkeypatch.context() as patch:
        patch.setattr(train.Pix2Pix, "step", dying_step)
        with pytest.raises(KeyboardInterrupt):
            run(*argv)


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def strips(tmp_path_factory) -> Path:
    return moving_textures(tmp_path_factory.mktemp("data") / "strips", count=12)


def _subprocess_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


TRAIN_SCRIPT = """
import argparse, sys
from pyframegan import training as train
parser = argparse.ArgumentParser()
train.add_arguments(parser)
sys.exit(train.main(parser.parse_args(sys.argv[1:])))
"""


# --- learning -------------------------------------------------------------------------------------
def test_training_learns_better_than_crossfade(tmp_path):
    """A small generator (ngf 8, 265k parameters) trained for 150 steps (lr 1e-3 to keep it short)
    beats the crossfade of the same inputs (L1 on its training strips), while the untrained one does
    worse than the crossfade. (Seen here: trained 0.11, crossfade 0.20, untrained 0.33.)"""
    data = moving_textures(tmp_path / "strips", count=16)
    run_dir = tmp_path / "run"
    run("--data", data, "--run-dir", run_dir, *SMALL, "--batch-size", 4, "--steps", 150, "--lr", 1e-3,
        "--val-fraction", 0,
        "--sample-every", 0, "--checkpoint-every", 150, "--log-every", 50, "--workers", 0)

    ds = open_strip_dataset([data])
    inp, tgt = preprocess_strips(torch.stack([ds[i] for i in range(len(ds))]), size=32)
    weights = metrics.crossfade_weights([0, 6], [1, 2, 3, 4, 5])
    l1_crossfade = (metrics.crossfade(inp, weights) - tgt).abs().mean().item()
    trained = train.load_generator(run_dir / "checkpoints" / "last.pt")
    untrained = build_generator(trained.config).eval()
    with torch.no_grad():
        l1_trained = (trained(inp) - tgt).abs().mean().item()
        l1_untrained = (untrained(inp) - tgt).abs().mean().item()
    assert l1_untrained > l1_crossfade
    assert l1_trained < 0.8 * l1_crossfade, (l1_trained, l1_crossfade)

    log = [r for r in jsonl(run_dir / "metrics.jsonl") if r["kind"] == "train"]
    assert [r["step"] for r in log] == [50, 100, 150]
    assert log[-1]["loss_g_l1"] < log[0]["loss_g_l1"]
    assert log[-1]["lr"] == 0.0  # linear decay reaches zero at the last step


# --- run directory, validation, samples -----------------------------------------------------------
def test_run_directory_contents(strips, tmp_path, capsys):
    run_dir = tmp_path / "run"
    run("--data", strips, "--run-dir", run_dir, *SMALL, "--batch-size", 2, "--steps", 4,
        "--val-fraction", 0.25, "--val-every", 2, "--sample-every", 2, "--samples", 3,
        "--checkpoint-every", 2, "--keep-every", 2, "--log-every", 1, "--load-size", 36, progress=True)
    out = capsys.readouterr()
    assert "generator unet: 265,255 parameters" in out.out
    assert "discriminator patchgan: 46,953 parameters" in out.out
    assert "crossfade" in out.out
    assert "strips_s=" in out.err  # progress bar with throughput

    config = json.loads((run_dir / "config.json").read_text())
    assert config["config"]["load_size"] == 36 and config["config"]["inputs"] == [5, 6]
    assert config["config"]["order"] == [1, 2, 3, 4, 5, 0, 6]
    assert config["generator"] == {"arch": "unet", "n_in": 2, "n_out": 5, "ngf": 8, "depth": 5,
                                   "norm": "batch", "dropout": True}
    assert config["tile_hw"] == [32, 32] and config["world_size"] == 1

    records = jsonl(run_dir / "metrics.jsonl")
    assert [r["step"] for r in records if r["kind"] == "train"] == [1, 2, 3, 4]
    val = [r for r in records if r["kind"] == "val"]
    assert [r["step"] for r in val] == [2, 4]
    for key in ("psnr", "ssim", "l1", "psnr_crossfade", "ssim_crossfade", "l1_crossfade"):
        assert np.isfinite(val[-1][key])
    assert all(r["strips_per_s"] > 0 for r in records if r["kind"] == "train")

    picture = Image.open(run_dir / "samples" / "step_000004.png")
    # 3 rows of 32 px (2 px apart); 2 inputs | 5 targets | 5 generated, 6 px gaps
    assert picture.size == (12 * 32 + 2 * 6, 3 * 32 + 2 * 2)
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == \
        ["last.pt", "step_000002.pt", "step_000004.pt"]


def test_trains_directly_from_a_video(lossless_video, tmp_path):
    run("--data", lossless_video, "--run-dir", tmp_path, *SMALL, "--max-side", 48, "--batch-size", 2,
        "--steps", 2, "--val-every", 2, "--sample-every", 2)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["tile_hw"] == [32, 48] and config["val_strips"] > 0
    assert config["config"]["data"] == [str(lossless_video.resolve())]
    assert [r["kind"] for r in jsonl(tmp_path / "metrics.jsonl")] == ["train", "val"]
    assert (tmp_path / "samples" / "step_000002.png").exists()


def test_validation_compares_with_crossfade(strips):
    """validate() reports the crossfade on the same frames; a generator that *is* the crossfade scores
    the same as the baseline."""
    cfg = train.config_from_args(parse("--data", strips, *SMALL, "--val-fraction", 0.25))
    train.resolve_layout(cfg)
    data = train.StripData(cfg, train.DistEnv())
    model = train.Pix2Pix(cfg, torch.device("cpu"))
    weights = metrics.crossfade_weights([0, 6], [1, 2, 3, 4, 5])
    model.generate = lambda inp: metrics.crossfade(inp, weights)
    m = train.validate(model, data, data.pick(data.val, 8))
    assert m["psnr"] == pytest.approx(m["psnr_crossfade"])
    assert m["ssim"] == pytest.approx(m["ssim_crossfade"])


# --- checkpoints and resume -----------------------------------------------------------------------
def _states_equal(a: dict, b: dict) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_states_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_states_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    return a == b


def test_resume_continues_exactly(strips, tmp_path, monkeypatch):
    common = ["--data", strips, *SMALL, "--batch-size", 2, "--steps", 8, "--checkpoint-every", 4,
              "--log-every", 1, "--val-fraction", 0, "--sample-every", 0]
    run(*common, "--run-dir", tmp_path / "straight")

    # the same run, killed during step 6 (after the checkpoint of step 4), then resumed
    run_killed_in_step(6, monkeypatch, *common, "--run-dir", tmp_path / "killed")
    assert train.load_checkpoint(tmp_path / "killed" / "checkpoints" / "last.pt")["step"] == 4
    run("--run-dir", tmp_path / "killed", "--resume")

    a = train.load_checkpoint(tmp_path / "straight" / "checkpoints" / "last.pt")
    b = train.load_checkpoint(tmp_path / "killed" / "checkpoints" / "last.pt")
    assert a["step"] == b["step"] == 8
    for key in ("generator", "discriminator", "optimizer_g", "optimizer_d", "scheduler_g", "rng"):
        assert _states_equal(a[key], b[key]), key
    # records written after the checkpoint by the killed run are dropped: one per step
    steps = [r["step"] for r in jsonl(tmp_path / "killed" / "metrics.jsonl")]
    assert steps == list(range(1, 9))


def test_resume_before_the_first_checkpoint_starts_over(strips, tmp_path, monkeypatch):
    run_killed_in_step(3, monkeypatch, "--data", strips, "--run-dir", tmp_path, *SMALL, "--steps", 4,
                       "--log-every", 1, "--val-fraction", 0, "--sample-every", 0)
    assert not (tmp_path / "checkpoints" / "last.pt").exists()
    assert run("--run-dir", tmp_path, "--resume")["step"] == 4
    assert [r["step"] for r in jsonl(tmp_path / "metrics.jsonl")] == [1, 2, 3, 4]


def test_checkpoint_loads_weights_only_and_rebuilds_generator(strips, tmp_path):
    run("--data", strips, "--run-dir", tmp_path, *SMALL, "--steps", 2, "--val-fraction", 0,
        "--sample-every", 0, "--no-dropout", "--norm", "instance")
    path = tmp_path / "checkpoints" / "last.pt"
    state = torch.load(path, weights_only=True)  # never runs code from the file
    assert state["format"] == "pyframegan-checkpoint" and state["step"] == 2
    assert state["model"]["generator"] == {"arch": "unet", "n_in": 2, "n_out": 5, "ngf": 8, "depth": 5,
                                           "norm": "instance", "dropout": False}
    for key in ("discriminator", "optimizer_g", "optimizer_d", "scheduler_g", "scheduler_d", "rng",
                "config"):
        assert key in state
    g = train.load_generator(path)
    assert not g.training
    assert g(torch.zeros(1, 6, 64, 96)).shape == (1, 15, 64, 96)
    assert not list(path.parent.glob(".*tmp*"))


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_mixed_precision_and_lsgan(strips, tmp_path, amp):
    """The autocast path (on CUDA by default; forced here on the CPU), with loss scaling for fp16."""
    result = run("--data", strips, "--run-dir", tmp_path, *SMALL, "--steps", 2, "--log-every", 2,
                 "--val-fraction", 0, "--sample-every", 0, "--amp", amp, "--gan-mode", "lsgan")
    assert all(np.isfinite(result[k]) for k in ("loss_d", "loss_g_gan", "loss_g_l1"))
    state = train.load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert bool(state["scaler"]) == (amp == "fp16")
    assert run("--run-dir", tmp_path, "--resume", "--steps", 3)["step"] == 3


def test_torn_checkpoint_write_keeps_the_last_good_one(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    train.save_checkpoint({"format": "pyframegan-checkpoint", "step": 1, "w": torch.ones(3)}, path)
    good = path.read_bytes()

    def torn_save(obj, f):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", torn_save)
    with pytest.raises(OSError, match="disk full"):
        train.save_checkpoint({"format": "pyframegan-checkpoint", "step": 2}, path)
    assert path.read_bytes() == good
    assert train.load_checkpoint(path)["step"] == 1
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_resume_after_sigkill(strips, tmp_path):
    """SIGKILL a training process at an arbitrary moment (it checkpoints every step, so likely while
    writing one): the last checkpoint still loads and --resume finishes the run."""
    run_dir = tmp_path / "run"
    script = tmp_path / "train_script.py"
    script.write_text(TRAIN_SCRIPT)
    args = ["--data", strips, "--run-dir", run_dir, *SMALL, "--steps", 30, "--checkpoint-every", 1,
            "--val-fraction", 0, "--sample-every", 0, "--log-every", 1]
    proc = subprocess.Popen([sys.executable, str(script), *map(str, args)], env=_subprocess_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = run_dir / "checkpoints" / "last.pt"
    deadline = time.monotonic() + 60
    try:
        while not last.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert last.exists()
    step = train.load_checkpoint(last)["step"]
    assert 1 <= step < 30
    result = run("--run-dir", run_dir, "--resume")
    assert result["step"] == 30
    assert train.load_checkpoint(last)["step"] == 30
    assert [r["step"] for r in jsonl(run_dir / "metrics.jsonl")] == list(range(1, 31))


def test_resume_keeps_the_config(strips, tmp_path):
    run("--data", strips, "--run-dir", tmp_path, *SMALL, "--steps", 2, "--val-fraction", 0,
        "--sample-every", 0)
    with pytest.raises(ValueError, match="already holds a run"):
        run("--data", strips, "--run-dir", tmp_path, *SMALL, "--steps", 2)
    with pytest.raises(ValueError, match="--ngf 16 differs"):
        run("--run-dir", tmp_path, "--resume", "--ngf", 16)
    assert run("--run-dir", tmp_path, "--resume", "--steps", 3)["step"] == 3  # --steps may grow
    with pytest.raises(FileNotFoundError, match="no run to resume"):
        run("--run-dir", tmp_path / "nothing", "--resume")


# --- distributed ----------------------------------------------------------------------------------
def test_ddp_two_gloo_processes(strips, tmp_path):
    run_dir = tmp_path / "run"
    script = tmp_path / "train_script.py"
    script.write_text(TRAIN_SCRIPT)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           str(script), "--data", str(strips), "--run-dir", str(run_dir), *SMALL, "--batch-size", 2,
           "--steps", 4, "--checkpoint-every", 4, "--log-every", 2, "--val-fraction", 0.25,
           "--val-every", 4, "--sample-every", 4, "--device", "cpu"]
    proc = subprocess.run(list(map(str, cmd)), env=_subprocess_env(), capture_output=True, text=True,
                          timeout=240)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.stdout.count("generator unet") == 1  # rank 0 only
    state = train.load_checkpoint(run_dir / "checkpoints" / "last.pt")
    assert state["step"] == 4 and state["world_size"] == 2
    assert len(state["rng"]) == 2  # the random state of every rank, for --resume
    assert not torch.equal(state["rng"][0]["crop"], state["rng"][1]["crop"])
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == ["last.pt"]
    records = jsonl(run_dir / "metrics.jsonl")
    assert [(r["kind"], r["step"]) for r in records] == [("train", 2), ("train", 4), ("val", 4)]
    assert json.loads((run_dir / "config.json").read_text())["world_size"] == 2


def test_flow_supervision_census_and_init_from(strips, tmp_path):
    """The flow generator with every loss on, synthetic windows with exact flows added to each
    batch, started from a 2-level run's checkpoint with a third flow level added."""
    base = ["--data", strips, "--arch", "flow", "--size", 32, "--ndf", 8, "--batch-size", 2,
            "--val-every", 0, "--sample-every", 0, "--log-every", 1, "--workers", 0]
    run(*base, "--steps", 1, "--run-dir", tmp_path / "two")
    run(*base, "--steps", 2, "--run-dir", tmp_path / "three", "--flow-levels", 3, "--displacements", "3,2,1",
        "--init-from", tmp_path / "two" / "checkpoints" / "last.pt", "--synthetic", 2,
        "--synthetic-shift", 6, "--lambda-flow", 0.1, "--frame-loss", "charbonnier", "--lambda-census", 0.5)
    logged = [r for r in jsonl(tmp_path / "three" / "metrics.jsonl") if r["kind"] == "train"]
    assert len(logged) == 2
    for record in logged:
        for key in ("loss_g_l1", "loss_g_census", "loss_g_flow_epe", "loss_g_flow_t_epe"):
            assert np.isfinite(record[key]) and record[key] > 0, key
    g = train.load_generator(tmp_path / "three" / "checkpoints" / "last.pt")
    assert g.config["flow_levels"] == 3 and g.config["displacements"] == [3, 2, 1]


def test_hybrid_pseudo_labels_metric_loss_and_warmup(strips, tmp_path):
    """The hybrid generator trains with its pseudo-label loss, the per-frame PSNR loss and a warm-up;
    its validation also reports its untrained self (DIS), which it starts exactly at."""
    run("--data", strips, "--arch", "hybrid", "--hybrid-ngf", 8, "--size", 32, "--ndf", 8, "--batch-size", 2,
        "--steps", 2, "--warmup-steps", 2, "--lambda-flow", 0.5, "--frame-loss", "psnr", "--val-every", 2,
        "--sample-every", 0, "--log-every", 1, "--workers", 0, "--run-dir", tmp_path / "run")
    records = jsonl(tmp_path / "run" / "metrics.jsonl")
    logged = [r for r in records if r["kind"] == "train"]
    assert len(logged) == 2 and all(np.isfinite(r["loss_g_flow_pseudo"]) and r["loss_g_l1"] < 0 for r in logged)
    val = [r for r in records if r["kind"] == "val"][-1]
    assert {"psnr_dis", "ssim_dis"} <= set(val) and val["psnr_dis"] > val["psnr_crossfade"] - 3
    g = train.load_generator(tmp_path / "run" / "checkpoints" / "last.pt")
    assert g.config["arch"] == "hybrid" and g.config["ngf"] == 8


# --- bad input ------------------------------------------------------------------------------------
def _write(path: Path, width: int, height: int = 32) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((height, width, 3), np.uint8)).save(path)
    return path


@pytest.mark.parametrize("extra, message", [
    (["--size", "48"], r"--size 48 is not a multiple of 32 \(2\^depth, --depth 5\)"),
    (["--size", "48", "--arch", "flow"], r"--size 48 is not a multiple of 32 \(the flow generator's multiple\)"),
    (["--size", "64", "--depth", "5", "--load-size", "48"], "--size 64 is larger than --load-size 48"),
    (["--size", "64", "--depth", "5"], "--size 64 is larger than the 32x32 tiles"),
    (["--inputs", "5,7"], r"--inputs \[7\] outside the 7 tiles"),
    (["--inputs", "4,5"], r"tiles \[4\] are both --inputs and --targets"),
    (["--batch-size", "64"], "too few for --batch-size 64"),
    (["--order", "0,1,2"], "--order has 3 times for 7 frames"),
    (["--lambda-flow", "1"], "--lambda-flow needs --arch hybrid .pseudo-labels., or --arch flow and --synthetic K > 0"),
    (["--arch", "hybrid", "--synthetic", "2"], "--arch hybrid learns from real windows: drop --synthetic"),
    (["--arch", "hybrid", "--hybrid-ngf", "2"], r"--hybrid-ngf must be in \[4, 256\], got 2"),
    (["--warmup-steps", "-1"], "--warmup-steps must be between 0 and --steps"),
    (["--synthetic", "2", "--frames", "5", "--size", "32"], "--synthetic renders seed-layout windows"),
    (["--init-from", "nothing.pt"], "--init-from nothing.pt: no such file"),
    (["--arch", "flow", "--displacements", "3,2,1"], r"one window 1..8 per flow level \(2\), got \[3, 2, 1\]"),
    (["--arch", "flow", "--displacements", "3,0"], r"one window 1..8 per flow level"),
    (["--frames", "99999999999"], "a strip has at most 64 frames, got 99999999999"),  # was a MemoryError
    (["--tile-size", "100000"], r"--tile-size: strips of 7 tiles of 100000x100000 .* over the memory budget"),
])
def test_bad_options_fail_before_training(strips, tmp_path, extra, message):
    with pytest.raises(ValueError, match=message):
        run("--data", strips, "--run-dir", tmp_path / "run", "--size", 32, "--depth", 5, "--workers", 0,
            *extra)
    assert not (tmp_path / "run").exists()


def test_bad_data_fails_before_training(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    odd = _write(tmp_path / "odd" / "a.png", width=7 * 32 + 3)
    truncated = _write(tmp_path / "trunc" / "b.png", width=7 * 32)
    truncated.write_bytes(truncated.read_bytes()[:60])
    cases = [([tmp_path / "missing"], FileNotFoundError, "missing"), ([empty], ValueError, "empty"),
             ([odd], ValueError, "a.png"), ([truncated.parent], ValueError, "b.png")]
    for data, error, name in cases:
        with pytest.raises(error, match=name):
            run("--data", *data, "--run-dir", tmp_path / "run", "--size", 32, "--depth", 5)
        assert not (tmp_path / "run").exists()
    with pytest.raises(ValueError, match="no training data"):
        run("--run-dir", tmp_path / "run")


def test_cli_help_documents_every_option_and_reports_errors(tmp_path, capsys):
    cli = pytest.importorskip("pyframegan.cli")
    try:
        parser = cli.build_parser()
    except ImportError as exc:  # another subcommand's module is not there yet
        pytest.skip(f"pyframegan CLI incomplete: {exc}")
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["train"]
    formatter = sub._get_formatter()
    text = " ".join(sub.format_help().split())
    for action in sub._actions:
        if action.option_strings and action.dest not in ("help", "resume"):
            assert action.option_strings[0] in text
            assert "default" in formatter._get_help_string(action), action.option_strings  # says its default
    assert "(default: 0.0002)" in text and "(default: 100.0)" in text and "(default: vanilla)" in text
    assert cli.main(["train", "--data", str(tmp_path / "nowhere")]) == 2
    assert "pyframegan train: error:" in capsys.readouterr().err


# --- metrics --------------------------------------------------------------------------------------
def test_psnr():
    x = torch.zeros(2, 3, 8, 8)
    y = x.clone()
    y[1] += 0.1
    p = metrics.psnr(x, y)
    assert p[0] == pytest.approx(100.0) and p[1] == pytest.approx(20.0, abs=1e-4)
    assert metrics.psnr(x, y * 2, data_range=2.0)[1] == pytest.approx(20.0, abs=1e-4)


def test_ssim():
    torch.manual_seed(0)
    x = torch.rand(2, 6, 32, 32)
    assert metrics.ssim(x, x) == pytest.approx(torch.ones(2), abs=1e-5)
    noisy = [metrics.ssim(x, (x + s * torch.randn_like(x)).clamp(0, 1)).mean().item() for s in (0.05, 0.2)]
    assert 1 > noisy[0] > noisy[1] > 0
    # constant images: only the luminance term remains, (2ab + C1) / (a^2 + b^2 + C1)
    a, b, c1 = 0.3, 0.5, 0.01 ** 2
    s = metrics.ssim(torch.full((1, 3, 16, 16), a), torch.full((1, 3, 16, 16), b))
    assert s.item() == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), rel=1e-4)
    assert metrics.ssim(torch.rand(1, 3, 5, 7), torch.rand(1, 3, 5, 7)).shape == (1,)  # tiny images


def test_crossfade():
    w = metrics.crossfade_weights([0, 6], [1, 2, 3, 4, 5])  # the seed layout's times
    assert torch.allclose(w[:, 1], torch.arange(1, 6) / 6) and torch.allclose(w.sum(1), torch.ones(5))
    w = metrics.crossfade_weights([4, 0, 8], [-1, 2, 6, 9])
    assert w.tolist() == [[0, 1, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0, 1]]
    a, b = torch.full((1, 3, 4, 4), -1.0), torch.full((1, 3, 4, 4), 1.0)
    out = metrics.crossfade(torch.cat([a, b], 1), metrics.crossfade_weights([0, 4], [1, 2]))
    assert torch.allclose(out[:, :3], torch.full_like(a, -0.5))
    assert torch.allclose(out[:, 3:], torch.zeros_like(a))


def test_ctrl_c_ends_training_with_one_line(strips, tmp_path, monkeypatch, capsys):
    """Ctrl-C during `pyframegan train`: one line on stderr, status 130, no traceback; the run resumes."""
    from pyframegan import cli

    def interrupted(self, *args):
        raise KeyboardInterrupt

    monkeypatch.setattr(train.Pix2Pix, "step", interrupted)
    argv = ["train", "--data", str(strips), "--run-dir", str(tmp_path / "run"), *map(str, SMALL), "--steps", "2",
            "--workers", "0"]
    assert cli.main(argv) == 130
    err = capsys.readouterr().err  # the progress bar, then one line
    assert err.splitlines()[-1] == "pyframegan train: interrupted" and "Traceback" not in err
