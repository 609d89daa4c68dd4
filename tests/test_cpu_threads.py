"""The CPU kernels' thread pool (csrc/ops/cpu/task_pool.cpp), seen through the ops that use it:
results do not depend on the thread count, on other threads calling at the same time, or on a fork."""
import multiprocessing
import threading

import numpy as np
import pytest
import torch

from pyframegan import ops


def pair(h=96, w=128, shift=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    base = torch.randint(0, 256, (h + 8, w + 8, 3), dtype=torch.uint8, generator=g)
    base = torch.nn.functional.avg_pool2d(base.permute(2, 0, 1)[None].float(), 3, 1, 1)[0].permute(1, 2, 0).byte()
    return base[4:h + 4, 4:w + 4].contiguous(), base[4 + shift:h + 4 + shift, 4:w + 4].contiguous()


@pytest.fixture
def threads():
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def test_flows_do_not_depend_on_the_thread_count(threads):
    a, b = pair(192, 256)
    batch = (torch.stack([a, b, a]), torch.stack([b, a, b.flip(1)]))
    out = {}
    for n in (1, 2, 3):
        threads(n)
        out[n] = (ops.dis_flow(a, b), ops.dis_flow(*batch))
    for n in (2, 3):
        assert torch.equal(out[n][0], out[1][0]) and torch.equal(out[n][1], out[1][1])


def test_concurrent_callers_get_their_own_results(threads):
    threads(2)
    pairs = [pair(seed=s) for s in range(6)]
    expected = [ops.dis_flow(a, b) for a, b in pairs]
    got, errors = [None] * len(pairs), []

    def work(i):
        try:
            for _ in range(3):
                got[i] = ops.dis_flow(*pairs[i])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(len(pairs))]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in workers)
    for e, g in zip(expected, got):
        assert torch.equal(e, g)


def _flow_in_child(queue, a, b):
    torch.set_num_threads(1)  # as DataLoader's workers do: torch's own OpenMP team does not survive a fork
    queue.put(ops.dis_flow(torch.from_numpy(a), torch.from_numpy(b)).numpy())


def test_a_forked_child_computes_flows_after_the_parent_used_the_pool(threads):
    threads(2)
    a, b = pair()
    expected = ops.dis_flow(a, b).numpy()  # the parent's pool has started its workers
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_flow_in_child, args=(queue, a.numpy(), b.numpy()))
    child.start()
    got = queue.get(timeout=120)
    child.join(timeout=60)
    assert child.exitcode == 0
    np.testing.assert_array_equal(got, expected)
