"""The motion-aware generator (pyframegan/models/flow.py)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pyframegan import export
from pyframegan.engine import Interpolator
from pyframegan.models import build_generator
from pyframegan.models.flow import backward_warp, correlation, unit_channels
from pyframegan.reference import pack_pairs_ref, unpack_frames_ref

TIMES = [k / 6 for k in range(1, 6)]


def flow_model(seed=0, **config):
    torch.manual_seed(seed)
    return build_generator({"arch": "flow", "n_in": 2, "n_out": 5, **config})


@pytest.mark.parametrize("levels", [2, 3, 4])
def test_an_untrained_model_is_the_crossfade(levels):
    x = torch.rand(2, 6, 64, 96) * 2 - 1
    want = torch.cat([(1 - t) * x[:, :3] + t * x[:, 3:] for t in TIMES], 1)
    g = flow_model(flow_levels=levels)
    torch.testing.assert_close(g(x), want, atol=1e-4, rtol=0)
    frames, flow, ft0, ft1 = g.synthesize(x)
    assert torch.equal(frames, g(x))
    fine = 2 if levels == 4 else 1  # [F01; F10] at the finest level's resolution, at least 1/4
    assert flow.shape == (4, 2, 16 * fine, 24 * fine) and ft0.shape == ft1.shape == (10, 2, 16, 24)
    assert len(g.flow) == levels


@pytest.mark.parametrize("levels", [2, 3])
def test_a_new_flow_level_starts_as_the_model_without_it(levels):
    """--init-from a model into one with a finer flow level: the new level's head is zero, same output."""
    old, new = flow_model(1, flow_levels=levels), flow_model(2, flow_levels=levels + 1)
    with torch.no_grad():
        for p in old.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    missing = new.load_state_dict(old.state_dict(), strict=False).missing_keys
    assert missing and all(k.startswith(f"flow.{levels}.") for k in missing)
    x = torch.rand(1, 6, 64, 64) * 2 - 1
    if levels == 2:  # the 1/4 level refines the 1/8 flow resized to 1/4, as the 2-level model used it
        torch.testing.assert_close(new(x), old(x), atol=1e-5, rtol=0)
    else:  # the synthesis sees the 1/4 flow resized to 1/2 and back: bilinear, not the identity
        assert (new(x) - old(x)).abs().mean() < 5e-3


def test_a_model_with_smaller_cost_windows_starts_from_a_wider_one():
    """fit_state_dict crops each level's cost window: exact where the dropped displacements had zero
    weights; back to the wider windows (zero-padded) it is the model it came from."""
    wide = flow_model(1, flow_levels=4, displacements=[3, 3, 3, 2])
    with torch.no_grad():
        for p in wide.parameters():
            p.add_(torch.randn_like(p) * 0.01)
        for level, d in zip(wide.flow, [3, 2, 2, 1]):  # zero weights outside the smaller windows
            w = level.net[0][0].weight
            e = level.d
            cost = w[:, :(2 * e + 1) ** 2].view(w.shape[0], 2 * e + 1, 2 * e + 1, 3, 3)
            keep = torch.zeros_like(cost)
            keep[:, e - d:e + d + 1, e - d:e + d + 1] = 1
            cost.mul_(keep)
    small = flow_model(2, flow_levels=4, displacements=[3, 2, 2, 1])
    small.load_state_dict(small.fit_state_dict(wide.state_dict()))
    assert [level.d for level in small.flow] == [3, 2, 2, 1]
    assert small.flow[3].net[0][0].weight.shape[1] == 9 + 16 + 2
    x = torch.rand(1, 6, 64, 96) * 2 - 1
    torch.testing.assert_close(small(x), wide(x), atol=1e-5, rtol=0)
    back = flow_model(3, flow_levels=4, displacements=[3, 3, 3, 2])
    back.load_state_dict(back.fit_state_dict(small.state_dict()))
    for key, value in wide.state_dict().items():
        torch.testing.assert_close(back.state_dict()[key], value, atol=0, rtol=0)
    with pytest.raises(ValueError, match="one window"):
        flow_model(flow_levels=3, displacements=[3, 2])
    with pytest.raises(ValueError, match="square cost window"):
        small.fit_state_dict({"flow.0.net.0.0.weight": torch.zeros(64, 50, 3, 3)})


def test_unit_channels_is_normalize():
    x = torch.randn(2, 7, 5, 6)
    x[0, :, 1, 2] = 0  # a zero vector stays zero
    torch.testing.assert_close(unit_channels(x), F.normalize(x, dim=1))


def test_correlation_and_warp_against_direct_formulas():
    f0, f1, d = torch.rand(2, 5, 9, 11), torch.rand(2, 5, 9, 11), 2
    padded = F.pad(f1, [d, d, d, d])
    want = torch.cat([(f0 * padded[:, :, dy:dy + 9, dx:dx + 11]).sum(1, keepdim=True)
                      for dy in range(2 * d + 1) for dx in range(2 * d + 1)], 1)
    torch.testing.assert_close(correlation(f0, f1, d), want)
    image = torch.rand(1, 3, 10, 12)
    flow = torch.zeros(1, 2, 10, 12)
    flow[:, 0] = 2.0  # sample two pixels to the right; borders replicated
    want = torch.cat([image[..., 2:], image[..., -1:].expand(1, 3, 10, 2)], 3)
    torch.testing.assert_close(backward_warp(image, flow), want, atol=1e-5, rtol=0)


def test_scripted_exported_and_engine_outputs_match_eager(tmp_path):
    g = flow_model(1).eval()
    with torch.no_grad():  # some non-zero heads, so warps and masks are exercised
        for p in g.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    path = tmp_path / "flow.pt"
    meta = export.export_generator(g, path)
    assert meta["multiple"] == 32 and meta["n_out"] == 5
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 256, (45, 70, 3), dtype=np.uint8) for _ in range(2))
    engine = Interpolator(path, device="cpu")
    assert engine.fused_post_op  # components() + the fused warp_blend, not forward + unpack_frames
    got = np.stack(engine.interpolate(a, b))
    with torch.no_grad():
        x = pack_pairs_ref(torch.from_numpy(np.stack([a, b]))[None], 32)
        want = unpack_frames_ref(g(x), 45, 70)[0].numpy()
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1


@pytest.mark.parametrize("levels", [3, 4])
def test_components_compose_to_the_forward_output(levels):
    g = flow_model(3, flow_levels=levels).eval()
    with torch.no_grad():
        for p in g.parameters():
            p.add_(torch.randn_like(p) * 0.01)
        x = torch.rand(2, 6, 64, 96) * 2 - 1
        ft0, ft1, mask, residual, fallback, times = g.components(x)
        assert fallback is None and times is None  # the flow generator has no crossfade fallback
        assert ft0.shape == ft1.shape == (2, 5, 2, 64, 96) and mask.shape == (2, 5, 1, 64, 96)
        frames = torch.cat([mask[:, k] * backward_warp(x[:, :3], ft0[:, k])
                            + (1 - mask[:, k]) * backward_warp(x[:, 3:], ft1[:, k]) + residual[:, k]
                            for k in range(5)], 1)
        torch.testing.assert_close(frames.clamp(-1, 1), g(x), atol=1e-5, rtol=0)


def test_it_learns_a_translation():
    """A few steps on a texture moving 3 px per frame: better than the crossfade it starts from."""
    torch.manual_seed(0)
    texture = F.avg_pool2d(torch.rand(1, 3, 96, 160), 3, 1, 1) * 2 - 1
    frames = [texture[..., :, 3 * k:3 * k + 64] for k in range(7)]
    x = torch.cat([frames[0], frames[6]], 1)
    target = torch.cat(frames[1:6], 1)
    g = flow_model()
    opt = torch.optim.Adam(g.parameters(), 1e-3)
    start = (g(x) - target).abs().mean().item()
    for _ in range(40):
        opt.zero_grad()
        (g(x) - target).abs().mean().backward()
        opt.step()
    assert (g(x) - target).abs().mean().item() < 0.8 * start


def test_bad_configs_and_inputs():
    with pytest.raises(ValueError, match="2 frames"):
        build_generator({"arch": "flow", "n_in": 3, "n_out": 5})
    with pytest.raises(ValueError, match="flow_levels must be 2"):
        build_generator({"arch": "flow", "n_out": 5, "flow_levels": 5})
    with pytest.raises(ValueError, match="one time in"):
        build_generator({"arch": "flow", "n_out": 2, "times": [0.5, 1.0]})
    with pytest.raises(ValueError, match="multiple of 32"):
        flow_model()(torch.zeros(1, 6, 40, 64))


def perturbed_flow_model(seed=4, levels=3):
    g = flow_model(seed, flow_levels=levels).eval()
    with torch.no_grad():
        for p in g.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    return g


def test_components_at_other_times_interpolate_the_trained_ones():
    """At the trained times components_at is components; between them the residual and the flow
    corrections (beyond the linear motion) are linear in t, and zero at t = 0 and 1."""
    g = perturbed_flow_model()
    x = torch.rand(1, 6, 64, 96) * 2 - 1
    with torch.no_grad():
        ft0, ft1, mask, residual = g.components(x)[:4]
        for got, want in zip(g.components_at(x, torch.tensor(TIMES))[:4], (ft0, ft1, mask, residual)):
            torch.testing.assert_close(got, want, atol=1e-6, rtol=0)
        f01, f10 = g.flows(x)
        times = torch.tensor([TIMES[0] / 2, (TIMES[1] + TIMES[2]) / 2, (TIMES[4] + 1) / 2])
        at0, at1, _, res = g.components_at(x, times)[:4]

        def correction(flow_t, t, k):  # F_t0 minus the linear motion of (F01, F10) at time t
            return flow_t[0, k] - (-(1 - t) * t * f01[0] + t * t * f10[0])

        assert torch.equal(res[0, 0], residual[0, 0] / 2)
        torch.testing.assert_close(res[0, 1], (residual[0, 1] + residual[0, 2]) / 2, atol=1e-6, rtol=0)
        torch.testing.assert_close(res[0, 2], residual[0, 4] / 2, atol=1e-6, rtol=0)
        torch.testing.assert_close(correction(at0, float(times[1]), 1),
                                   (correction(ft0, TIMES[1], 1) + correction(ft0, TIMES[2], 2)) / 2,
                                   atol=1e-4, rtol=0)
        assert at1.shape == (1, 3, 2, 64, 96)
    with pytest.raises(Exception, match="times must be"):
        g.components_at(x, torch.tensor([0.5, 1.0]))


def test_the_engine_makes_any_number_of_frames(tmp_path):
    g = perturbed_flow_model()
    path = tmp_path / "flow.pt"
    export.export_generator(g, path)
    engine = Interpolator(path, device="cpu")
    assert engine.any_times
    rng = np.random.default_rng(1)
    a, b = (rng.integers(0, 256, (45, 70, 3), dtype=np.uint8) for _ in range(2))
    three = engine.interpolate(a, b, n=3)
    assert len(three) == 3 and all(f.shape == a.shape and f.dtype == np.uint8 for f in three)
    with torch.no_grad():
        x = pack_pairs_ref(torch.from_numpy(np.stack([a, b]))[None], 32)
        ft0, ft1, mask, residual = g.components_at(x, torch.tensor([0.25, 0.5, 0.75]))[:4]
        frames = torch.cat([mask[:, k] * backward_warp(x[:, :3], ft0[:, k])
                            + (1 - mask[:, k]) * backward_warp(x[:, 3:], ft1[:, k]) + residual[:, k]
                            for k in range(3)], 1).clamp(-1, 1)
        want = unpack_frames_ref(frames, 45, 70)[0].numpy()
    assert np.abs(np.stack(three).astype(int) - want.astype(int)).max() <= 1
    assert np.array_equal(np.stack(engine.interpolate(a, b, n=5)), np.stack(engine.interpolate(a, b)))
    assert len(engine.interpolate(a, b, n=1)) == 1 and len(engine.batch([(a, b)] * 2, n=7)[1]) == 7
    for bad in (0, -2, 2.5, True):
        with pytest.raises(ValueError, match="n must be a positive number"):
            engine.interpolate(a, b, n=bad)
    with pytest.raises(ValueError, match="strictly between 0"):
        engine.run(torch.from_numpy(a)[None], torch.from_numpy(b)[None], [0.5, 1.5])
