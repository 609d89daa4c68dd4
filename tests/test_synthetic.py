"""Synthetic motion: the rendered frames, flows and visibility agree with each other.

The checks are independent of the renderer's own flow code: exact pixel shifts for a pure
translation, and warping the rendered inputs with torch's grid_sample (``warp``) to reproduce the
rendered targets where they are marked visible.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from pyframegan.data.strips import seed_layout, split_strip
from pyframegan.data.synthetic import Motion, Surface, SyntheticMotion, _similarity, render_window, warp

H, W = 96, 128


def _texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random colour texture (uint8 [h, w, 3]): a few random sinusoids per channel."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[:h, :w].astype(np.float64)
    image = np.zeros((h, w, 3))
    for c in range(3):
        for _ in range(6):
            fx, fy = rng.uniform(-0.15, 0.15, 2)
            image[..., c] += rng.uniform(10, 30) * np.sin(fx * x + fy * y + rng.uniform(0, 6.3))
    return np.clip(128 + image, 0, 255).astype(np.uint8)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Render on one thread, as a DataLoader worker does (on a busy machine, waking a second
    thread for every small op costs far more than it saves)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    pytest.importorskip("skimage")
    from pyframegan.data.catalogue import load_photo
    return [load_photo(name) for name in ("astronaut", "chelsea", "rocket", "coffee", "brick")]


def _psnr(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> float:
    """PSNR (dB, 0..255) of [N, 3, H, W] images over the pixels where mask [N, H, W] is set."""
    mse = (((a - b) ** 2).mean(1) * mask).sum() / mask.sum()
    return float(10 * torch.log10(255 ** 2 / mse))


def _tiles(item: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(targets [5, 3, H, W], input 0 [1, 3, H, W], input 1 [1, 3, H, W]) as float, from the strip."""
    tiles = [torch.from_numpy(np.ascontiguousarray(t)).permute(2, 0, 1).float()
             for t in split_strip(item["strip"].numpy(), 7)]  # time order 0..6
    return torch.stack(tiles[1:6]), tiles[0][None], tiles[6][None]


# --- a hand-made scene: exact answers -------------------------------------------------------------
def test_pure_translation_exact():
    d = np.array([30.0, -12.0])  # 5 px right and 2 px up per frame: integer shifts, exact pixels
    image = _texture(300, 300)
    center = ((W - 1) / 2, (H - 1) / 2)
    times = np.arange(7) / 6
    place = _similarity(1.0, 0.0, (150.5, 150.5), center)  # integer source coordinates
    bg = Surface(image, Motion(shift=tuple(d)).matrices(times, center) @ place)
    out = render_window([bg], (H, W), 7)
    frames = out["frames"].numpy().astype(int)
    for t in range(7):  # frame t shows frame 0 moved by t * (5, -2)
        dx, dy = 5 * t, -2 * t
        np.testing.assert_array_equal(frames[t][:H + dy, dx:], frames[0][-dy:, :W - dx])
    for k, t in enumerate(range(1, 6)):
        for name, want in (("flow_t0", -d * t / 6), ("flow_t1", d * (6 - t) / 6)):
            flow = out[name][k]
            assert flow.shape == (2, H, W) and flow.dtype == torch.float32
            np.testing.assert_allclose(flow[0].numpy(), want[0], atol=1e-3)
            np.testing.assert_allclose(flow[1].numpy(), want[1], atol=1e-3)
        # visible in input 0 where the point was inside frame 0: x - 5t >= 0, y + 2t <= H - 2
        vis = out["visibility"][k, 0].numpy()
        y, x = np.mgrid[:H, :W]
        px, py = x - 5 * t, y + 2 * t
        inside = (px >= 0) & (px <= W - 2) & (py >= 0) & (py <= H - 2)
        outside = (px < 0) | (py > H - 1)
        assert (vis[inside] == 1).all() and (vis[outside] == 0).all()
    np.testing.assert_allclose(out["flow_01"].numpy(), d[:, None, None] * np.ones((2, H, W)), atol=1e-3)
    np.testing.assert_allclose(out["flow_10"].numpy(), -d[:, None, None] * np.ones((2, H, W)), atol=1e-3)
    np.testing.assert_allclose(out["times"].numpy(), np.arange(1, 6) / 6)


def test_dataset_pure_translation_flow_is_constant(photos):
    ds = SyntheticMotion(photos, size=(H, W), layers=(0, 0), max_rotation=0, max_zoom=0,
                         max_accel=0, max_bend=0, max_shift=40, seed=3)
    for index in range(3):
        item = ds.render(index)
        d = (item["flow_t1"][0] - item["flow_t0"][0])[:, 0, 0]  # the whole shift, input 0 -> 1
        assert 0 < float(d.norm()) <= 40 + 1e-3
        for k, t in enumerate(range(1, 6)):
            for name, want in (("flow_t0", -d * t / 6), ("flow_t1", d * (6 - t) / 6)):
                np.testing.assert_allclose(item[name][k].numpy(), want[:, None, None].expand(2, H, W), atol=2e-3)


# --- random windows: the independent warping check --------------------------------------------------
def test_warping_the_inputs_reproduces_the_targets(photos):
    ds = SyntheticMotion(photos, size=(H, W), max_shift=40, seed=11)
    for index in range(4):
        item = ds.render(index)
        targets, in0, in1 = _tiles(item)
        vis = item["visibility"]
        assert vis.shape == (5, 2, H, W) and vis.min() >= 0 and vis.max() <= 1
        for side, (image, flow) in enumerate(((in0, item["flow_t0"]), (in1, item["flow_t1"]))):
            assert flow.shape == (5, 2, H, W)
            seen = (vis[:, side] > 0.99).float()
            assert seen.mean() > 0.3
            warped = warp(image.expand(5, -1, -1, -1), flow)
            psnr = _psnr(warped, targets, seen)
            assert psnr > 35, (index, side, psnr)
            # the check is sensitive: a flow one pixel off is far worse
            shifted = warp(image.expand(5, -1, -1, -1), flow + 1.0)
            assert _psnr(shifted, targets, seen) < psnr - 6
        # the input pair, too
        seen01 = (item["visibility_inputs"][0:1] > 0.99).float()
        assert _psnr(warp(in1, item["flow_01"][None]), in0, seen01) > 35


def test_occlusions_are_marked():
    """A hard-edged square moving over a static background: the background it covers in the input
    is occluded there (visibility 0, and the warp is wrong there); it is visible elsewhere."""
    center = ((W - 1) / 2, (H - 1) / 2)
    times = np.arange(7) / 6
    bg = Surface(_texture(200, 200, 1), _similarity(1.0, 0.0, (100.0, 100.0), center)[None].repeat(7, 0))
    square = np.zeros((30, 30, 3), np.uint8) + np.array([250, 20, 20], np.uint8)
    mask = np.ones((30, 30), np.float32)
    place = _similarity(1.0, 0.0, (14.5, 14.5), (40.0, 48.0))
    layer = Surface(square, Motion(shift=(48.0, 0.0)).matrices(times, (40.0, 48.0)) @ place, mask)
    out = render_window([bg, layer], (H, W), 7)
    vis0 = out["visibility"][:, 0]
    # at time 3 the square spans x 49.5..79.5; at time 0 it spanned 25.5..55.5. Background pixels
    # at time 3 with x in 27..49 were under the square in frame 0: occluded there.
    assert (vis0[2, 40:56, 28:48] == 0).all()
    assert (vis0[2, 40:56, 85:120] == 1).all()  # background never covered
    assert (vis0[2, 40:56, 55:75] == 1).all()   # the square itself, visible in frame 0
    np.testing.assert_allclose(out["flow_t0"][2, :, 48, 65].numpy(), [-24.0, 0.0], atol=1e-3)
    np.testing.assert_allclose(out["flow_t0"][2, :, 48, 100].numpy(), [0.0, 0.0], atol=1e-3)


# --- the dataset --------------------------------------------------------------------------------------
def test_items_layout_and_determinism(photos):
    ds = SyntheticMotion(photos, size=(H, W), seed=5, length=3)
    item = ds.render(1)
    assert item["strip"].shape == (H, 7 * W, 3) and item["strip"].dtype == torch.uint8
    for key in ("flow_t0", "flow_t1", "visibility"):
        assert item[key].shape == (5, 2, H, W) and item[key].dtype == torch.float32
    assert item["flow_01"].shape == item["flow_10"].shape == (2, H, W)
    assert item["visibility_inputs"].shape == (2, H, W)
    again = SyntheticMotion(photos, size=(H, W), seed=5).render(1)
    for key in item:
        assert torch.equal(item[key], again[key]), key
    other = SyntheticMotion(photos, size=(H, W), seed=6).render(1)
    assert not torch.equal(item["strip"], other["strip"])
    # iteration yields windows 0, 1, 2, ... and stops at length
    items = list(ds)
    assert len(items) == 3 and torch.equal(items[1]["strip"], item["strip"])
    # seed layout: tiles 5 and 6 are the inputs (times 0 and 6)
    order, inputs, targets = seed_layout(7)
    assert (inputs, order[5], order[6]) == ((5, 6), 0, 6)


def test_data_loader_batches(photos):
    ds = SyntheticMotion(photos, size=(64, 64), seed=0, length=4)
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch["strip"].shape == (2, 64, 7 * 64, 3) and batch["flow_t0"].shape == (2, 5, 2, 64, 64)
    strips = SyntheticMotion(photos, size=(64, 64), seed=0, length=4, strips_only=True)
    first = next(iter(strips))
    assert isinstance(first, torch.Tensor) and torch.equal(first, batch["strip"][0])
    endless = SyntheticMotion(photos, size=(64, 64), seed=0)
    assert len(list(itertools.islice(endless, 2))) == 2
    with pytest.raises(TypeError):
        len(endless)


def test_bad_arguments(photos):
    with pytest.raises(ValueError, match="at least 2"):
        SyntheticMotion(photos[:1])
    with pytest.raises(ValueError, match="layers"):
        SyntheticMotion(photos, layers=(3, 1))
    with pytest.raises(ValueError, match="uint8"):
        SyntheticMotion([np.zeros((10, 10), np.uint8)] * 2)
