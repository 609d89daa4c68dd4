"""Training batches: strips (train / validation split, epochs, crops) and synthetic windows with exact flows."""
from __future__ import annotations

from typing import Iterator, NamedTuple

import torch
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler

from pyframegan.data import StripCollate, open_strip_dataset
from pyframegan.data.sources import default_sources
from pyframegan.data.synthetic import RenderedWindows, SyntheticMotion
from pyframegan.ops import preprocess_strips, random_crops
from pyframegan.training.config import TrainConfig
from pyframegan.training.env import DistEnv


class SyntheticTruth(NamedTuple):
    """The exact motion of the k synthetic windows a step appends to its strip batch: they are the
    batch's last k rows (see :meth:`StripData.with_synthetic`)."""
    flow_01: torch.Tensor            # [k, 2, S, S]
    flow_10: torch.Tensor            # [k, 2, S, S]
    visibility_inputs: torch.Tensor  # [k, 2, S, S]: where each input's flow is valid
    flow_t0: torch.Tensor            # [k, n, 2, S, S]
    flow_t1: torch.Tensor            # [k, n, 2, S, S]
    visibility: torch.Tensor         # [k, n, 2, S, S]

    @property
    def count(self) -> int:
        return self.flow_01.shape[0]

    def first_row(self, batch: int) -> int:
        """Where the windows start in a batch of ``batch`` rows."""
        return batch - self.count


class StripData:
    """Training / validation strips and the preprocessing of a batch on the training device."""

    def __init__(self, cfg: TrainConfig, env: DistEnv):
        self.cfg, self.env = cfg, env
        dataset = open_strip_dataset(cfg.data, frames=cfg.frames, step=cfg.strip_step,
                                     tile_size=cfg.tile_size, max_side=cfg.max_side)
        self.tile_hw = tuple(dataset.tile_hw)
        h, w = self.tile_hw
        if cfg.load_size is None and (cfg.size > h or cfg.size > w):
            raise ValueError(f"--size {cfg.size} is larger than the {h}x{w} tiles of the strips in "
                             f"{', '.join(cfg.data)}; lower --size, or pass --load-size (or --tile-size)")
        self.train, self.val = dataset.split(cfg.val_fraction) if cfg.val_fraction > 0 else (dataset, None)
        if self.val is not None and len(self.val) == 0:
            self.val = None
        per_rank = len(self.train) // env.world_size
        if per_rank < cfg.batch_size:
            raise ValueError(f"{len(self.train)} training strips in {', '.join(cfg.data)} are too few for "
                             f"--batch-size {cfg.batch_size} on {env.world_size} process(es)")
        self.sampler = DistributedSampler(self.train, num_replicas=env.world_size, rank=env.rank,
                                          shuffle=True, seed=cfg.seed, drop_last=True)
        self.batches_per_epoch = len(self.sampler) // cfg.batch_size

    def batches(self, start_step: int, device: torch.device) -> Iterator[torch.Tensor]:
        """uint8 strips [B, H, F*W, 3] on ``device``, endlessly, epoch after epoch; the order
        depends only on (seed, epoch), so a run resumed at ``start_step`` sees the same batches."""
        epoch, skip = divmod(start_step, self.batches_per_epoch)
        pin = device.type == "cuda"
        while True:
            self.sampler.set_epoch(epoch)
            indices = list(self.sampler)[skip * self.cfg.batch_size:]
            loader = DataLoader(self.train, batch_size=self.cfg.batch_size, sampler=indices,
                                drop_last=True, num_workers=self.cfg.workers, pin_memory=pin,
                                collate_fn=StripCollate(),
                                generator=torch.Generator().manual_seed(self.cfg.seed + epoch))
            for strips in loader:
                yield strips.to(device, non_blocking=True)
            epoch, skip = epoch + 1, 0

    def synthetic_batches(self, start_step: int, device: torch.device) -> Iterator[dict[str, torch.Tensor]]:
        """``--synthetic`` windows a step of synthetic motion at --size, with their exact flows
        (the dict of :meth:`SyntheticMotion.render`, batched), endlessly; window i of the run is
        a pure function of (seed, i), so a resumed run sees the same windows."""
        c = self.cfg
        sources, _ = default_sources()
        motion = SyntheticMotion(sources, size=(c.size, c.size), max_shift=c.synthetic_shift, seed=c.seed + 7919)
        loader = DataLoader(RenderedWindows(motion), batch_size=c.synthetic,
                            sampler=range(start_step * c.synthetic, 2 ** 62), num_workers=c.workers,
                            pin_memory=device.type == "cuda")
        for item in loader:
            yield {k: v.to(device, non_blocking=True) for k, v in item.items()}

    def with_synthetic(self, inputs: torch.Tensor, targets: torch.Tensor,
                       window: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, SyntheticTruth]:
        """The batch with a batch of rendered synthetic windows (rendered at --size: the whole tile,
        unflipped) appended as its last rows, and their exact motion."""
        more = self.preprocess(window["strip"])
        truth = SyntheticTruth(*(window[name] for name in SyntheticTruth._fields))
        return torch.cat([inputs, more[0]]), torch.cat([targets, more[1]]), truth

    def preprocess(self, strips: torch.Tensor, offsets: torch.Tensor | None = None,
                   flips: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The fused op on a batch (its outputs' memory is reused from step to step: by the op's
        pool of large CPU outputs, by the caching allocator on CUDA)."""
        c = self.cfg
        return preprocess_strips(strips, c.frames, c.inputs, c.targets, c.size, c.load_size, offsets, flips)

    def random_crops(self, batch: int, generator: torch.Generator, device: torch.device):
        c = self.cfg
        return random_crops(batch, self.tile_hw, c.size, c.load_size, flip=c.flip, generator=generator,
                            device=device)

    def pick(self, split, count: int) -> torch.Tensor:
        """``count`` strips of ``split`` evenly spaced over it, stacked (uint8, CPU)."""
        idx = torch.linspace(0, len(split) - 1, min(count, len(split))).round().long().unique().tolist()
        return torch.stack([split[i] for i in idx])
