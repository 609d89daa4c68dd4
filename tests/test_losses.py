"""Training losses (pyframegan/losses.py) against direct formulas."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pyframegan import losses


def census_reference(x: torch.Tensor, y: torch.Tensor, patch: int = 7) -> float:
    """The census distance written out with numpy loops over pixels' neighbourhoods."""
    def gray(f):
        b, c, h, w = f.shape
        rgb = (f.reshape(b * c // 3, 3, h, w).double().numpy() + 1) * 127.5
        return 0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]
    gx, gy = gray(x), gray(y)
    r = patch // 2
    n, h, w = gx.shape
    values = []
    for i in range(n):
        for yy in range(r, h - r):
            for xx in range(r, w - r):
                px = gx[i, yy - r:yy + r + 1, xx - r:xx + r + 1] - gx[i, yy, xx]
                py = gy[i, yy - r:yy + r + 1, xx - r:xx + r + 1] - gy[i, yy, xx]
                d = px / np.sqrt(0.81 + px ** 2) - py / np.sqrt(0.81 + py ** 2)
                values.append((d ** 2 / (0.1 + d ** 2)).sum())
    return float(np.mean(values))


def test_census_matches_the_direct_formula_and_ignores_brightness():
    torch.manual_seed(0)
    x, y = torch.rand(2, 6, 11, 13) * 2 - 1, torch.rand(2, 6, 11, 13) * 2 - 1
    assert losses.census(x, y).item() == pytest.approx(census_reference(x, y), rel=1e-5)
    assert losses.census(x, y, patch=3).item() == pytest.approx(census_reference(x, y, 3), rel=1e-5)
    assert losses.census(x, x).item() == 0.0
    assert losses.census(x.clamp(-1, 0.8) + 0.2, x.clamp(-1, 0.8)).item() < 1e-9  # a brightness offset
    x.requires_grad_(True)
    losses.census(x, y).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="larger than 6x6"):
        losses.census(x[..., :6, :6], y[..., :6, :6])


def test_charbonnier():
    x, y = torch.tensor([0.0, 3.0]), torch.tensor([4.0, 3.0])
    assert losses.charbonnier(x, y, eps=1.0).item() == pytest.approx((np.sqrt(17) + 1) / 2)


def test_flow_error_at_a_lower_resolution():
    true = torch.zeros(1, 2, 8, 8)
    true[:, 0] = 4.0  # 4 px right at full resolution
    visible = torch.ones(1, 1, 8, 8)
    exact = torch.full((1, 2, 4, 4), 0.0)
    exact[:, 0] = 2.0  # the same motion in pixels of the half-resolution flow
    assert losses.flow_error(exact, true, visible).item() == pytest.approx(0.0, abs=1e-2)
    off = exact.clone()
    off[:, 1] = 1.5  # 1.5 half-resolution px = 3 px off
    assert losses.flow_error(off, true, visible).item() == pytest.approx(3.0, rel=1e-4)
    # occluded pixels do not count
    bad = exact.clone()
    bad[..., :2] = 100.0
    visible[..., :4] = 0.0
    assert losses.flow_error(bad, true, visible).item() == pytest.approx(0.0, abs=1e-2)
    torch.testing.assert_close(losses.downsample_flow(true, [4, 4]), F.avg_pool2d(true, 2) / 2)
