"""The inference engine: pyframegan.Interpolator over the C++ pyframegan._C.Interpolator.

Its output is checked against the eager Python pipeline (pack_pairs_ref -> nn.Module generator ->
unpack_frames_ref); the C++ side has its own test (csrc/tests/test_engine.cpp, run by ctest).
"""
import threading
import time
import zipfile

import numpy as np
import pytest
import torch

import pyframegan
from pyframegan import _C, export
from pyframegan.engine import Interpolator
from pyframegan.models import build_generator
from pyframegan.reference import pack_pairs_ref, unpack_frames_ref
from devices import CUDA


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """An exported U-Net (n_in 2, n_out 5, multiple 16) and the eager generator it was made from.
    PyTorch's default initialisation (init=False): outputs vary from pixel to pixel, unlike pix2pix's N(0, 0.02)."""
    torch.manual_seed(0)
    g = build_generator({"arch": "unet", "n_in": 2, "n_out": 5, "ngf": 8, "depth": 4, "norm": "batch"}, init=False)
    path = tmp_path_factory.mktemp("model") / "model.pt"
    export.export_generator(g, path)
    return path, g.eval()


def frames(h, w, seed):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8), rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def batch_of(h, w, n, seed):
    pairs = [frames(h, w, seed + i) for i in range(n)]
    return (torch.from_numpy(np.stack([a for a, _ in pairs])), torch.from_numpy(np.stack([b for _, b in pairs])))


def eager(g, a, b):
    """The eager Python pipeline: uint8 [B, H, W, 3] pairs -> uint8 [B, n_out, H, W, 3]."""
    with torch.no_grad():
        x = pack_pairs_ref(torch.stack([a, b], 1), g.multiple)
        return unpack_frames_ref(g(x), a.shape[1], a.shape[2])


def assert_rounding_ties_only(got, want):
    diff = (torch.as_tensor(np.asarray(got)).int() - torch.as_tensor(np.asarray(want)).int()).abs()
    assert diff.max() <= 1 and (diff == 0).float().mean() > 0.999


# --- results ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("h,w", [(16, 16), (37, 51), (9, 8)])
def test_interpolate_matches_the_eager_pipeline(model_path, h, w):
    path, g = model_path
    a, b = frames(h, w, h * w)
    out = pyframegan.interpolate(a, b, model=path, device="cpu")
    assert len(out) == 5 and all(f.shape == (h, w, 3) and f.dtype == np.uint8 for f in out)
    want = eager(g, torch.from_numpy(a)[None], torch.from_numpy(b)[None])[0]
    assert_rounding_ties_only(np.stack(out), want)
    assert want.float().std() > 4  # the model's output is not a flat grey: the comparison means something


def test_the_compute_runs_in_cpp(model_path):
    path, _ = model_path
    engine = Interpolator(path, device="cpu")
    assert isinstance(engine._engine, _C.Interpolator)
    assert (engine.n_out, engine.device, engine.dtype) == (5, torch.device("cpu"), torch.float32)
    assert engine.meta["multiple"] == 16 and engine.meta["model"]["ngf"] == 8  # pyframegan.json, read in C++


@pytest.mark.parametrize("h,w,n", [(29, 45, 3), (64, 48, 2), (8, 100, 1)])
def test_run_batches_match_the_eager_pipeline(model_path, h, w, n):
    path, g = model_path
    engine = Interpolator(path, device="cpu")
    a, b = batch_of(h, w, n, seed=n)
    out = engine.run(a, b)
    assert out.shape == (n, 5, h, w, 3) and out.dtype == torch.uint8 and out.device.type == "cpu"
    assert_rounding_ties_only(out, eager(g, a, b))
    assert torch.equal(engine.run(a[0], b[0]), out[0])  # one pair [H, W, 3] -> [n_out, H, W, 3]
    # strided views (a channel-last view of an NCHW tensor) give the same frames
    assert torch.equal(engine.run(a.permute(0, 3, 1, 2).contiguous().permute(0, 2, 3, 1), b), out)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_reduced_precision_on_cpu_stays_close(model_path, dtype):
    path, g = model_path
    engine = Interpolator(path, device="cpu", dtype=dtype)
    assert engine.dtype == dtype
    a, b = batch_of(40, 24, 2, seed=7)
    diff = (engine.run(a, b).int() - eager(g, a, b).int()).abs().float()
    assert diff.mean() < 1.0 and diff.max() <= 16  # bfloat16 keeps 8 bits of mantissa: a level or two


def test_batch_equals_single_calls_and_keeps_order(model_path):
    path, _ = model_path
    engine = Interpolator(path, device="cpu")
    pairs = [frames(16, 24, 1), frames(20, 20, 2), frames(16, 24, 3), frames(16, 24, 4)]
    got = engine.batch(pairs, batch_size=2)
    for (a, b), frames_out in zip(pairs, got):
        assert all(np.array_equal(x, y) for x, y in zip(frames_out, engine.interpolate(a, b)))
    assert engine.interpolate(torch.from_numpy(pairs[0][0]), torch.from_numpy(pairs[0][1]))[0].shape == (16, 24, 3)



def test_a_pair_of_identical_frames_gives_the_frame_back(model_path):
    """A still pair (a == b) gives a back at every time whatever the model would make of it (this
    U-Net changes every pixel), batched with moving pairs (which keep the model's frames), and with
    the default model's context frames moving (held frames of animation on twos: up to ~190 levels off
    before); the engine still checks the arguments of an all-still batch."""
    path, g = model_path
    engine = Interpolator(path, device="cpu")
    a, b = batch_of(24, 40, 3, seed=5)
    b[0], b[2] = a[0], a[2]
    assert not (eager(g, a[:1], a[:1]) == a[:1, None]).all()  # what the model alone makes of a still pair
    out = engine.run(a, b)
    assert out.shape == (3, 5, 24, 40, 3)
    assert (out[0] == a[0]).all() and (out[2] == a[2]).all()
    assert_rounding_ties_only(out[1:2], eager(g, a[1:2], b[1:2]))

    from skimage import data
    photo = np.ascontiguousarray(data.astronaut()[100:292:2, 100:356:2])
    default = Interpolator(device="cpu")
    for before, after in ((np.roll(photo, 6, 1), np.roll(photo, -6, 1)), (np.roll(photo, 6, 1),) * 2):
        assert all(np.array_equal(f, photo) for f in default.interpolate(photo, photo, 3, before, after))
    still = torch.from_numpy(photo)[None]
    with pytest.raises(ValueError, match="strictly between"):
        default.run(still, still, [1.5])
    with pytest.raises(ValueError, match="context frames must have the shape"):
        default.run(still, still, None, still[:, :40], still[:, :40])

# --- errors -----------------------------------------------------------------------------------------

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


def test_run_checks_its_tensors_in_cpp(model_path):
    path, _ = model_path
    engine = Interpolator(path, device="cpu")
    a, b = batch_of(16, 16, 2, seed=0)
    with pytest.raises(TypeError, match="frames a must be uint8"):
        engine.run(a.float(), b)
    cases = [((a, b[:, :12]), "must have the same shape"), ((a[:, :7], b[:, :7]), "at least 8x8"),
             ((a[..., :1], b[..., :1]), "must be RGB"), ((a[0, 0], b[0, 0]), r"\[B, H, W, 3\] or \[H, W, 3\]")]
    for (x, y), match in cases:
        with pytest.raises(ValueError, match=match):
            engine.run(x, y)
    assert engine.run(a[:0], b[:0]).shape == (0, 5, 16, 16, 3)


def test_missing_default_model_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setattr("pyframegan.engine.DEFAULT_MODEL", tmp_path / "none.pt")
    with pytest.raises(FileNotFoundError, match="no default model"):
        pyframegan.interpolate(*frames(16, 16, 0))


def write_archive(path, meta_json=None):
    """A zip laid out like a TorchScript archive, holding only (optionally) extra/pyframegan.json."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/version", "3\n")
        if meta_json is not None:
            z.writestr("archive/extra/pyframegan.json", meta_json)
    return path


def test_bad_model_files_raise_clear_errors(tmp_path):
    (tmp_path / "random.pt").write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(FileNotFoundError, match="no model file at .*missing.pt"):
        Interpolator(tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="random.pt is not a pyframegan model \\(not a TorchScript archive\\)"):
        Interpolator(tmp_path / "random.pt")

    plain = torch.jit.script(torch.nn.Conv2d(6, 15, 3, padding=1))  # TorchScript, but no pyframegan.json
    torch.jit.save(plain, str(tmp_path / "plain.pt"))
    with pytest.raises(ValueError, match="not a pyframegan model \\(no pyframegan.json\\).*pyframegan export"):
        Interpolator(tmp_path / "plain.pt")

    meta = '{"format": "pyframegan-generator", "version": %d, "n_in": 2, "n_out": 5, "multiple": 16}'
    with pytest.raises(ValueError, match="format version 2; this pyframegan reads version 1"):
        Interpolator(write_archive(tmp_path / "future.pt", meta % 2))
    with pytest.raises(ValueError, match="the TorchScript model could not be loaded"):
        Interpolator(write_archive(tmp_path / "broken.pt", meta % 1))
    with pytest.raises(ValueError, match="unreadable pyframegan.json"):
        Interpolator(write_archive(tmp_path / "garbled.pt", "{not json"))


def test_bad_devices_and_dtypes_raise_clear_errors(model_path):
    path, _ = model_path
    with pytest.raises(ValueError, match='unknown device "gpu0"'):
        _C.Interpolator(str(path), "gpu0")
    with pytest.raises(ValueError, match='runs on "cpu" or "cuda"'):
        Interpolator(path, device="meta")
    with pytest.raises(TypeError, match="dtype must be float32, float16 or bfloat16"):
        Interpolator(path, device="cpu", dtype=torch.int64)
    with pytest.raises(ValueError, match="dtype must be a torch.dtype or one of float32, .*bf16, got 'int8'"):
        Interpolator(path, device="cpu", dtype="int8")
    assert Interpolator(path, device="cpu", dtype="bf16").dtype == torch.bfloat16  # names are accepted
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            Interpolator(path, device="cuda")


# --- threads ----------------------------------------------------------------------------------------

def test_run_releases_the_gil(model_path):
    """A Python thread keeps running while run() computes: the longest pause it sees is a small
    part of the run (with the GIL held it would stall for the whole run)."""
    path, _ = model_path
    engine = Interpolator(path, device="cpu")
    a, b = batch_of(768, 768, 1, seed=0)
    engine.run(a[:, :64, :64], b[:, :64, :64])  # warm-up
    span = {}

    def work():
        span["start"] = time.perf_counter()
        engine.run(a, b)
        span["end"] = time.perf_counter()

    worker = threading.Thread(target=work)
    stamps = []
    worker.start()
    while worker.is_alive():  # pure Python work: needs the GIL for every iteration
        stamps.append(time.perf_counter())
    worker.join()
    duration = span["end"] - span["start"]
    inside = [span["start"]] + [t for t in stamps if span["start"] < t < span["end"]] + [span["end"]]
    longest_pause = max(later - earlier for earlier, later in zip(inside, inside[1:]))
    assert duration > 0.05, "the run is too short to tell"
    assert longest_pause < 0.5 * duration, f"Python stalled {longest_pause:.3f} s of a {duration:.3f} s run"


def test_concurrent_runs_give_the_same_frames(model_path):
    path, _ = model_path
    engine = Interpolator(path, device="cpu")
    inputs = [batch_of(24 + 8 * i, 32, 2, seed=i) for i in range(4)]
    want = [engine.run(a, b) for a, b in inputs]
    got = [None] * len(inputs)

    def work(i):
        got[i] = engine.run(*inputs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(torch.equal(x, y) for x, y in zip(got, want))


# --- CUDA -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("device", [CUDA])
def test_cuda_matches_the_eager_pipeline(model_path, device):
    path, g = model_path
    engine = Interpolator(path, device=device)
    assert engine.device == torch.device("cuda", torch.cuda.current_device())
    for h, w, n in [(37, 51, 2), (64, 80, 3), (37, 51, 1)]:  # new shapes each call: the staging buffer is reused
        a, b = batch_of(h, w, n, seed=h + n)
        out = engine.run(a, b)
        assert out.device.type == "cpu" and out.is_pinned() and out.shape == (n, 5, h, w, 3)
        assert_rounding_ties_only(out, eager(g, a, b))
        assert torch.equal(engine.run(a.cuda(), b.cuda()), out)  # frames already on the GPU


@pytest.mark.parametrize("device", [CUDA])
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_cuda_reduced_precision_stays_close(model_path, device, dtype):
    path, g = model_path
    engine = Interpolator(path, device=device, dtype=dtype)
    a, b = batch_of(72, 40, 2, seed=3)
    diff = (engine.run(a, b).int() - eager(g, a, b).int()).abs().float()
    assert diff.mean() < 1.0 and diff.max() <= 16


def test_the_smallest_frame_side_is_one_constant():
    """pyframegan.engine.MIN_SIDE (checked in Python before the C++ engine sees a frame, and by
    `pyframegan video`) is the C++ engine's Interpolator::kMinSide."""
    from pyframegan import _ext, engine, video
    assert engine.MIN_SIDE == _ext.load().MIN_SIDE == video.MIN_SIDE


class FourParts(torch.nn.Module):
    """A generator with components(): zero flows, mask 0.5, no residual, as a 4-tuple (as models
    exported before the crossfade fallback joined the components return)."""

    def __init__(self):
        super().__init__()
        self.n_in, self.n_out, self.multiple = 2, 3, 1

    def forward(self, x):
        return 0.5 * (x[:, :3] + x[:, 3:6]).repeat(1, 3, 1, 1)

    def parts(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        b, _, h, w = x.shape
        zero = torch.zeros(b, 3, 2, h, w, dtype=x.dtype)
        return zero, zero, torch.full((b, 3, 1, h, w), 0.5, dtype=x.dtype), torch.zeros(b, 3, 3, h, w, dtype=x.dtype)

    @torch.jit.export
    def components(self, x: torch.Tensor):
        return self.parts(x)


class FiveParts(FourParts):
    """The same with a fifth element: no contract has 5."""

    @torch.jit.export
    def components(self, x: torch.Tensor):
        f0, f1, mask, residual = self.parts(x)
        return f0, f1, mask, residual, mask


def test_components_of_older_models_and_malformed_ones(tmp_path):
    """A 4-tuple (models exported before the fallback) still composes; a tuple of another length is a
    clear error naming what components() must return."""
    a, b = frames(20, 24, 3)
    old = tmp_path / "old.pt"
    export.export_generator(FourParts(), old)
    got = np.stack(Interpolator(old, device="cpu").interpolate(a, b)).astype(int)
    want = (a.astype(int) + b.astype(int)) / 2  # the blend of the two frames, zero flows
    assert got.shape == (3, 20, 24, 3) and np.abs(got - want).max() <= 1
    bad = tmp_path / "bad.pt"
    export.export_generator(FiveParts(), bad)
    with pytest.raises(RuntimeError, match=r"components\(\) must return \(flow_t0, flow_t1, mask, residual\[, fallback, times\]\)"):
        Interpolator(bad, device="cpu").interpolate(a, b)
