"""The motion-aware generator (pyframegan/models/flow.py)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pyframegan import export
from pyframegan.engine import Interpolator
from pyframegan.models import build_generator
from pyframegan.models.flow import backward_warp, correlation
from pyframegan.reference import pack_pairs_ref, unpack_frames_ref

TIMES = [k / 6 for k in range(1, 6)]


def flow_model(seed=0, **config):
    torch.manual_seed(seed)
    return build_generator({"arch": "flow", "n_in": 2, "n_out": 5, **config})


@pytest.mark.parametrize("levels", [2, 3])
def test_an_untrained_model_is_the_crossfade(levels):
    x = torch.rand(2, 6, 64, 96) * 2 - 1
    want = torch.cat([(1 - t) * x[:, :3] + t * x[:, 3:] for t in TIMES], 1)
    g = flow_model(flow_levels=levels)
    torch.testing.assert_close(g(x), want, atol=1e-4, rtol=0)
    frames, flow, ft0, ft1 = g.synthesize(x)
    assert torch.equal(frames, g(x))
    assert flow.shape == (4, 2, 16, 24) and ft0.shape == ft1.shape == (10, 2, 16, 24)
    assert len(g.flow) == levels


def test_a_third_flow_level_starts_as_the_two_level_model():
    """--init-from a 2-level model into a 3-level one: the new level's head is zero, same output."""
    two, three = flow_model(1, flow_levels=2), flow_model(2, flow_levels=3)
    with torch.no_grad():
        for p in two.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    missing = three.load_state_dict(two.state_dict(), strict=False).missing_keys
    assert missing and all(k.startswith("flow.2.") for k in missing)
    x = torch.rand(1, 6, 64, 64) * 2 - 1
    torch.testing.assert_close(three(x), two(x), atol=1e-5, rtol=0)


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


def test_components_compose_to_the_forward_output():
    g = flow_model(3, flow_levels=3).eval()
    with torch.no_grad():
        for p in g.parameters():
            p.add_(torch.randn_like(p) * 0.01)
        x = torch.rand(2, 6, 64, 96) * 2 - 1
        ft0, ft1, mask, residual = g.components(x)
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
        build_generator({"arch": "flow", "n_out": 5, "flow_levels": 4})
    with pytest.raises(ValueError, match="one time in"):
        build_generator({"arch": "flow", "n_out": 2, "times": [0.5, 1.0]})
    with pytest.raises(ValueError, match="multiple of 32"):
        flow_model()(torch.zeros(1, 6, 40, 64))
