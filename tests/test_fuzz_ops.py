"""Seeded fuzz of every op's arguments (shapes including 0 and 1, dtypes, strided layouts, the CPU and
a CUDA device where there is one, extreme integers, NaN/inf): each call gives a clear error
(ValueError / TypeError) or the reference's answer. The calls run in a subprocess, so a crash (a segfault from a wrapped integer,
an out-of-bounds read) fails the test instead of killing the test run. Each call is made again under
FakeTensorMode (torch.compile's shape-only kernels): they refuse what the op refuses (integer ranges
word for word), except what only the data shows (crop offsets' values, DIS levels too small for a
patch), and give the op's output shapes and dtypes for what it takes.

The counts: ``pytest -s tests/test_fuzz_ops.py`` prints them (cases, clear errors, correct results,
and the shape-only kernels' agreements)."""
import json
import subprocess
import sys
import textwrap

FUZZ = textwrap.dedent('''
    import json, logging, random, sys
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils._pytree import tree_map
    from pyframegan import ops
    from pyframegan.reference import (correlation_ref, pack_pairs_ref, preprocess_strips_ref, unpack_frames_ref,
                                      warp_blend_ref, warp_disagreement_ref)

    rng = random.Random(int(sys.argv[1]))
    EXTREME = [-2**62, -2**31, -1, 0, 1, 2, 3, 7, 8, 16, 2**16 + 1, 2**31, 2**32, 2**32 + 16, 2**62]
    SIDES = [0, 1, 2, 5, 9, 16]
    counts = {"cases": 0, "errors": 0, "checked": 0, "fake_errors": 0, "fake_checked": 0, "fake_data_dependent": 0}
    logging.getLogger("torch._subclasses.fake_tensor").setLevel(logging.CRITICAL)  # it logs every TypeError
    DATA_DEPENDENT = ("offsets[", "are too small for patches")  # errors only the tensors' values (or DIS levels) show

    def pick(xs):
        return rng.choice(xs)

    DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    device = "cpu"  # of the current call

    def values(shape, dtype, special=False):
        wide = tuple(shape[:-1]) + (2 * shape[-1],) if shape and rng.random() < 0.3 else None  # a strided layout
        full = wide or tuple(shape)
        if dtype == torch.uint8:
            t = torch.randint(0, 256, full, dtype=dtype)
        else:
            t = torch.rand(full) * 2 - 1
            if special and t.numel() and rng.random() < 0.3:  # NaN / inf somewhere (generator outputs)
                t.view(-1)[rng.randrange(t.numel())] = pick([float("nan"), float("inf"), -float("inf")])
            t = t.to(dtype)
        t = t.to(device)
        return t[..., ::2] if wide else t

    def attempt(name, call, args, reference, compare):
        """call(*args): a clear error or what reference(*args) gives; the shape-only kernel agrees."""
        counts["cases"] += 1
        try:
            got = call(*args)
        except (ValueError, TypeError) as exc:
            assert str(exc).strip(), name  # a message, not an empty error
            counts["errors"] += 1
            shape_only_agrees(name, call, args, exc, None)
            return
        want = reference(*args)
        compare(got, want)
        counts["checked"] += 1
        shape_only_agrees(name, call, args, None, got)

    def shape_only_agrees(name, call, args, error, got):
        mode = FakeTensorMode()
        fake = tree_map(lambda x: mode.from_tensor(x) if isinstance(x, torch.Tensor) else x, args)
        try:
            with mode:
                out = call(*fake)
        except (ValueError, TypeError) as exc:
            assert error is not None, f"{name}: the shape-only kernel refuses a call the op takes: {exc}"
            assert isinstance(exc, ValueError) == isinstance(error, ValueError), (name, str(exc), str(error))
            if "must be in [" in str(error):  # the integer ranges, word for word
                assert str(exc) == str(error), (name, str(exc), str(error))
            counts["fake_errors"] += 1
            return
        if error is not None:
            assert any(d in str(error) for d in DATA_DEPENDENT), f"{name}: the shape-only kernel takes: {error}"
            counts["fake_data_dependent"] += 1
            return
        outs, gots = (out, got) if isinstance(got, tuple) else ((out,), (got,))
        for o, g in zip(outs, gots, strict=True):
            assert o.shape == g.shape and o.dtype == g.dtype and o.device == g.device, (name, o, g.shape, g.dtype)
        counts["fake_checked"] += 1

    def exact(got, want):
        assert got.shape == want.shape and torch.equal(got, want), (got.shape, want.shape)

    def close(got, want):
        if isinstance(got, tuple):
            for g, w in zip(got, want, strict=True):
                close(g, w)
            return
        assert got.shape == want.shape
        torch.testing.assert_close(got.float(), want.float(), atol=1e-3, rtol=1e-3, equal_nan=True)

    def near_u8(got, want):  # uint8 frames: rounding of nearly-half values may differ by one level
        assert got.shape == want.shape
        assert (got.int() - want.int()).abs().max().item() <= 1 if got.numel() else True

    for _ in range(int(sys.argv[2])):
        device = pick(DEVICES)
        op = pick(["pack", "unpack", "strips", "corr", "warp", "dis"])
        if op == "pack":
            pairs = values((pick([0, 1, 2]), 2, pick(SIDES), pick(SIDES), 3), pick([torch.uint8, torch.float32]))
            m, dt = pick(EXTREME), pick([torch.float32, torch.float16, torch.int64])
            attempt(op, ops.pack_pairs, (pairs, m, dt), pack_pairs_ref, close)
        elif op == "unpack":
            out = values((pick([0, 1, 2]), pick([0, 3, 4, 6]), pick(SIDES), pick(SIDES)),
                         pick([torch.float32, torch.float16, torch.uint8]), special=True)
            h, w = pick(EXTREME + SIDES), pick(EXTREME + SIDES)
            attempt(op, ops.unpack_frames, (out, h, w), unpack_frames_ref, near_u8)
        elif op == "strips":
            frames = pick([0, 1, 3, 7, 2**31, 2**32 + 7])
            tile = pick([1, 8, 12])
            strips = values((pick([1, 2]), tile, 7 * tile, 3), torch.uint8)
            size, load = pick(EXTREME + [4, 8, 12]), pick([None, None] + EXTREME + [10, 14])
            inputs = pick([[5, 6], [6, 7], [-1, 0], [2**32 + 5, 6]])
            targets = pick([[0, 1, 2, 3, 4], [0], [2**31]])
            offsets = None
            if rng.random() < 0.4:
                offsets = torch.tensor([[pick(EXTREME + [0, 1, 2]), pick(EXTREME + [0, 1])]] * strips.shape[0],
                                       device=device)
            attempt(op, ops.preprocess_strips, (strips, frames, inputs, targets, size, load, offsets),
                    preprocess_strips_ref, close)
        elif op == "corr":
            shape = (pick([0, 1, 2]), pick([1, 3]), pick(SIDES[1:]), pick(SIDES[1:]))
            f1, f2 = values(shape, torch.float32), values(shape, torch.float32)
            d = pick(EXTREME)
            attempt(op, lambda *a: ops.correlation(*a, normalize=False), (f1, f2, d),
                    lambda *a: correlation_ref(*a, normalize=False), close)
        elif op == "warp":
            b, n, hp, wp = pick([1, 2]), pick([1, 2]), pick(SIDES[1:]), pick(SIDES[1:])
            i0, i1 = values((b, 3, hp, wp), torch.float32), values((b, 3, hp, wp), torch.float32)
            f0, f1 = values((b, n, 2, hp, wp), torch.float32) * 4, values((b, n, 2, hp, wp), torch.float32) * 4
            mask, res = torch.rand(b, n, 1, hp, wp, device=device), values((b, n, 3, hp, wp), torch.float32)
            h, w = pick(EXTREME + SIDES), pick(EXTREME + SIDES)
            alpha, times = None, None  # the crossfade fallback, sometimes, with its times (maybe mis-shaped)
            if rng.random() < 0.4:
                alpha, times = torch.rand(b, n, 1, hp, wp, device=device), torch.rand(pick([n, n, n + 1]), device=device)
            attempt(op, ops.warp_blend, (i0, i1, f0, f1, mask, res, h, w, alpha, times), warp_blend_ref, near_u8)
            attempt("disagree", ops.warp_disagreement, (i0, i1, f0, f1), warp_disagreement_ref, close)
        else:
            side = (pick([8, 12, 20]), pick([8, 12, 24]))
            a, b = values((1, *side, 3), torch.uint8), values((1, *side, 3), torch.uint8)
            key = pick(list(ops.DIS_PARAMS[:6]))
            params = {key: pick(EXTREME)}

            def finite_flow(flow, _):
                assert flow.shape == (1, 2, *side) and torch.isfinite(flow).all()
            attempt(op, lambda *f: ops.dis_flow(*f, **params), (a, b), lambda *f: None, finite_flow)
    print(json.dumps(counts))
''')


def test_every_op_gives_a_clear_error_or_the_reference_answer():
    result = subprocess.run([sys.executable, "-c", FUZZ, "20261130", "600"], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, f"the fuzz process failed (rc {result.returncode}):\n{result.stderr[-3000:]}"
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"fuzz (seed 20261130, 600 draws): {counts}")
    assert counts["errors"] > 100 and counts["checked"] > 30, counts  # both paths exercised
    assert counts["cases"] == counts["errors"] + counts["checked"]
    assert counts["fake_errors"] + counts["fake_data_dependent"] == counts["errors"] > counts["fake_data_dependent"]
    assert counts["fake_checked"] == counts["checked"]


def test_the_shape_only_kernels_check_integers_as_the_ops_do():
    """Under FakeTensorMode (torch.compile's tracing) the fake kernels refuse the integers the C++
    ops refuse, with the same messages: no wrapped value reaches a traced graph (the strip count and
    tile indices, and every integer of preprocess_strips_into, were taken)."""
    import pytest
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    from pyframegan import ops
    bad = 2 ** 32 + 16
    strips_op = torch.ops.pyframegan.preprocess_strips
    with FakeTensorMode():
        strips = torch.empty(1, 8, 56, 3, dtype=torch.uint8)
        pairs = torch.empty(1, 2, 8, 8, 3, dtype=torch.uint8)
        out = torch.empty(1, 15, 8, 8)
        feats = torch.empty(1, 4, 8, 8)
        frames = torch.empty(1, 16, 16, 3, dtype=torch.uint8)
        cases = [
            (lambda: torch.ops.pyframegan.preprocess_strips(strips, 7, [5, 6], [0], 4, bad, None, None, torch.float32),
             "load_size must be in"),
            (lambda: torch.ops.pyframegan.pack_pairs(pairs, bad, torch.float32), "multiple must be in"),
            (lambda: torch.ops.pyframegan.unpack_frames(out, bad, 8), "cannot crop 4294967312x8 frames"),  # as the op
            (lambda: torch.ops.pyframegan.correlation(feats, feats, bad), "max_displacement must be in"),
            (lambda: torch.ops.pyframegan.dis_flow(frames, frames, *[bad if k == "patch_size" else ops.dis_params()[k]
                                                                     for k in ops.DIS_PARAMS]),
             "patch_size must be in"),
            (lambda: strips_op(strips, bad, [5, 6], [0], 4, None, None, None, torch.float32),
             r"frames must be in \[1, 64\], got 4294967312"),
            (lambda: strips_op(strips, 7, [5, bad], [0], 4, None, None, None, torch.float32),
             "tile index 4294967312 in inputs is out of range"),
            (lambda: torch.ops.pyframegan.preprocess_strips_into(strips, 7, [5, 6], [0], 4, bad, None, None,
                                                                  torch.empty(1, 6, 4, 4), torch.empty(1, 3, 4, 4)),
             "load_size must be in"),
        ]
        for call, message in cases:
            with pytest.raises(ValueError, match=message):
                call()
