"""TorchScript export: same output as the eager generator, metadata, clear errors for other files."""
import numpy as np
import pytest
import torch

from pyframegan import cli, export
from pyframegan.data.strips import write_strip
from pyframegan.models import build_generator
from pyframegan.training import load_generator

CONFIG = {"arch": "unet", "n_in": 2, "n_out": 5, "ngf": 8, "depth": 5, "norm": "batch", "dropout": True}


def trained_like_generator():
    """A small generator with non-trivial batch-norm statistics (as after training)."""
    torch.manual_seed(0)
    g = build_generator(CONFIG)
    for m in g.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return g


def test_exported_model_matches_eager_generator(tmp_path):
    g = trained_like_generator()
    meta = export.export_generator(g, tmp_path / "model.pt", train_config={"lr": 2e-4})
    module, loaded_meta = export.load_model(tmp_path / "model.pt")
    assert loaded_meta == meta
    assert (meta["n_in"], meta["n_out"], meta["multiple"], meta["version"]) == (2, 5, 32, export.FORMAT_VERSION)
    assert meta["model"]["ngf"] == 8 and meta["train"] == {"lr": 2e-4}
    x = torch.rand(2, 6, 64, 96) * 2 - 1
    with torch.no_grad():
        want = g.eval()(x)
        got = module(x)
    assert got.shape == (2, 15, 64, 96)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)
    with torch.no_grad():  # eval mode: dropout off, so repeated calls agree
        assert torch.equal(module(x), got)
    assert not list(tmp_path.glob(".*.tmp"))


def test_export_command_from_a_checkpoint(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "strips").mkdir()
    for i in range(6):
        write_strip(tmp_path / "strips" / f"s_{i:06d}.png", rng.integers(0, 256, (32, 7 * 32, 3), dtype=np.uint8))
    run_dir = tmp_path / "run"
    assert cli.main(["train", "--data", str(tmp_path / "strips"), "--run-dir", str(run_dir), "--size", "32",
                     "--depth", "5", "--ngf", "8", "--ndf", "8", "--steps", "2", "--batch-size", "2",
                     "--val-fraction", "0", "--workers", "0"]) == 0
    ckpt = run_dir / "checkpoints" / "last.pt"
    assert cli.main(["export", str(ckpt), "-o", str(tmp_path / "model.pt")]) == 0
    module, meta = export.load_model(tmp_path / "model.pt")
    assert meta["train"]["steps"] == 2 and meta["multiple"] == 32
    x = torch.rand(1, 6, 32, 64) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(module(x), load_generator(ckpt)(x), atol=1e-5, rtol=0)


def test_files_that_are_not_pyframegan_models_are_rejected(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="no model file"):
        export.load_model(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="not a TorchScript archive"):
        export.load_model(tmp_path / "junk.pt")
    torch.jit.save(torch.jit.script(torch.nn.Identity()), str(tmp_path / "plain.pt"))
    with pytest.raises(ValueError, match="not a pyframegan model"):
        export.load_model(tmp_path / "plain.pt")
    monkeypatch.setattr(export, "FORMAT_VERSION", 99)
    export.export_generator(trained_like_generator(), tmp_path / "future.pt")
    monkeypatch.undo()
    with pytest.raises(ValueError, match="format version 99"):
        export.load_model(tmp_path / "future.pt")
    assert cli.main(["export", str(tmp_path / "nope.pt"), "-o", str(tmp_path / "m.pt")]) == 2  # one-line error
