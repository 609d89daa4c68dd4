"""The dis_flow op against OpenCV's cv2.DISOpticalFlow.calc in the same run, same thread count.

  one pair, both directions (a->b and b->a), preset medium (and ultrafast / fast at 512 px):
      512x384 and 1920x1080 frames (scikit-image's astronaut, tiled and moved 3 px); ours as one
      batched call of 2 pairs, OpenCV as two calc calls on the grey frames (their grey conversion
      is timed too: ours converts inside).
  batched throughput: B = 1, 8, 32 pairs of 512x384, medium; pairs/s in extra_info. The reference
      is OpenCV running the pairs one by one.
"""
import numpy as np
import pytest
import torch

from pyframegan import ops
from devices import DEVICES

cv2 = pytest.importorskip("cv2")

SIZES = {"512x384": (384, 512), "1920x1080": (1080, 1920)}
CV_PRESETS = {"ultrafast": 0, "fast": 1, "medium": 2}


def frames(height, width, shift=3):
    import skimage.data
    photo = skimage.data.astronaut()
    tiled = np.tile(photo, (-(-(height + shift) // photo.shape[0]), -(-(width + shift) // photo.shape[1]), 1))
    return (np.ascontiguousarray(tiled[shift:height + shift, shift:width + shift]),
            np.ascontiguousarray(tiled[:height, :width]))


@pytest.fixture(autouse=True)
def same_threads():
    cv2.setNumThreads(torch.get_num_threads())


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


CASES = [("512x384", "medium"), ("1920x1080", "medium"), ("512x384", "ultrafast"), ("512x384", "fast")]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("size,preset", CASES)
@pytest.mark.parametrize("impl", ["dis_flow", "opencv reference"])
def test_pair_both_directions(benchmark, impl, size, preset, device):
    if impl != "dis_flow" and device != "cpu":
        pytest.skip("OpenCV runs on the CPU")
    benchmark.group = f"DIS {preset} {size}, one pair both directions ({device})"
    a, b = frames(*SIZES[size])
    if impl == "dis_flow":
        first = torch.from_numpy(np.stack([a, b])).to(device)
        second = torch.from_numpy(np.stack([b, a])).to(device)

        def run():
            out = ops.dis_flow(first, second, preset)
            sync(device)
            return out
    else:
        dis = cv2.DISOpticalFlow_create(CV_PRESETS[preset])

        def run():
            ga, gb = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
            return dis.calc(ga, gb, None), dis.calc(gb, ga, None)
    benchmark.pedantic(run, rounds=3 if size == "1920x1080" else 10, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("batch", [1, 8, 32])
@pytest.mark.parametrize("impl", ["dis_flow", "opencv reference"])
def test_batched_throughput(benchmark, impl, batch, device):
    if impl != "dis_flow" and device != "cpu":
        pytest.skip("OpenCV runs on the CPU")
    benchmark.group = f"DIS medium 512x384, batch of {batch} pairs ({device})"
    a, b = frames(384, 512)
    if impl == "dis_flow":
        first = torch.from_numpy(np.stack([a] * batch)).to(device)
        second = torch.from_numpy(np.stack([b] * batch)).to(device)

        def run():
            out = ops.dis_flow(first, second)
            sync(device)
            return out
    else:
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)

        def run():
            return [dis.calc(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b, cv2.COLOR_RGB2GRAY), None)
                    for _ in range(batch)]
    benchmark.pedantic(run, rounds=3 if batch == 32 else 5, iterations=1, warmup_rounds=1)
    if benchmark.stats is not None:  # None when plain pytest runs the benchmark once as a smoke test
        benchmark.extra_info["pairs_per_s"] = round(batch / benchmark.stats.stats.median, 1)
