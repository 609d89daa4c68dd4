"""The flow ops (correlation and its backward, warp_blend and its fallback's warp_disagreement) against the pure-torch references in
pyframegan.reference, gradcheck, opcheck and argument checks."""
import pytest
import torch
import torch.nn.functional as F

from pyframegan import ops
from pyframegan import reference as ref
from devices import DEVICES

# absolute / relative tolerances of the correlation by dtype (sums are in float32 or float64)
CORR_TOL = {torch.float64: (1e-12, 1e-12), torch.float32: (1e-6, 1e-5), torch.float16: (1e-3, 2e-3),
            torch.bfloat16: (8e-3, 1.6e-2)}


def layouts(t):
    """t as given (contiguous), as a strided slice of a larger tensor, and channels-last."""
    b, c, h, w = t.shape
    big = torch.zeros(b, c + 2, h + 3, w + 1, dtype=t.dtype, device=t.device)
    sliced = big[:, 1:c + 1, 2:h + 2, :w]
    sliced.copy_(t)
    return [("contiguous", t), ("sliced", sliced), ("channels-last", t.contiguous(memory_format=torch.channels_last))]


CORR_CASES = [  # b, c, h, w, d
    (1, 1, 5, 7, 0), (2, 3, 9, 11, 1), (3, 8, 13, 9, 2), (1, 16, 7, 5, 4), (2, 5, 1, 1, 3),
    (1, 4, 17, 16, 3), (2, 33, 6, 10, 2),
]


def random_features(case, dtype, device, seed=0):
    b, c, h, w, _ = case
    gen = torch.Generator().manual_seed(seed + hash(case) % 2**31)
    return [torch.randn(b, c, h, w, generator=gen, dtype=torch.float64).to(dtype).to(device) for _ in range(2)]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", list(CORR_TOL))
@pytest.mark.parametrize("case", CORR_CASES)
def test_correlation_matches_reference(case, dtype, device):
    f1, f2 = random_features(case, dtype, device)
    d = case[-1]
    atol, rtol = CORR_TOL[dtype]
    want = ref.correlation_ref(f1.cpu(), f2.cpu(), d, normalize=False)
    for (name1, a), (name2, b) in zip(layouts(f1), reversed(layouts(f2))):
        got = ops.correlation(a, b, d, normalize=False)
        assert got.dtype == dtype and got.device.type == device and got.is_contiguous(), (name1, name2)
        assert got.shape == (case[0], (2 * d + 1) ** 2, case[2], case[3])
        torch.testing.assert_close(got.cpu(), want, atol=atol, rtol=rtol, msg=f"{name1} f1, {name2} f2")


@pytest.mark.parametrize("device", DEVICES)
def test_correlation_normalize_is_cosine_over_c(device):
    f1, f2 = random_features((2, 6, 8, 9, 2), torch.float32, device)
    got = ops.correlation(f1, f2, 2)  # normalize=True by default
    torch.testing.assert_close(got.cpu(), ref.correlation_ref(f1.cpu(), f2.cpu(), 2), atol=1e-6, rtol=1e-5)
    # at zero displacement (k = 12) and f2 = f1 that is |cos| = 1, divided by C
    same = ops.correlation(f1, f1, 2)[:, 12]
    torch.testing.assert_close(same.cpu(), torch.full_like(same.cpu(), 1 / 6))


def test_correlation_known_values():
    """f1 = 1 everywhere, f2 = its x coordinate in every channel: out[k] is x + dx inside the image, 0 outside."""
    h, w, d = 4, 6, 1
    f1 = torch.ones(1, 3, h, w)
    f2 = torch.arange(w, dtype=torch.float32).expand(1, 3, h, w)
    out = ops.correlation(f1, f2, d, normalize=False)
    for k in range(9):
        dy, dx = k // 3 - d, k % 3 - d
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        inside = (ys + dy >= 0) & (ys + dy < h) & (xs + dx >= 0) & (xs + dx < w)
        assert torch.equal(out[0, k], torch.where(inside, (xs + dx).float(), 0.0)), k


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("case", [(2, 3, 9, 11, 1), (1, 16, 7, 5, 4), (3, 8, 13, 9, 2), (1, 1, 4, 4, 0)])
def test_correlation_backward_matches_reference_autograd(case, dtype, device):
    f1, f2 = random_features(case, dtype, device, seed=1)
    d = case[-1]
    grad = torch.randn(case[0], (2 * d + 1) ** 2, case[2], case[3], dtype=torch.float64).to(dtype)
    grad = grad.transpose(2, 3).contiguous().transpose(2, 3)  # a non-contiguous incoming gradient
    a, b = (t.detach().requires_grad_() for t in (f1, f2))
    ops.correlation(a, b, d, normalize=False).backward(grad.to(device))
    ra, rb = (t.detach().cpu().float().requires_grad_() for t in (f1, f2))
    ref.correlation_ref(ra, rb, d, normalize=False).backward(grad.float())
    atol, rtol = CORR_TOL[dtype]
    for got, want in ((a.grad, ra.grad), (b.grad, rb.grad)):
        assert got.dtype == dtype and got.shape == want.shape
        torch.testing.assert_close(got.cpu().float(), want, atol=atol, rtol=rtol)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", [(1, 1, 3, 4, 0), (2, 3, 5, 4, 1), (1, 2, 4, 5, 2), (1, 2, 3, 3, 3)])
@pytest.mark.parametrize("normalize", [False, True])
def test_correlation_gradcheck(case, normalize, device):
    f1, f2 = (t.requires_grad_() for t in random_features(case, torch.float64, device, seed=2))
    assert torch.autograd.gradcheck(lambda a, b: ops.correlation(a, b, case[-1], normalize), (f1, f2))


def test_correlation_opcheck():
    f1, f2 = (t.requires_grad_() for t in random_features((2, 3, 5, 6, 2), torch.float32, "cpu"))
    torch.library.opcheck(torch.ops.pyframegan.correlation.default, (f1, f2, 2))
    torch.library.opcheck(torch.ops.pyframegan.correlation.default, (f1[:, :, 1:, :5].detach(), f2[:, :, :4, 1:].detach(), 0))
    grad = torch.randn(2, 25, 5, 6)
    torch.library.opcheck(torch.ops.pyframegan.correlation_backward.default, (grad, f1.detach(), f2.detach(), 2))
    torch.library.opcheck(torch.ops.pyframegan.correlation_backward.default,
                          (grad.half(), f1.detach().half(), f2.detach().half(), 2))


def test_correlation_compiles_with_backward():
    f1, f2 = (t.requires_grad_() for t in random_features((2, 4, 6, 7, 1), torch.float32, "cpu"))
    fn = torch.compile(lambda a, b: (ops.correlation(a, b, 1) ** 2).sum(), fullgraph=True, backend="aot_eager")
    fn(f1, f2).backward()
    g1, g2 = f1.grad.clone(), f2.grad.clone()
    f1.grad = f2.grad = None
    (ops.correlation(f1, f2, 1) ** 2).sum().backward()
    torch.testing.assert_close(g1, f1.grad)
    torch.testing.assert_close(g2, f2.grad)


BAD_CORRELATION_CALLS = [  # (f1, f2, d, exception, message fragment)
    (torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 5), 1, ValueError, "same shape"),
    (torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 4, dtype=torch.float64), 1, TypeError, "same dtype"),
    (torch.zeros(1, 2, 4, 4, dtype=torch.int32), torch.zeros(1, 2, 4, 4, dtype=torch.int32), 1, TypeError,
     "f1 must be float32, float64, float16 or bfloat16"),
    (torch.zeros(2, 4, 4), torch.zeros(2, 4, 4), 1, ValueError, r"f1 must have shape \[B, C, H, W\]"),
    (torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 4, 4), -1, ValueError, "max_displacement must be in"),
    (torch.zeros(1, 0, 4, 4), torch.zeros(1, 0, 4, 4), 1, ValueError, "at least one channel"),
]


@pytest.mark.parametrize("f1,f2,d,exc,match", BAD_CORRELATION_CALLS)
def test_correlation_rejects_bad_input(f1, f2, d, exc, match):
    with pytest.raises(exc, match=match):
        ops.correlation(f1, f2, d, normalize=False)


def test_correlation_backward_rejects_bad_grad():
    f = torch.zeros(1, 2, 4, 4)
    with pytest.raises(ValueError, match=r"grad must have shape \[1, 9, 4, 4\]"):
        torch.ops.pyframegan.correlation_backward(torch.zeros(1, 8, 4, 4), f, f, 1)
    with pytest.raises(TypeError, match="grad is Half"):
        torch.ops.pyframegan.correlation_backward(torch.zeros(1, 9, 4, 4, dtype=torch.half), f, f, 1)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_flow_ops_reject_tensors_on_different_devices():
    f = torch.zeros(1, 2, 4, 4)
    with pytest.raises(ValueError, match="same device"):
        ops.correlation(f, f.cuda(), 1)
    i, flow, mask = torch.zeros(1, 3, 4, 4), torch.zeros(1, 1, 2, 4, 4), torch.zeros(1, 1, 1, 4, 4)
    with pytest.raises(ValueError, match="same device"):
        ops.warp_blend(i, i, flow, flow, mask.cuda())


# --- warp_blend -------------------------------------------------------------------------------------
def random_warp_inputs(b, n, hp, wp, dtype, device, gen, flow_dtype=torch.float32, residual=True, max_flow=None):
    """Frames in [-1, 1] as pack_pairs lays them out (i0, i1: channel slices of one [B, 6, Hp, Wp]
    tensor), flows reaching up to max_flow pixels (default: past the borders), masks in [0, 1]."""
    max_flow = max(hp, wp) * 0.6 if max_flow is None else max_flow
    packed = (torch.rand(b, 6, hp, wp, generator=gen) * 2 - 1).to(dtype)
    flows = [((torch.rand(b, n, 2, hp, wp, generator=gen) * 2 - 1) * max_flow).to(flow_dtype) for _ in range(2)]
    mask = torch.rand(b, n, 1, hp, wp, generator=gen).to(dtype)
    res = (torch.rand(b, n, 3, hp, wp, generator=gen) * 0.4 - 0.2).to(dtype) if residual else None
    packed = packed.to(device)
    return [packed[:, :3], packed[:, 3:], *(f.to(device) for f in flows), mask.to(device),
            None if res is None else res.to(device)]


def assert_within_one_level(got, want, max_off=0.01):
    """uint8 frames equal but for rounding ties: no value off by more than 1, few off at all."""
    assert got.dtype == torch.uint8 and got.shape == want.shape
    diff = (got.cpu().int() - want.int()).abs()
    assert diff.max() <= 1
    assert (diff > 0).float().mean() <= max_off


WARP_CASES = [  # b, n, hp, wp, height, width
    (1, 1, 8, 8, 8, 8), (2, 5, 24, 32, 17, 23), (3, 2, 9, 13, 9, 11), (1, 3, 1, 5, 1, 5), (2, 1, 7, 1, 6, 1),
    (1, 2, 33, 47, 33, 40),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,flow_dtype", [(torch.float32, torch.float32), (torch.float16, torch.float32),
                                              (torch.float16, torch.float16), (torch.bfloat16, torch.float32)])
@pytest.mark.parametrize("residual", [True, False])
@pytest.mark.parametrize("case", WARP_CASES)
def test_warp_blend_matches_grid_sample_reference(case, residual, dtype, flow_dtype, device):
    b, n, hp, wp, h, w = case
    gen = torch.Generator().manual_seed(hp * wp + n)
    args = random_warp_inputs(b, n, hp, wp, dtype, device, gen, flow_dtype, residual)
    got = ops.warp_blend(*args, h, w)
    assert got.device.type == device and got.is_contiguous()
    assert_within_one_level(got, ref.warp_blend_ref(*(a if a is None else a.cpu() for a in args), h, w))


@pytest.mark.parametrize("device", DEVICES)
def test_warp_blend_accepts_any_strides(device):
    gen = torch.Generator().manual_seed(5)
    i0, i1, f0, f1, mask, res = random_warp_inputs(2, 3, 12, 10, torch.float32, device, gen)
    want = ops.warp_blend(i0, i1, f0, f1, mask, res, 11, 9)
    strided = [t.transpose(-1, -2).contiguous().transpose(-1, -2) for t in (i0, i1)]
    strided += [t.permute(1, 0, 2, 3, 4).contiguous().permute(1, 0, 2, 3, 4) for t in (f0, f1, mask, res)]
    assert not any(t.is_contiguous() for t in strided)
    assert torch.equal(ops.warp_blend(*strided, 11, 9), want)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_warp_blend_with_zero_flow_is_the_blend(dtype, device):
    gen = torch.Generator().manual_seed(11)
    i0, i1, f0, f1, mask, res = random_warp_inputs(2, 4, 10, 14, dtype, device, gen)
    zero = torch.zeros_like(f0)
    got = ops.warp_blend(i0, i1, zero, zero, mask, res, 9, 13)
    m = mask.float()
    blend = m * i0.float().unsqueeze(1) + (1 - m) * i1.float().unsqueeze(1) + res.float()
    assert torch.equal(got, ref.unpack_frames_ref(blend.flatten(1, 2), 9, 13))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shift", [(0, 0), (3, -2), (-5, 7), (40, -40)])
def test_integer_flow_is_a_shift_with_replicated_borders(shift, device):
    """A constant integer flow (dx, dy) reads pixel (x + dx, y + dy), clamped to the frame: torch.roll
    of the replicate-padded frame, cropped back."""
    dx, dy = shift
    gen = torch.Generator().manual_seed(2)
    i0, i1, f0, f1, _, _ = random_warp_inputs(1, 2, 11, 16, torch.float32, device, gen)
    f0 = torch.tensor([float(dx), float(dy)], device=device).view(1, 1, 2, 1, 1).expand_as(f0)
    ones = torch.ones(1, 2, 1, 11, 16, device=device)
    got = ops.warp_blend(i0, i1, f0, f1, ones, None)  # mask 1: only the warped i0
    p = 41  # padding wider than any shift
    padded = F.pad(i0.cpu(), (p, p, p, p), mode="replicate")
    shifted = torch.roll(padded, shifts=(-dy, -dx), dims=(2, 3))[:, :, p:p + 11, p:p + 16]
    want = ref.unpack_frames_ref(shifted, 11, 16)
    assert torch.equal(got.cpu(), torch.stack([want[:, 0]] * 2, 1))


def test_the_cpus_eight_pixel_path_is_the_per_pixel_math():
    """On the CPU, float frames and flows with contiguous rows take 8 pixels at a time (AVX2, where
    the CPU has it); frames whose columns are strided take the per-pixel kernel. Both give the same
    bits: frames with the residual and the fallback, the disagreement, flows past the borders, NaN
    and inf in the flows, widths that are not a multiple of 8."""
    gen = torch.Generator().manual_seed(11)
    i0, i1, f0, f1, mask, res = random_warp_inputs(2, 3, 37, 53, torch.float32, "cpu", gen)
    f0[0, 0, 0, 3, 5], f1[1, 2, 1, 7, 9], f0[1, 1, 0, 1, 1] = float("nan"), float("inf"), -float("inf")
    alpha, times = torch.rand(2, 3, 1, 37, 53, generator=gen), torch.rand(3, generator=gen)
    columns = [t.transpose(-1, -2).contiguous().transpose(-1, -2) for t in (i0, i1, f0, f1, mask, res, alpha)]
    assert all(t.stride(-1) != 1 for t in columns)
    for h, w in ((37, 53), (30, 41)):
        assert torch.equal(ops.warp_blend(i0, i1, f0, f1, mask, res, h, w, alpha, times),
                           ops.warp_blend(*columns[:6], h, w, columns[6], times))
        assert torch.equal(ops.warp_blend(i0, i1, f0, f1, mask, None, h, w),
                           ops.warp_blend(*columns[:5], None, h, w))
    assert torch.equal(ops.warp_disagreement(i0, i1, f0, f1), ops.warp_disagreement(*columns[:4]))
    # a mask and residual broadcast along the rows (as the engine's per-time masks are) read as values
    per_time, zero = mask[:, :, :, :1, :1].expand_as(mask), torch.zeros(1).expand_as(res)
    assert torch.equal(ops.warp_blend(i0, i1, f0, f1, per_time, zero, 37, 53, alpha, times),
                       ops.warp_blend(*columns[:4], per_time.contiguous(), None, 37, 53, columns[6], times))


def test_sample_points_are_fp32_for_fp16_frames():
    """Columns alternate -1, 1 and every flow is +0.5 px: each sample point is halfway between two
    columns, 0 after the blend (uint8 128). In fp16, x + 0.5 rounds to a whole column past 2048."""
    wp = 4000
    i0 = torch.tensor([-1.0, 1.0], dtype=torch.float16).repeat(wp // 2).expand(1, 3, 2, wp)
    flow = torch.zeros(1, 1, 2, 2, wp, dtype=torch.float16)
    flow[:, :, 0] = 0.5
    mask = torch.ones(1, 1, 1, 2, wp, dtype=torch.float16)
    got = ops.warp_blend(i0, i0, flow, flow, mask, None, 2, wp - 1)  # the last column clamps: cropped
    assert torch.equal(got, torch.full_like(got, 128))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("case", WARP_CASES)
def test_warp_blend_crossfade_fallback_matches_reference(case, dtype, device):
    """With the fallback: v + alpha (lerp(i0, i1, t) - v) on top of the blend, per frame its own t."""
    b, n, hp, wp, h, w = case
    gen = torch.Generator().manual_seed(hp + wp + n)
    args = random_warp_inputs(b, n, hp, wp, dtype, device, gen)
    alpha = torch.rand(b, n, 1, hp, wp, generator=gen).to(dtype).to(device)
    times = torch.rand(n, generator=gen).to(device)
    got = ops.warp_blend(*args, h, w, alpha, times)
    want = ref.warp_blend_ref(*(a.cpu() for a in args), h, w, alpha.cpu(), times.cpu())
    assert_within_one_level(got, want, max_off=0.02)
    # alpha 0 is the plain blend; alpha 1 the crossfade, whatever the flows
    assert torch.equal(ops.warp_blend(*args, h, w, torch.zeros_like(alpha), times), ops.warp_blend(*args, h, w))
    cross = torch.lerp(args[0].float().unsqueeze(1).cpu(), args[1].float().unsqueeze(1).cpu(), times.cpu().view(1, n, 1, 1, 1))
    assert_within_one_level(ops.warp_blend(*args, h, w, torch.ones_like(alpha), times),
                            ref.unpack_frames_ref(cross.flatten(1, 2), h, w), max_off=0.02)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype,flow_dtype", [(torch.float32, torch.float32), (torch.float16, torch.float32),
                                              (torch.bfloat16, torch.bfloat16)])
@pytest.mark.parametrize("case", WARP_CASES)
def test_warp_disagreement_matches_reference(case, dtype, flow_dtype, device):
    """4x4 block means (ceil mode: the last blocks cut by the edge) of |warp(i0) - warp(i1)|."""
    b, n, hp, wp, _, _ = case
    gen = torch.Generator().manual_seed(3 * hp + wp + n)
    i0, i1, f0, f1, _, _ = random_warp_inputs(b, n, hp, wp, dtype, device, gen, flow_dtype)
    got = ops.warp_disagreement(i0, i1, f0, f1)
    assert got.dtype == torch.float32 and got.shape == (b, n, 1, -(-hp // 4), -(-wp // 4))
    want = ref.warp_disagreement_ref(*(t.cpu() for t in (i0, i1, f0, f1)))
    torch.testing.assert_close(got.cpu(), want, atol=1e-5, rtol=1e-5)
    assert torch.equal(ops.warp_disagreement(i0, i0, f0, f0), torch.zeros_like(got))  # the same warp twice


def test_warp_disagreement_opcheck():
    gen = torch.Generator().manual_seed(6)
    i0, i1, f0, f1, _, _ = random_warp_inputs(2, 3, 9, 14, torch.float32, "cpu", gen)
    torch.library.opcheck(torch.ops.pyframegan.warp_disagreement.default, (i0, i1, f0, f1))


def test_warp_blend_opcheck():
    gen = torch.Generator().manual_seed(3)
    args = random_warp_inputs(2, 3, 8, 12, torch.float32, "cpu", gen)
    torch.library.opcheck(torch.ops.pyframegan.warp_blend.default, (*args, 7, 11))
    args[-1] = None
    torch.library.opcheck(torch.ops.pyframegan.warp_blend.default, (*args, 8, 12))
    half = random_warp_inputs(1, 2, 5, 6, torch.float16, "cpu", gen, torch.float16)
    torch.library.opcheck(torch.ops.pyframegan.warp_blend.default, (*half, 5, 6))
    alpha, times = torch.rand(2, 3, 1, 8, 12, generator=gen), torch.rand(3, generator=gen)
    torch.library.opcheck(torch.ops.pyframegan.warp_blend.default, (*args, 8, 12, alpha, times))


def test_warp_blend_compiles():
    gen = torch.Generator().manual_seed(4)
    args = random_warp_inputs(1, 2, 8, 8, torch.float32, "cpu", gen)
    fn = torch.compile(lambda *a: ops.warp_blend(*a, 7, 7).float().mean(), fullgraph=True, backend="eager")
    assert fn(*args) == ops.warp_blend(*args, 7, 7).float().mean()


def _warp_args(**change):
    """Valid warp_blend arguments (B=2, n=3, 8x12), with some replaced."""
    i, f, m, r = torch.zeros(2, 3, 8, 12), torch.zeros(2, 3, 2, 8, 12), torch.zeros(2, 3, 1, 8, 12), torch.zeros(2, 3, 3, 8, 12)
    args = dict(i0=i, i1=i, flow_t0=f, flow_t1=f, mask=m, residual=r, height=8, width=12)
    args.update(change)
    return args


BAD_WARP_CALLS = [  # (changes, exception, message fragment)
    (dict(i0=torch.zeros(2, 3, 8, 12, dtype=torch.float64)), TypeError, "i0 must be float32, float16 or bfloat16"),
    (dict(i0=torch.zeros(2, 4, 8, 12)), ValueError, r"i0 must have shape \[B, 3, Hp, Wp\]"),
    (dict(i1=torch.zeros(2, 3, 8, 11)), ValueError, r"i1 must have shape \[2, 3, 8, 12\]"),
    (dict(i1=torch.zeros(2, 3, 8, 12, dtype=torch.half)), TypeError, "i1 is Half but i0 is Float"),
    (dict(flow_t0=torch.zeros(2, 3, 8, 12)), ValueError, r"flow_t0 must have shape \[B, n, 2, Hp, Wp\]"),
    (dict(flow_t0=torch.zeros(2, 3, 3, 8, 12)), ValueError, r"flow_t0 must have shape \[2, 3, 2, 8, 12\]"),
    (dict(flow_t1=torch.zeros(2, 2, 2, 8, 12)), ValueError, r"flow_t1 must have shape \[2, 3, 2, 8, 12\]"),
    (dict(flow_t0=torch.zeros(2, 0, 2, 8, 12), flow_t1=torch.zeros(2, 0, 2, 8, 12),
          mask=torch.zeros(2, 0, 1, 8, 12), residual=None), ValueError, r"no frames"),
    (dict(flow_t0=torch.zeros(2, 3, 2, 8, 12, dtype=torch.int32)), TypeError, "flows must be float32"),
    (dict(flow_t1=torch.zeros(2, 3, 2, 8, 12, dtype=torch.half)), TypeError, "flow_t1 is Half but flow_t0 is Float"),
    (dict(mask=torch.zeros(2, 3, 8, 12)), ValueError, r"mask must have shape \[2, 3, 1, 8, 12\]"),
    (dict(mask=torch.zeros(2, 3, 1, 8, 12, dtype=torch.bfloat16)), TypeError, "mask is BFloat16"),
    (dict(residual=torch.zeros(2, 3, 1, 8, 12)), ValueError, r"residual must have shape \[2, 3, 3, 8, 12\]"),
    (dict(height=9), ValueError, "cannot crop 9x12 frames from 8x12 inputs"),
    (dict(width=0), ValueError, "cannot crop 8x0"),
    (dict(fallback=torch.zeros(2, 3, 1, 8, 12)), ValueError, "needs both fallback .alpha. and times, got fallback alone"),
    (dict(times=torch.zeros(3)), ValueError, "needs both fallback .alpha. and times, got times alone"),
    (dict(fallback=torch.zeros(2, 3, 3, 8, 12), times=torch.zeros(3)), ValueError,
     r"fallback must have shape \[2, 3, 1, 8, 12\]"),
    (dict(fallback=torch.zeros(2, 3, 1, 8, 12, dtype=torch.half), times=torch.zeros(3)), TypeError, "fallback is Half"),
    (dict(fallback=torch.zeros(2, 3, 1, 8, 12), times=torch.zeros(2)), ValueError, r"times must have shape \[3\]"),
    (dict(fallback=torch.zeros(2, 3, 1, 8, 12), times=torch.zeros(3, dtype=torch.float64)), TypeError,
     "times must be float32"),
]


@pytest.mark.parametrize("change,exc,match", BAD_WARP_CALLS)
def test_warp_blend_rejects_bad_input(change, exc, match):
    with pytest.raises(exc, match=match):
        ops.warp_blend(**_warp_args(**change))


@pytest.mark.parametrize("change,exc,match", [c for c in BAD_WARP_CALLS
                                              if set(c[0]) <= {"i0", "i1", "flow_t0", "flow_t1"}])
def test_warp_disagreement_rejects_bad_input(change, exc, match):
    args = {k: v for k, v in _warp_args(**change).items() if k in ("i0", "i1", "flow_t0", "flow_t1")}
    with pytest.raises(exc, match=match) as error:
        ops.warp_disagreement(**args)
    assert "pyframegan: warp_disagreement:" in str(error.value)  # the op that was called, not warp_blend
