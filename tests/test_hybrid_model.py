"""The hybrid generator (pyframegan/models/hybrid.py): DIS flow + a U-Net that corrects it."""
import numpy as np
import pytest
import torch

from pyframegan import baselines, export
from pyframegan.engine import Interpolator
from pyframegan.models import build_generator
from pyframegan.models.hybrid import grey_levels, pseudo_label_loss, warp_error
from pyframegan.ops import dis_flow
from pyframegan.reference import pack_pairs_ref, unpack_frames_ref

cv2 = pytest.importorskip("cv2")


def hybrid(seed=0, **config):
    torch.manual_seed(seed)
    return build_generator({"arch": "hybrid", "n_in": 2, "n_out": 5, **config})


def moving_pair(h=72, w=96, shift=(3, 2), seed=0):
    """A smooth random texture and the same texture moved by ``shift`` (dx, dy) pixels."""
    rng = np.random.default_rng(seed)
    big = cv2.resize(rng.integers(0, 256, (h // 4 + 8, w // 4 + 8, 3), dtype=np.uint8), (w + 32, h + 32),
                     interpolation=cv2.INTER_CUBIC)
    dx, dy = shift
    return big[16:16 + h, 16:16 + w].copy(), big[16 - dy:16 - dy + h, 16 - dx:16 - dx + w].copy()


def perturb(g, scale=0.01, seed=1):
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in g.parameters():
            p.add_(torch.randn_like(p) * scale)
    return g


def test_grey_levels_are_opencvs_rgb2gray():
    rgb = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 127.5 - 1
    got = (grey_levels(x)[0, 0] * 255).round().to(torch.uint8).numpy()
    assert np.array_equal(got, cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY))


@pytest.mark.parametrize("h, w", [(64, 96), (63, 95), (5, 7)])
def test_the_guards_warp_error_is_the_mean_error_of_the_warped_frame(h, w):
    """The guard's error (the fused op's block means, partial blocks weighted by their pixels) is the
    mean |warp(image, flow) - reference| of the Python warp; a zero flow against the image itself is 0."""
    from pyframegan.warp import backward_warp
    torch.manual_seed(0)
    image, reference = torch.rand(3, 3, h, w) * 2 - 1, torch.rand(3, 3, h, w) * 2 - 1
    flow = torch.randn(3, 2, h, w) * 3
    want = (backward_warp(image, flow) - reference).abs().mean([1, 2, 3])
    assert torch.allclose(warp_error(image, flow, reference).flatten(), want, atol=1e-6)
    assert warp_error(image, torch.zeros_like(flow), image).abs().max() == 0


def test_its_flows_are_the_dis_op_both_ways():
    a, b = moving_pair()
    x = pack_pairs_ref(torch.from_numpy(np.stack([a, b]))[None], 1)
    flow = hybrid().dis(x)
    want = dis_flow(torch.from_numpy(np.stack([a, b])), torch.from_numpy(np.stack([b, a])))
    torch.testing.assert_close(flow, want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("n", [5, 1, 3])
def test_an_untrained_model_is_dis_with_the_linear_motion_warp(tmp_path, n):
    """Zero heads, no fallback: the exported model in the engine gives evaluate's ``dis-ours`` frames
    (to rounding)."""
    a, b = moving_pair(shift=(5, -3))
    path = tmp_path / "hybrid.pt"
    meta = export.export_generator(hybrid(fallback=0.0), path)
    assert meta["multiple"] == 1 and meta["model"]["arch"] == "hybrid"
    engine = Interpolator(path, device="cpu")
    assert engine.fused_post_op and engine.any_times
    got = np.stack(engine.interpolate(a, b, n=n))
    want = np.stack(baselines.dis_ours(a, b, n))
    diff = np.abs(got.astype(int) - want.astype(int))
    assert diff.max() <= 1 and diff.mean() < 0.01
    # and it is motion, not the crossfade
    assert np.abs(got.astype(int) - np.stack(baselines.blend(a, b, n)).astype(int)).mean() > 5


def fallback_reference(a, b, n, strength):
    """The crossfade fallback with OpenCV and numpy: DIS (our op) both ways, the linear-motion warps
    (cv2.remap), the local means of the warps' and the inputs' mean absolute differences at the
    resolution of 4x4 blocks (block means by INTER_AREA, a 5x5 box with zeros beyond the border),
    alpha = s dw^2 / (dw^2 + df^2 + (2/255)^2) there in [-1, 1] units, i.e. in grey levels
    s dw^2 / (dw^2 + df^2 + 1), and alpha brought to full size by INTER_LINEAR. Frames of sides
    divisible by 4."""
    f01 = dis_flow(torch.from_numpy(a), torch.from_numpy(b)).numpy().transpose(1, 2, 0)
    f10 = dis_flow(torch.from_numpy(b), torch.from_numpy(a)).numpy().transpose(1, 2, 0)
    h, w = a.shape[:2]
    gy, gx = np.mgrid[:h, :w].astype(np.float32)
    warp = lambda img, f: cv2.remap(img.astype(np.float32), gx + f[..., 0], gy + f[..., 1], cv2.INTER_LINEAR,  # noqa: E731
                                    borderMode=cv2.BORDER_REPLICATE)
    box = lambda d: cv2.boxFilter(cv2.resize(d, (w // 4, h // 4), interpolation=cv2.INTER_AREA), -1,  # noqa: E731
                                  (5, 5), borderType=cv2.BORDER_CONSTANT)
    af, bf = a.astype(np.float32), b.astype(np.float32)
    df = box(np.abs(af - bf).mean(2))
    out = []
    for k in range(1, n + 1):
        t = k / (n + 1)
        w0, w1 = warp(a, -(1 - t) * t * f01 + t * t * f10), warp(b, (1 - t) ** 2 * f01 - t * (1 - t) * f10)
        base = (1 - t) * w0 + t * w1
        dw = box(np.abs(w0 - w1).mean(2))
        alpha = cv2.resize(strength * dw ** 2 / (dw ** 2 + df ** 2 + 1.0), (w, h), interpolation=cv2.INTER_LINEAR)
        out.append(np.clip(np.round((1 - alpha[..., None]) * base + alpha[..., None] * ((1 - t) * af + t * bf)), 0, 255))
    return np.stack(out)


def test_the_crossfade_fallback_where_the_warps_disagree(tmp_path):
    """Where the flow cannot explain the change (here: a square that appears), the warps disagree and
    the frame moves toward the crossfade; elsewhere it stays the warp. The engine's frames match an
    OpenCV/numpy reference of the rule."""
    a, b = moving_pair(shift=(4, 2))
    b = b.copy()
    b[20:44, 30:60] = (250, 20, 20)  # appears in b: no motion explains it
    path = tmp_path / "hybrid.pt"
    export.export_generator(hybrid(fallback=0.75), path)
    got = np.stack(Interpolator(path, device="cpu").interpolate(a, b, n=3)).astype(int)
    want = fallback_reference(a, b, 3, 0.75)
    diff = np.abs(got - want)
    assert diff.max() <= 2 and diff.mean() < 0.05
    plain = np.stack(baselines.dis_ours(a, b, 3)).astype(int)
    assert np.abs(got - plain)[:, 20:44, 30:60].mean() > 5 * np.abs(got - plain)[:, 50:, :20].mean() + 1


def test_scripted_exported_and_engine_outputs_match_eager(tmp_path):
    g = perturb(hybrid(ngf=8)).eval()
    a, b = moving_pair(45, 70)
    path = tmp_path / "hybrid.pt"
    export.export_generator(g, path)
    got = np.stack(Interpolator(path, device="cpu").interpolate(a, b))
    with torch.no_grad():
        x = pack_pairs_ref(torch.from_numpy(np.stack([a, b]))[None], 1)
        out = g(x)
        assert not torch.allclose(out, g.prior(x), atol=1e-3)  # the perturbed heads do change the frames
        want = unpack_frames_ref(out, 45, 70)[0].numpy()
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1


def test_components_at_the_trained_times_are_components():
    g = perturb(hybrid(ngf=8)).eval()
    x = torch.rand(2, 6, 40, 52) * 2 - 1
    with torch.no_grad():
        for u, v in zip(g.components(x), g.components_at(x, g.times.flatten())):
            if u is None or v is None:
                assert u is None and v is None
            else:
                torch.testing.assert_close(u, v)
        with pytest.raises(ValueError, match="times must be"):
            g.components_at(x, torch.tensor([0.0, 0.5]))


def test_the_gate_starts_partly_closed_and_the_heads_get_gradients():
    g = hybrid(ngf=8)
    x = torch.rand(1, 6, 48, 64) * 2 - 1
    frames, flow, ft0, ft1 = g.synthesize(x)
    frames.square().mean().backward()
    assert g.out.weight.grad is not None and g.out.weight.grad.abs().sum() > 0
    assert abs(torch.sigmoid(torch.tensor(g.gate_bias)).item() - 0.119) < 1e-3


def test_pseudo_labels_reward_the_true_motion():
    """The loss is smallest for the flows of the true in-between frame, larger for the prior's
    mistakes: the pair moves 6 px, the true middle frame is at 1 px (not the linear 3 px)."""
    h, w = 64, 80
    frames = [moving_pair(h, w, shift=(s, 0), seed=3)[1] for s in (0, 1, 6)]
    to = lambda im: torch.from_numpy(im).permute(2, 0, 1)[None].float() / 127.5 - 1  # noqa: E731
    inputs, target = torch.cat([to(frames[0]), to(frames[2])], 1), to(frames[1])
    def loss(dx0, dx1):
        ft0 = torch.zeros(1, 2, h, w); ft1 = torch.zeros(1, 2, h, w)
        ft0[:, 0], ft1[:, 0] = dx0, dx1
        return pseudo_label_loss(inputs, target, ft0, ft1).item()
    # the content moves right: the middle frame at x is frame 0 at x - 1 and frame 2 at x + 5;
    # the linear motion of F01 = 6, F10 = -6 at t = 1/2 says x - 3 and x + 3
    true, linear = loss(-1.0, 5.0), loss(-3.0, 3.0)
    assert true < 0.5 * linear


def test_bad_configs():
    for config, message in (({"n_in": 3}, "between 2 frames"), ({"scale": 3}, "scale"), ({"ngf": 2}, "ngf"),
                            ({"preset": "slow"}, "unknown DIS preset"), ({"times": [0.5]}, "one time"),
                            ({"gate_bias": float("nan")}, "gate_bias"), ({"fallback": 1.5}, "fallback"),
                            ({"fallback": float("nan")}, "fallback"), ({"judge_width": 2}, "judge_width"),
                            ({"judge_scale": 3}, "judge_scale")):
        with pytest.raises(ValueError, match=message):
            hybrid(**config)


# --- context frames: quadratic motion (QVI), guarded ---------------------------------------------
def shifted(big, dx, h=72, w=96):
    """The view of ``big`` whose content has moved right by ``dx`` (an integer) pixels."""
    return big[24:24 + h, 24 - dx:24 - dx + w].copy()


def texture(seed=4, h=72, w=96):
    rng = np.random.default_rng(seed)
    return cv2.resize(rng.integers(0, 256, (h // 4 + 12, w // 4 + 12, 3), dtype=np.uint8), (w + 48, h + 48),
                      interpolation=cv2.INTER_CUBIC)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    path = tmp_path_factory.mktemp("hybrid") / "hybrid.pt"
    export.export_generator(hybrid(), path)
    return Interpolator(path, device="cpu")


def test_context_follows_accelerating_motion(exported):
    """Content at x(t) = 4t² + 4t: frames t = -1, 0, 1, 2 at 0, 0, 8, 24 px; the true middle frame is
    at 3 px, linear motion says 4. With the context the model lands on the true frame."""
    big = texture()
    before, a, b, after, middle = (shifted(big, d) for d in (0, 0, 8, 24, 3))
    assert exported.context
    with_context = exported.interpolate(a, b, n=1, before=before, after=after)[0]
    without = exported.interpolate(a, b, n=1)[0]
    inner = (slice(12, -12), slice(16, -16))
    err = lambda f: np.abs(f[inner].astype(int) - middle[inner].astype(int)).mean()  # noqa: E731
    assert err(with_context) < 0.5 * err(without)


def test_context_of_constant_velocity_changes_little_and_a_cut_is_ignored(exported):
    big = texture(5)
    before, a, b, after = (shifted(big, d) for d in (-4, 0, 4, 8))
    plain = np.stack(exported.interpolate(a, b))
    steady = np.stack(exported.interpolate(a, b, before=before, after=after))
    assert np.abs(steady.astype(int) - plain.astype(int)).mean() < 0.5
    # a scene cut on both sides: unrelated context frames; the guard falls back to linear motion
    rng = np.random.default_rng(9)
    cut = [rng.integers(0, 256, a.shape, dtype=np.uint8) for _ in range(2)]
    guarded = np.stack(exported.interpolate(a, b, before=cut[0], after=cut[1]))
    assert np.abs(guarded.astype(int) - plain.astype(int)).max() <= 1


def test_a_nearly_still_pair_stays_still_when_its_context_moves(exported):
    """A held frame of animation on twos, lossy: the pair differs by compression noise only (a few
    pixels up to 5 levels, or every pixel by up to 1), the frames before and after are 2 px away.
    Quadratic motion from that context swung the in-between frames (8-14 levels off, here, before
    the guard took still pairs as linear)."""
    big = texture(4)
    a = shifted(big, 0)
    rng = np.random.default_rng(3)
    for fraction, amplitude in ((0.01, 5), (1.0, 1)):
        noise = rng.integers(-amplitude, amplitude + 1, a.shape) * (rng.random(a.shape[:2]) < fraction)[..., None]
        b = np.clip(a.astype(int) + noise, 0, 255).astype(np.uint8)
        for frame in exported.interpolate(a, b, before=shifted(big, -2), after=shifted(big, 2)):
            assert np.abs(frame.astype(int) - a.astype(int)).max() <= amplitude + 1


def test_context_errors(exported, tiny_model):
    a, b = moving_pair()
    with pytest.raises(ValueError, match="both context frames"):
        exported.interpolate(a, b, before=a)
    with pytest.raises(ValueError, match="before is"):
        exported.interpolate(a, b, before=a[:-2], after=b)
    with pytest.raises(ValueError, match="does not use context"):
        Interpolator(tiny_model, device="cpu").interpolate(a, b, before=a, after=b)
    with pytest.raises(ValueError, match="context frames must have the shape"):
        exported.run(torch.from_numpy(a)[None], torch.from_numpy(b)[None], None, torch.from_numpy(a[:-2])[None],
                     torch.from_numpy(b)[None])


def test_identical_inputs_give_the_input_back(tmp_path):
    """A still scene stays still: the warps agree exactly, which closes the gate, so even a model
    with non-zero heads returns the input (a photograph and noise, every time)."""
    from skimage import data
    g = perturb(hybrid(ngf=8), scale=0.05).eval()
    path = tmp_path / "hybrid.pt"
    export.export_generator(g, path)
    engine = Interpolator(path, device="cpu")
    photo = np.ascontiguousarray(data.astronaut()[::4, ::4])
    noise = np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    for image in (photo, noise):
        for n in (None, 1, 3):
            assert all(np.array_equal(f, image) for f in engine.interpolate(image, image, n=n))
    # and the perturbed heads do act where the inputs differ
    a, b = moving_pair()
    with torch.no_grad():
        x = pack_pairs_ref(torch.from_numpy(np.stack([a, b]))[None], 1)
        assert (g(x) - g.prior(x)).abs().max() > 0.02


def test_consecutive_pairs_share_their_context_flows():
    """A batch of consecutive pairs of a video with their context gives the same flows as the pairs
    one by one (where the shared flows are reused instead of computed again)."""
    big = texture(6)
    frames = [shifted(big, d) for d in (0, 1, 3, 6, 10, 15)]
    to = lambda im: torch.from_numpy(im).permute(2, 0, 1).float() / 127.5 - 1  # noqa: E731
    x = torch.stack([torch.cat([to(frames[j]), to(frames[j + 1]), to(frames[j - 1]), to(frames[j + 2])])
                     for j in (1, 2, 3)])
    g = hybrid()
    together = g.dis(x)
    alone = torch.cat([g.dis(x[j:j + 1]) for j in range(3)])  # [F01, F10, F0-, F1+] per pair
    b = 3
    for k in range(4):
        torch.testing.assert_close(together[k * b:(k + 1) * b], alone[k::4], atol=1e-5, rtol=0)


def test_a_call_that_continues_the_last_one_reuses_its_flows(tmp_path):
    """A video's batches one after the other: the first pair of a batch continues the last batch's
    last pair, whose F1+ and F10 are its F01 and F0- (kept between calls), so a continuing batch of
    b pairs computes 2b flows instead of 2b + 2, and they are exactly a fresh model's; the same pair
    again (its times in several calls) computes none. Another order or forget() computes them all;
    an exported model carries nothing kept."""
    big = texture(7)
    frames = [shifted(big, d) for d in (0, 1, 3, 6, 8, 11, 13, 16, 18, 20)]
    to = lambda im: torch.from_numpy(im).permute(2, 0, 1).float() / 127.5 - 1  # noqa: E731
    batch = lambda js: torch.stack([torch.cat([to(frames[j]), to(frames[j + 1]), to(frames[j - 1]),  # noqa: E731
                                               to(frames[j + 2])]) for j in js])
    g, counted = hybrid(), []
    dis_pairs = g.dis_pairs
    g.dis_pairs = lambda a, b: counted.append(a.shape[0]) or dis_pairs(a, b)
    g.dis(batch([1, 2, 3]))
    got = g.dis(batch([4, 5, 6]))
    assert counted == [8, 6]
    assert torch.equal(got, hybrid().dis(batch([4, 5, 6])))
    g.dis(batch([2, 3, 4]))  # does not continue pair 6
    g.forget()
    g.dis(batch([5, 6]))  # would continue pair 4, but nothing is kept
    assert counted == [8, 6, 8, 6]
    assert torch.equal(g.dis(batch([6])), hybrid().dis(batch([6])))  # pair 6 again (more of its times): no flow
    assert counted == [8, 6, 8, 6]
    export.export_generator(g, tmp_path / "g.pt")
    assert [t.numel() for t in torch.jit.load(str(tmp_path / "g.pt")).flow_cache] == [0]


def test_without_its_learned_part_it_is_the_untrained_model(tmp_path):
    """learned=False skips the U-Net: the same frames as an untrained model, with and without context."""
    a, b = moving_pair(shift=(4, 1))
    before, after = moving_pair(shift=(-4, -1))[1], moving_pair(shift=(8, 2))[1]
    engines = []
    for config in ({}, {"learned": False}):
        path = tmp_path / f"{len(engines)}.pt"
        export.export_generator(hybrid(**config), path)
        engines.append(Interpolator(path, device="cpu"))
    for kwargs in ({}, {"before": before, "after": after}):
        u, v = (np.stack(e.interpolate(a, b, **kwargs)) for e in engines)
        assert np.array_equal(u, v)
    with pytest.raises(ValueError, match="guard_ratio"):
        hybrid(guard_ratio=-1)


def test_large_calls_are_split_into_calls_of_bounded_size(exported, monkeypatch):
    """A call of more frames x pixels than PIXEL_TIMES runs as calls on fewer pairs, and a single pair's
    as calls at fewer times (n = 1024 on a large frame would otherwise ask for tens of GB): the same
    frames, in the same order, with and without context."""
    from pyframegan import engine
    big = texture(6)
    frames = torch.from_numpy(np.stack([shifted(big, d) for d in (0, 1, 3, 6, 10, 15)]))
    a, b, before, after = frames[1:4], frames[2:5], frames[0:3], frames[3:6]
    times = [k / 8 for k in range(1, 8)]
    whole = [exported.run(a, b, times), exported.run(a, b, times, before, after), exported.run(a, b)]
    calls = []
    call = engine.Interpolator._call
    monkeypatch.setattr(engine.Interpolator, "_call", lambda self, *args: calls.append(args[0].shape[0]) or call(self, *args))
    pixels = a.shape[1] * a.shape[2]
    for limit, pairs in ((2 * 7 * pixels, [2, 1]), (3 * pixels, [1] * 9)):  # pairs per call (times: 3, 3, 1)
        monkeypatch.setattr(engine, "PIXEL_TIMES", limit)
        calls.clear()
        assert torch.equal(exported.run(a, b, times), whole[0]) and calls == pairs
        assert torch.equal(exported.run(a, b, times, before, after), whole[1])
        assert torch.equal(exported.run(a, b), whole[2])  # the trained times: split over pairs only
