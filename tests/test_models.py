"""pix2pix models: shapes, parameter counts, structure, initialisation, factory."""
import pytest
import torch
from torch import nn

from pyframegan.models import (PatchDiscriminator, UNetGenerator, build_discriminator, build_generator,
                               count_parameters)


def _meta(build, config):
    """Build on the meta device: parameter counts of the full-size models without allocating them."""
    with torch.device("meta"):
        return build(config)


# --- generator ------------------------------------------------------------------------------------
@pytest.mark.parametrize("n_in, n_out, ngf, depth, hw, norm, dropout", [
    (2, 5, 8, 5, (32, 32), "batch", True),       # the seed's 2 -> 5 frames
    (2, 5, 4, 6, (64, 128), "instance", False),  # non-square, any multiple of 2^depth
    (2, 1, 4, 7, (128, 128), "none", True),      # one middle frame
    (3, 2, 8, 4, (48, 32), "batch", True),
])
def test_generator_shapes(n_in, n_out, ngf, depth, hw, norm, dropout):
    g = build_generator({"n_in": n_in, "n_out": n_out, "ngf": ngf, "depth": depth, "norm": norm,
                         "dropout": dropout})
    y = g(torch.randn(2, 3 * n_in, *hw))
    assert y.shape == (2, 3 * n_out, *hw)
    assert y.abs().max() <= 1.0  # tanh output


def test_generator_rejects_sizes_that_are_not_a_multiple_of_2_to_the_depth():
    g = build_generator({"ngf": 4, "depth": 5})
    with pytest.raises(ValueError, match=r"input 40x32 is not a multiple of 2\^depth = 32"):
        g(torch.randn(1, 6, 40, 32))


@pytest.mark.filterwarnings("ignore")  # torch.jit deprecation notices
def test_models_are_scriptable():
    """TorchScript export rebuilds G from its config and scripts it."""
    g = build_generator({"ngf": 4, "depth": 6, "norm": "instance"}).eval()
    x = torch.randn(1, 6, 64, 128)
    assert torch.equal(torch.jit.script(g)(x), g(x))
    d = build_discriminator({"ndf": 4}).eval()
    y = torch.randn(1, 15, 64, 128)
    assert torch.equal(torch.jit.script(d)(x, y), d(x, y))


@pytest.mark.parametrize("depth, expected", [(7, 41_857_231), (8, 54_442_191)])
def test_generator_parameter_count_matches_pix2pix(depth, expected):
    # unet_128 / unet_256 of pix2pix with 6 -> 15 channels, ngf 64 (the "about 41.9M")
    g = _meta(build_generator, {"n_in": 2, "n_out": 5, "ngf": 64, "depth": depth})
    assert count_parameters(g) == expected


def test_generator_parameter_count_formula():
    """Small config counted by hand: convs (bias only where no BatchNorm follows) + BatchNorm affine."""
    ngf, cin, cout = 4, 6, 15
    ch = [4, 8, 16, 32]  # depth 4
    down = cin * ch[0] * 16 + ch[0] + sum(ch[i - 1] * ch[i] * 16 for i in range(1, 4)) + ch[3] \
        + 2 * (ch[1] + ch[2])
    up = ch[3] * ch[2] * 16 + 2 * ch[2] + sum(2 * ch[i] * ch[i - 1] * 16 + 2 * ch[i - 1] for i in (1, 2)) \
        + 2 * ch[0] * cout * 16 + cout
    g = build_generator({"ngf": ngf, "depth": 4})
    assert count_parameters(g) == down + up


@pytest.mark.parametrize("depth, expected_dropouts", [(5, 0), (7, 2), (8, 3)])
def test_dropout_sits_in_the_inner_decoder_blocks(depth, expected_dropouts):
    g = _meta(build_generator, {"ngf": 64, "depth": depth})
    assert sum(isinstance(m, nn.Dropout) for m in g.modules()) == expected_dropouts
    off = _meta(build_generator, {"ngf": 64, "depth": depth, "dropout": False})
    assert not any(isinstance(m, nn.Dropout) for m in off.modules())
    assert count_parameters(off) == count_parameters(g)


def test_norm_choices():
    batch = build_generator({"ngf": 4, "depth": 5, "norm": "batch"})
    inst = build_generator({"ngf": 4, "depth": 5, "norm": "instance"})
    assert any(isinstance(m, nn.BatchNorm2d) for m in batch.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in inst.modules())
    assert any(isinstance(m, nn.InstanceNorm2d) for m in inst.modules())
    with pytest.raises(ValueError, match="norm"):
        build_generator({"norm": "group"})


def test_skip_connections_carry_fine_detail():
    """The output at full resolution depends on every input pixel's neighbourhood, not only on the
    bottleneck: perturbing one input pixel changes the output near it the most."""
    torch.manual_seed(0)
    g = build_generator({"ngf": 4, "depth": 5, "norm": "none"}).eval()
    x = torch.randn(1, 6, 32, 32, requires_grad=True)
    g(x)[0, :, 5, 20].sum().backward()
    grad = x.grad.abs().sum(1)[0]
    y, xx = divmod(int(grad.argmax()), 32)
    assert abs(y - 5) <= 2 and abs(xx - 20) <= 2


# --- discriminator --------------------------------------------------------------------------------
@pytest.mark.parametrize("n_in, n_out, ndf, n_layers, size", [(2, 5, 8, 3, 64), (2, 5, 4, 3, 128),
                                                             (2, 1, 4, 2, 32), (3, 3, 4, 4, 64)])
def test_discriminator_shapes(n_in, n_out, ndf, n_layers, size):
    d = build_discriminator({"n_in": n_in, "n_out": n_out, "ndf": ndf, "n_layers": n_layers})
    out = d(torch.randn(2, 3 * n_in, size, size), torch.randn(2, 3 * n_out, size, size))
    side = d.output_size(size)
    assert out.shape == (2, 1, side, side)


def test_discriminator_parameter_count():
    d = _meta(build_discriminator, {"n_in": 2, "n_out": 5, "ndf": 64, "n_layers": 3})
    # C64 (21 input channels, bias) - C128 - C256 - C512 (no bias, BatchNorm) - 1 (bias)
    expected = (21 * 64 * 16 + 64) + (64 * 128 * 16 + 256) + (128 * 256 * 16 + 512) \
        + (256 * 512 * 16 + 1024) + (512 * 16 + 1)
    assert count_parameters(d) == expected == 2_784_065


def test_patchgan_receptive_field_is_70():
    d = build_discriminator({"ndf": 4, "n_layers": 3, "norm": "none"}).eval()
    inp = torch.randn(1, 6, 128, 128, requires_grad=True)
    tgt = torch.randn(1, 15, 128, 128, requires_grad=True)
    out = d(inp, tgt)
    out[0, 0, out.shape[-2] // 2, out.shape[-1] // 2].backward()
    for x in (inp, tgt):
        seen = x.grad.abs().sum((0, 1)) > 0
        rows, cols = seen.any(1).nonzero(), seen.any(0).nonzero()
        assert int(rows.max() - rows.min() + 1) == 70
        assert int(cols.max() - cols.min() + 1) == 70


# --- initialisation and factory -------------------------------------------------------------------
def test_weights_initialised_like_pix2pix():
    torch.manual_seed(0)
    g = build_generator({"ngf": 32, "depth": 6})
    convs = [m for m in g.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    weights = torch.cat([m.weight.flatten() for m in convs])
    assert abs(weights.mean().item()) < 1e-3
    assert weights.std().item() == pytest.approx(0.02, rel=0.02)
    assert all(m.bias is None or not m.bias.any() for m in convs)
    bn = torch.cat([m.weight for m in g.modules() if isinstance(m, nn.BatchNorm2d)])
    assert bn.mean().item() == pytest.approx(1.0, abs=0.01) and bn.std().item() == pytest.approx(0.02, rel=0.2)


def test_factory_config_round_trip():
    g = build_generator({"arch": "unet", "n_in": 2, "n_out": 3, "ngf": 4, "depth": 5, "norm": "instance",
                         "dropout": False})
    assert isinstance(g, UNetGenerator)
    assert g.config == {"arch": "unet", "n_in": 2, "n_out": 3, "ngf": 4, "depth": 5, "norm": "instance",
                        "dropout": False}
    rebuilt = build_generator(g.config, init=False)
    rebuilt.load_state_dict(g.state_dict())  # same structure
    x = torch.randn(1, 6, 32, 32)
    assert torch.equal(rebuilt.eval()(x), g.eval()(x))
    d = build_discriminator({"ndf": 4})
    assert isinstance(d, PatchDiscriminator) and d.config["arch"] == "patchgan"
    assert build_discriminator(d.config).config == d.config


def test_factory_rejects_bad_configs():
    with pytest.raises(ValueError, match="unknown generator architecture 'resnet'"):
        build_generator({"arch": "resnet"})
    with pytest.raises(ValueError, match="bad generator config"):
        build_generator({"arch": "unet", "bogus": 1})
    with pytest.raises(ValueError, match="unknown discriminator"):
        build_discriminator({"arch": "pixel"})


def test_residual_generator_starts_as_the_crossfade_and_learns_corrections():
    torch.manual_seed(0)
    g = build_generator({"arch": "unet", "n_in": 2, "n_out": 3, "ngf": 8, "depth": 4, "residual": True,
                         "times": [0.25, 0.5, 0.75]})
    x = torch.rand(2, 6, 32, 48) * 2 - 1
    want = torch.cat([(1 - t) * x[:, :3] + t * x[:, 3:] for t in (0.25, 0.5, 0.75)], 1)
    torch.testing.assert_close(g(x), want)  # zero-initialised head: exactly the crossfade
    opt = torch.optim.Adam(g.parameters(), 1e-2)
    target = want.flip(-1)  # something the crossfade is not
    start = (g(x) - target).abs().mean().item()
    for _ in range(30):
        opt.zero_grad()
        (g(x) - target).abs().mean().backward()
        opt.step()
    assert (g(x) - target).abs().mean().item() < 0.8 * start
    scripted = torch.jit.script(g.eval())
    torch.testing.assert_close(scripted(x), g(x))


def test_residual_generator_checks_its_config():
    with pytest.raises(ValueError, match="2 input frames"):
        build_generator({"arch": "unet", "n_in": 3, "n_out": 2, "ngf": 8, "depth": 3, "residual": True})
    with pytest.raises(ValueError, match="one time per output"):
        build_generator({"arch": "unet", "n_in": 2, "n_out": 2, "ngf": 8, "depth": 3, "times": [0.5]})
    default = build_generator({"arch": "unet", "n_in": 2, "n_out": 5, "ngf": 8, "depth": 3, "residual": True})
    assert default.config["times"] == [k / 6 for k in range(1, 6)]
