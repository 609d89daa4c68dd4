"""The Python inference pipeline: pack_pairs -> exported generator -> unpack_frames."""
import numpy as np
import pytest
import torch

import pyframegan
from pyframegan import export
from pyframegan.engine import Interpolator
from pyframegan.models import build_generator
from pyframegan.reference import pack_pairs_ref, unpack_frames_ref


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    torch.manual_seed(0)
    g = build_generator({"arch": "unet", "n_in": 2, "n_out": 5, "ngf": 8, "depth": 4, "norm": "batch"})
    path = tmp_path_factory.mktemp("model") / "model.pt"
    export.export_generator(g, path)
    return path, g.eval()


def frames(h, w, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8), rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("h,w", [(16, 16), (37, 51), (9, 8)])
def test_interpolate_matches_the_eager_pipeline(model_path, h, w):
    path, g = model_path
    a, b = frames(h, w, h * w)
    out = pyframegan.interpolate(a, b, model=path, device="cpu")
    assert len(out) == 5 and all(f.shape == (h, w, 3) and f.dtype == np.uint8 for f in out)
    with torch.no_grad():
        x = pack_pairs_ref(torch.from_numpy(np.stack([a, b]))[None], g.multiple)
        want = unpack_frames_ref(g(x), h, w)[0].numpy()
    diff = np.abs(np.stack(out).astype(int) - want.astype(int))
    assert diff.max() <= 1 and (diff == 0).mean() > 0.999  # rounding ties only


def test_batch_equals_single_calls_and_keeps_order(model_path):
    path, _ = model_path
    engine = Interpolator(path, device="cpu")
    pairs = [frames(16, 24, 1), frames(20, 20, 2), frames(16, 24, 3), frames(16, 24, 4)]
    got = engine.batch(pairs, batch_size=2)
    for (a, b), frames_out in zip(pairs, got):
        assert all(np.array_equal(x, y) for x, y in zip(frames_out, engine.interpolate(a, b)))
    assert engine.interpolate(torch.from_numpy(pairs[0][0]), torch.from_numpy(pairs[0][1]))[0].shape == (16, 24, 3)


def test_bad_frames_raise_clear_errors(model_path):
    path, _ = model_path
    engine = Interpolator(path, device="cpu")
    a, b = frames(16, 16, 0)
    cases = [((a.astype(np.float32), b), "uint8"), ((a[..., 0], b[..., 0]), "grayscale"),
             ((np.dstack([a, a[..., :1]]), np.dstack([b, b[..., :1]])), "RGBA"), ((a, frames(16, 17, 0)[1]), "must match"),
             ((a[:4], b[:4]), "at least 8x8"), ((a[:0], b[:0]), "at least 8x8"), (([1, 2], b), "numpy array")]
    for (x, y), match in cases:
        with pytest.raises(ValueError, match=match):
            engine.interpolate(x, y)


def test_missing_default_model_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setattr("pyframegan.engine.DEFAULT_MODEL", tmp_path / "none.pt")
    with pytest.raises(FileNotFoundError, match="no default model"):
        pyframegan.interpolate(*frames(16, 16, 0))
