"""The fused ops against the independent pure-torch references in pyframegan.reference."""
import pytest
import torch

from pyframegan import _ext, ops
from pyframegan import reference as ref
from devices import DEVICES

TOL = {torch.float32: 1e-5, torch.float16: 2e-3, torch.bfloat16: 1e-2}


def random_strips(b, h, w, frames, gen, device, contiguous=True):
    """uint8 strips [b, h, frames*w, 3]; the non-contiguous variant is a slice of a larger tensor."""
    if contiguous:
        return torch.randint(0, 256, (b, h, frames * w, 3), dtype=torch.uint8, generator=gen).to(device)
    big = torch.randint(0, 256, (b, h + 3, frames * w + 5, 4), dtype=torch.uint8, generator=gen).to(device)
    s = big[:, 2:h + 2, 3:frames * w + 3, 1:]
    assert not s.is_contiguous()
    return s


CASES = [  # b, h, w, frames, inputs, targets, size, load_size
    (4, 37, 41, 7, (5, 6), (0, 1, 2, 3, 4), 24, None),
    (1, 33, 33, 7, (5, 6), (0, 1, 2, 3, 4), 33, None),
    (3, 20, 17, 3, (0, 2), (1,), 15, None),
    (2, 37, 41, 7, (5, 6), (0, 1, 2, 3, 4), 31, 45),   # upscale then crop
    (2, 64, 50, 5, (4, 0), (3, 1, 2), 21, 29),          # downscale, custom order
    (1, 9, 11, 2, (1,), (0, 0, 1), 7, 13),              # repeated tiles, F=2
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("contiguous", [True, False])
@pytest.mark.parametrize("case", CASES)
def test_preprocess_strips_matches_reference(case, contiguous, dtype, device):
    b, h, w, frames, inputs, targets, size, load = case
    gen = torch.Generator().manual_seed(hash(case) % 2**31)
    strips = random_strips(b, h, w, frames, gen, device, contiguous)
    tile = (load, load) if load else (h, w)
    for offsets, flip in [(None, None), ops.random_crops(b, (h, w), size, load, generator=gen, device=device)]:
        got = ops.preprocess_strips(strips, frames, inputs, targets, size, load, offsets, flip, dtype)
        want = ref.preprocess_strips_ref(strips.cpu(), frames, inputs, targets, size, load,
                                         None if offsets is None else offsets.cpu(),
                                         None if flip is None else flip.cpu(), dtype)
        for g, w_ in zip(got, want):
            assert g.dtype == dtype and g.is_contiguous() and g.device.type == device
            assert g.shape == w_.shape
            torch.testing.assert_close(g.cpu().float(), w_.float(), atol=TOL[dtype], rtol=0)
        assert tile[0] >= size


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("load", [None, 150, 97])
def test_cpu_row_paths_equal_the_per_pixel_kernel(load, device):
    """Packed float32 strips take whole-row paths on the CPU (SIMD deinterleave; separable resize);
    strided strips take the per-pixel kernel. Same math: the results must be bit-identical."""
    gen = torch.Generator().manual_seed(7)
    strips = random_strips(5, 120, 131, 7, gen, device)
    strided = random_strips(5, 120, 131, 7, gen, device, contiguous=False)
    strided.copy_(strips)
    offsets, flip = ops.random_crops(5, (120, 131), 93, load, generator=gen, device=device)
    fast = ops.preprocess_strips(strips, size=93, load_size=load, offsets=offsets, flip=flip)
    slow = ops.preprocess_strips(strided, size=93, load_size=load, offsets=offsets, flip=flip)
    for f, s in zip(fast, slow):
        assert torch.equal(f, s)


@pytest.mark.parametrize("load", [None, 230, 170])
def test_streaming_store_paths_equal_the_per_pixel_kernel(load):
    """Large outputs (>= 8 MiB, rows a multiple of 8 floats) are written with streaming stores on
    the CPU: still bit-identical to the per-pixel kernel."""
    gen = torch.Generator().manual_seed(11)
    strips = random_strips(8, 200, 200, 7, gen, "cpu")
    strided = random_strips(8, 200, 200, 7, gen, "cpu", contiguous=False)
    strided.copy_(strips)
    size = 192 if load is None or load > 192 else 160
    offsets, flip = ops.random_crops(8, (200, 200), size, load, generator=gen)
    fast = ops.preprocess_strips(strips, size=size, load_size=load, offsets=offsets, flip=flip)
    assert fast[1].numel() * 4 >= 8 << 20
    slow = ops.preprocess_strips(strided, size=size, load_size=load, offsets=offsets, flip=flip)
    for f, s in zip(fast, slow):
        assert torch.equal(f, s)


def test_large_outputs_reuse_freed_memory_but_never_live_outputs():
    """Outputs of 8 MiB or more come from a pool of blocks that freed outputs gave back: a live
    output is never handed out again, a freed one is, and results stay correct."""
    gen = torch.Generator().manual_seed(5)
    a = random_strips(8, 200, 200, 7, gen, "cpu")
    b = random_strips(8, 200, 200, 7, gen, "cpu")
    first = ops.preprocess_strips(a, size=192)
    kept = [t.clone() for t in first]
    second = ops.preprocess_strips(b, size=192)
    assert first[1].data_ptr() != second[1].data_ptr()
    for f, k in zip(first, kept):
        assert torch.equal(f, k)
    want = ref.preprocess_strips_ref(b, size=192)
    for got, w in zip(second, want):
        torch.testing.assert_close(got, w, atol=1e-6, rtol=0)
    address = second[1].data_ptr()
    del second, got  # the last references to the second outputs
    third = ops.preprocess_strips(a, size=192)
    assert third[1].data_ptr() == address  # the freed block, reused
    for got, k in zip(third, kept):
        assert torch.equal(got, k)


@pytest.mark.parametrize("device", DEVICES)
def test_out_writes_into_the_given_tensors(device):
    gen = torch.Generator().manual_seed(3)
    strips = random_strips(3, 40, 36, 7, gen, device)
    offsets, flip = ops.random_crops(3, (40, 36), 32, 44, generator=gen, device=device)
    want = ops.preprocess_strips(strips, size=32, load_size=44, offsets=offsets, flip=flip, dtype=torch.float16)
    out = (torch.empty(3, 6, 32, 32, dtype=torch.float16, device=device),
           torch.empty(3, 15, 32, 32, dtype=torch.float16, device=device))
    got = ops.preprocess_strips(strips, size=32, load_size=44, offsets=offsets, flip=flip, out=out)
    assert got[0] is out[0] and got[1] is out[1]
    assert torch.equal(got[0], want[0]) and torch.equal(got[1], want[1])


def test_out_rejects_bad_outputs():
    strips = torch.randint(0, 256, (2, 20, 7 * 20, 3), dtype=torch.uint8)
    good = lambda dtype=torch.float32: (torch.empty(2, 6, 16, 16, dtype=dtype), torch.empty(2, 15, 16, 16, dtype=dtype))
    cases = [((torch.empty(2, 6, 16, 17), good()[1]), ValueError, "inp must have shape"),
             ((good()[0], torch.empty(2, 15, 16, 16).transpose(2, 3)), ValueError, "tgt must be contiguous"),
             ((good()[0], good(torch.float16)[1]), TypeError, "same dtype"),
             (good(torch.float64), TypeError, "float32, torch.float16 or torch.bfloat16")]
    for out, exc, match in cases:
        with pytest.raises(exc, match=match):
            ops.preprocess_strips(strips, size=16, out=out)
    with pytest.raises(ValueError, match="dtype"):
        ops.preprocess_strips(strips, size=16, out=good(), dtype=torch.float16)


def test_seed_layout_picks_the_right_tiles():
    """Each tile is filled with its own index: inputs must be tiles 5, 6 and targets 0..4, in order."""
    tiles = torch.arange(7, dtype=torch.uint8).view(1, 1, 7, 1, 1).expand(2, 16, 7, 16, 3)
    strips = tiles.reshape(2, 16, 7 * 16, 3) * 30
    inp, tgt = ops.preprocess_strips(strips, size=8)
    assert inp.shape == (2, 6, 8, 8) and tgt.shape == (2, 15, 8, 8)
    expect = lambda idx: (torch.tensor(idx).repeat_interleave(3) * 30 / 127.5 - 1).view(1, -1, 1, 1)
    torch.testing.assert_close(inp, expect([5, 6]).expand_as(inp))
    torch.testing.assert_close(tgt, expect([0, 1, 2, 3, 4]).expand_as(tgt))


def test_flip_mirrors_the_crop():
    gen = torch.Generator().manual_seed(1)
    strips = random_strips(2, 20, 20, 7, gen, "cpu")
    offsets = torch.tensor([[1, 3], [2, 0]])
    plain = ops.preprocess_strips(strips, size=16, offsets=offsets)
    flipped = ops.preprocess_strips(strips, size=16, offsets=offsets, flip=torch.tensor([True, False]))
    for p, f in zip(plain, flipped):
        assert torch.equal(f[0], p[0].flip(-1)) and torch.equal(f[1], p[1])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("b,h,w,multiple", [(1, 17, 23, 8), (3, 32, 32, 32), (2, 5, 7, 1), (1, 1, 1, 4)])
def test_pack_pairs_matches_reference(b, h, w, multiple, dtype, device):
    gen = torch.Generator().manual_seed(h * w)
    pairs = torch.randint(0, 256, (b, 2, h, w, 3), dtype=torch.uint8, generator=gen)
    for p in (pairs, pairs.transpose(2, 3).contiguous().transpose(2, 3)):  # contiguous and not
        got = ops.pack_pairs(p.to(device), multiple, dtype)
        torch.testing.assert_close(got.cpu().float(), ref.pack_pairs_ref(p, multiple, dtype).float(),
                                   atol=TOL[dtype], rtol=0)
        assert got.shape[2] % multiple == 0 and got.shape[3] % multiple == 0


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("b,n,hp,wp,h,w", [(2, 5, 24, 32, 17, 23), (1, 1, 8, 8, 8, 8), (3, 2, 9, 5, 1, 5)])
def test_unpack_frames_matches_reference(b, n, hp, wp, h, w, dtype, device):
    gen = torch.Generator().manual_seed(hp * wp + n)
    out = (torch.rand(b, 3 * n, hp, wp, generator=gen) * 2.4 - 1.2).to(dtype)  # includes values to clamp
    for o in (out, out.transpose(2, 3).contiguous().transpose(2, 3)):
        got = ops.unpack_frames(o.to(device), h, w)
        assert got.dtype == torch.uint8 and got.shape == (b, n, h, w, 3)
        assert torch.equal(got.cpu(), ref.unpack_frames_ref(o, h, w))


def test_pack_then_unpack_round_trips():
    pairs = torch.randint(0, 256, (2, 2, 13, 19, 3), dtype=torch.uint8)
    packed = ops.pack_pairs(pairs, 16)
    assert torch.equal(ops.unpack_frames(packed, 13, 19), pairs)


BAD_STRIP_CALLS = [  # (kwargs changes, exception, message fragment)
    (dict(strips=torch.zeros(2, 16, 112, 3)), TypeError, "uint8"),
    (dict(strips=torch.zeros(16, 112, 3, dtype=torch.uint8)), ValueError, r"\[B, H, F\*W, 3\]"),
    (dict(strips=torch.zeros(2, 16, 112, 4, dtype=torch.uint8)), ValueError, "3 \\(RGB\\)"),
    (dict(strips=torch.zeros(2, 16, 113, 3, dtype=torch.uint8)), ValueError, "not divisible by frames=7"),
    (dict(inputs=(5, 7)), ValueError, "tile index 7 in inputs"),
    (dict(targets=(-1,)), ValueError, "tile index -1 in targets"),
    (dict(size=17), ValueError, "larger than the tile"),
    (dict(load_size=8), ValueError, "larger than the resized tile"),
    (dict(offsets=torch.tensor([[0, 0], [1, 0]])), ValueError, r"offsets\[1\] = \(1, 0\)"),
    (dict(offsets=torch.zeros(2, 2)), TypeError, "integer"),
    (dict(offsets=torch.zeros(3, 2, dtype=torch.long)), ValueError, r"shape \[2, 2\]"),
    (dict(flip=torch.zeros(3, dtype=torch.bool)), ValueError, r"flip must have shape \[2\]"),
    (dict(dtype=torch.int32), TypeError, "float32, torch.float16 or torch.bfloat16"),
]


@pytest.mark.parametrize("change,exc,match", BAD_STRIP_CALLS)
def test_preprocess_strips_rejects_bad_input(change, exc, match):
    kwargs = dict(strips=torch.zeros(2, 16, 112, 3, dtype=torch.uint8), frames=7, size=16)
    kwargs.update(change)
    with pytest.raises(exc, match=match):
        ops.preprocess_strips(**kwargs)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_tensors_on_different_devices_are_rejected():
    strips = torch.zeros(2, 16, 112, 3, dtype=torch.uint8, device="cuda")
    with pytest.raises(ValueError, match="same device"):
        ops.preprocess_strips(strips, size=16, offsets=torch.zeros(2, 2, dtype=torch.long))


def test_pair_ops_reject_bad_input():
    with pytest.raises(TypeError, match="uint8"):
        ops.pack_pairs(torch.zeros(1, 2, 4, 4, 3), 8)
    with pytest.raises(ValueError, match="2 frames"):
        ops.pack_pairs(torch.zeros(1, 3, 4, 4, 3, dtype=torch.uint8), 8)
    with pytest.raises(ValueError, match="empty"):
        ops.pack_pairs(torch.zeros(1, 2, 0, 4, 3, dtype=torch.uint8), 8)
    with pytest.raises(ValueError, match=r"multiple must be in \[1, 4096\], got 0"):
        ops.pack_pairs(torch.zeros(1, 2, 4, 4, 3, dtype=torch.uint8), 0)
    with pytest.raises(ValueError, match=r"\[B, 3\*n, H, W\]"):
        ops.unpack_frames(torch.zeros(1, 4, 8, 8), 8, 8)
    with pytest.raises(ValueError, match="cannot crop 9x8"):
        ops.unpack_frames(torch.zeros(1, 3, 8, 8), 9, 8)
    with pytest.raises(TypeError, match="float32"):
        ops.unpack_frames(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), 8, 8)


def test_opcheck():
    strips = torch.randint(0, 256, (2, 20, 7 * 18, 3), dtype=torch.uint8)
    offsets, flip = ops.random_crops(2, (20, 18), 16, 22, generator=torch.Generator().manual_seed(0))
    torch.library.opcheck(torch.ops.pyframegan.preprocess_strips.default,
                          (strips, 7, [5, 6], [0, 1, 2, 3, 4], 16, 22, offsets, flip, torch.float32))
    out = (torch.empty(2, 6, 16, 16), torch.empty(2, 15, 16, 16))
    torch.library.opcheck(torch.ops.pyframegan.preprocess_strips_into.default,
                          (strips, 7, [5, 6], [0, 1, 2, 3, 4], 16, 22, offsets, flip, *out))
    torch.library.opcheck(torch.ops.pyframegan.pack_pairs.default,
                          (torch.randint(0, 256, (2, 2, 9, 10, 3), dtype=torch.uint8), 8, torch.float16))
    torch.library.opcheck(torch.ops.pyframegan.unpack_frames.default, (torch.rand(2, 15, 16, 16) * 2 - 1, 9, 10))


def test_ops_compile_with_torch_compile():
    strips = torch.randint(0, 256, (2, 20, 7 * 20, 3), dtype=torch.uint8)
    fn = torch.compile(lambda s: ops.preprocess_strips(s, size=16)[0] * 2, fullgraph=True, backend="eager")
    torch.testing.assert_close(fn(strips), ops.preprocess_strips(strips, size=16)[0] * 2)


def test_random_crops_reproducible_and_in_range():
    a = ops.random_crops(64, (40, 50), 32, generator=torch.Generator().manual_seed(3))
    b = ops.random_crops(64, (40, 50), 32, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert a[0][:, 0].max() <= 8 and a[0][:, 1].max() <= 18 and a[0].min() >= 0
    assert 0 < a[1].sum() < 64
    with pytest.raises(ValueError, match="larger than the tile"):
        ops.random_crops(1, (40, 50), 32, load_size=30)


def test_missing_or_stale_extension_says_how_to_rebuild():
    with pytest.raises(ImportError, match="pip install --no-build-isolation"):
        _ext.load("pyframegan._C_does_not_exist")

    class Stale:
        @staticmethod
        def build_info():
            return {"torch_version": "1.0.0"}
    with pytest.raises(ImportError, match="(?s)built for torch 1.0.0.*pip install --no-build-isolation"):
        _ext.check_build(Stale)
