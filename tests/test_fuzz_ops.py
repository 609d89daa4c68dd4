"""Seeded fuzz of every op's arguments (shapes including 0 and 1, dtypes, strided layouts, the CPU and
a CUDA device where there is one, extreme integers, NaN/inf): each call gives a clear error
(ValueError / TypeError) or the reference's answer. The calls run in a subprocess, so a crash (a segfault from a wrapped integer,
an out-of-bounds read) fails the test instead of killing the test run."""
import json
import subprocess
import sys
import textwrap

FUZZ = textwrap.dedent('''
    import json, random, sys
    import torch
    from pyframegan import ops
    from pyframegan.reference import (correlation_ref, pack_pairs_ref, preprocess_strips_ref, unpack_frames_ref,
                                      warp_blend_ref, warp_disagreement_ref)

    rng = random.Random(int(sys.argv[1]))
    EXTREME = [-2**62, -2**31, -1, 0, 1, 2, 3, 7, 8, 16, 2**16 + 1, 2**31, 2**32, 2**32 + 16, 2**62]
    SIDES = [0, 1, 2, 5, 9, 16]
    counts = {"errors": 0, "checked": 0}

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

    def attempt(name, call, reference, compare):
        try:
            got = call()
        except (ValueError, TypeError) as exc:
            assert str(exc).strip(), name  # a message, not an empty error
            counts["errors"] += 1
            return
        want = reference()
        compare(got, want)
        counts["checked"] += 1

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
            attempt(op, lambda: ops.pack_pairs(pairs, m, dt), lambda: pack_pairs_ref(pairs, m, dt), close)
        elif op == "unpack":
            out = values((pick([0, 1, 2]), pick([0, 3, 4, 6]), pick(SIDES), pick(SIDES)),
                         pick([torch.float32, torch.float16, torch.uint8]), special=True)
            h, w = pick(EXTREME + SIDES), pick(EXTREME + SIDES)
            attempt(op, lambda: ops.unpack_frames(out, h, w), lambda: unpack_frames_ref(out, h, w), near_u8)
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
            attempt(op, lambda: ops.preprocess_strips(strips, frames, inputs, targets, size, load, offsets),
                    lambda: preprocess_strips_ref(strips, frames, inputs, targets, size, load, offsets), close)
        elif op == "corr":
            shape = (pick([0, 1, 2]), pick([1, 3]), pick(SIDES[1:]), pick(SIDES[1:]))
            f1, f2 = values(shape, torch.float32), values(shape, torch.float32)
            d = pick(EXTREME)
            attempt(op, lambda: ops.correlation(f1, f2, d, normalize=False),
                    lambda: correlation_ref(f1, f2, d, normalize=False), close)
        elif op == "warp":
            b, n, hp, wp = pick([1, 2]), pick([1, 2]), pick(SIDES[1:]), pick(SIDES[1:])
            i0, i1 = values((b, 3, hp, wp), torch.float32), values((b, 3, hp, wp), torch.float32)
            f0, f1 = values((b, n, 2, hp, wp), torch.float32) * 4, values((b, n, 2, hp, wp), torch.float32) * 4
            mask, res = torch.rand(b, n, 1, hp, wp, device=device), values((b, n, 3, hp, wp), torch.float32)
            h, w = pick(EXTREME + SIDES), pick(EXTREME + SIDES)
            alpha, times = None, None  # the crossfade fallback, sometimes, with its times (maybe mis-shaped)
            if rng.random() < 0.4:
                alpha, times = torch.rand(b, n, 1, hp, wp, device=device), torch.rand(pick([n, n, n + 1]), device=device)
            attempt(op, lambda: ops.warp_blend(i0, i1, f0, f1, mask, res, h, w, alpha, times),
                    lambda: warp_blend_ref(i0, i1, f0, f1, mask, res, h, w, alpha, times), near_u8)
            attempt("disagree", lambda: ops.warp_disagreement(i0, i1, f0, f1),
                    lambda: warp_disagreement_ref(i0, i1, f0, f1), close)
        else:
            side = (pick([8, 12, 20]), pick([8, 12, 24]))
            a, b = values((1, *side, 3), torch.uint8), values((1, *side, 3), torch.uint8)
            key = pick(list(ops.DIS_PARAMS[:6]))
            params = {key: pick(EXTREME)}
            def dis():
                flow = ops.dis_flow(a, b, **params)
                assert flow.shape == (1, 2, *side) and torch.isfinite(flow).all()
                return flow
            attempt(op, dis, lambda: None, lambda got, want: None)
    print(json.dumps(counts))
''')


def test_every_op_gives_a_clear_error_or_the_reference_answer():
    result = subprocess.run([sys.executable, "-c", FUZZ, "20261130", "600"], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, f"the fuzz process failed (rc {result.returncode}):\n{result.stderr[-3000:]}"
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    assert counts["errors"] > 100 and counts["checked"] > 30, counts  # both paths exercised


def test_the_shape_only_kernels_check_integers_as_the_ops_do():
    """Under FakeTensorMode (torch.compile's tracing) the fake kernels refuse the integers the C++
    ops refuse, with the same messages: no wrapped value reaches a traced graph."""
    import pytest
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode

    from pyframegan import ops
    bad = 2 ** 32 + 16
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
            (lambda: torch.ops.pyframegan.unpack_frames(out, bad, 8), "height must be in"),
            (lambda: torch.ops.pyframegan.correlation(feats, feats, bad), "max_displacement must be in"),
            (lambda: torch.ops.pyframegan.dis_flow(frames, frames, *[bad if k == "patch_size" else ops.dis_params()[k]
                                                                     for k in ops.DIS_PARAMS]),
             "patch_size must be in"),
        ]
        for call, message in cases:
            with pytest.raises(ValueError, match=message):
                call()
