"""The training loop: steps, logging, validation, samples, checkpoints, resume; `pyframegan train`."""
from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import sys
import time

import torch
import torch.distributed as dist
from PIL import Image
from tqdm import tqdm

from pyframegan.files import atomic_write
from pyframegan.models import count_parameters
from pyframegan.training.batches import StripData
from pyframegan.training.checkpoint import (CHECKPOINT_FORMAT, CHECKPOINT_VERSION, load_checkpoint, rng_state,
                                            save_checkpoint, set_rng_state)
from pyframegan.training.config import TrainConfig, check_config, config_from_args, merge_resume_config, resolve_layout
from pyframegan.training.env import DistEnv, pick_device
from pyframegan.training.gan import Pix2Pix
from pyframegan.training.run_dir import RunDir
from pyframegan.training.validation import sample_picture, validate


class _Mean:
    """Running sums of detached loss tensors; reading them is the only device sync."""

    def __init__(self):
        self.sums: dict[str, torch.Tensor] = {}
        self.count = 0
        self.since = time.perf_counter()

    def add(self, losses: dict[str, torch.Tensor]) -> None:
        for k, v in losses.items():
            self.sums[k] = self.sums[k] + v if k in self.sums else v.clone()
        self.count += 1

    def read(self, env: DistEnv, strips_per_step: int) -> dict[str, float]:
        keys = sorted(self.sums)
        means = torch.stack([self.sums[k].float() for k in keys]) / max(self.count, 1)
        if env.distributed:
            dist.all_reduce(means)
            means /= env.world_size
        elapsed = time.perf_counter() - self.since
        out = dict(zip(keys, means.tolist()))
        out["strips_per_s"] = self.count * strips_per_step / max(elapsed, 1e-9)
        self.__init__()
        return out


class Trainer:
    def __init__(self, cfg: TrainConfig, data: StripData, device: torch.device, env: DistEnv,
                 progress: bool = True):
        self.cfg, self.data, self.device, self.env = cfg, data, device, env
        self.run = RunDir(cfg.run_dir)
        torch.manual_seed(cfg.seed)  # identical initial weights on every rank
        self.model = Pix2Pix(cfg, device, distributed=env.distributed)
        torch.manual_seed(cfg.seed + 1 + env.rank)  # dropout: different on every rank
        self.crop_gen = torch.Generator().manual_seed(cfg.seed + 1_000_003 * (env.rank + 1))
        self.step = 0
        self.progress = progress and env.main
        if env.main:  # fixed strips for validation and sample pictures, decoded once
            self.val_strips = data.pick(data.val, cfg.val_strips) if data.val is not None else None
            self.sample_strips = data.pick(data.val if data.val is not None else data.train, cfg.samples)

    # -- logging -----------------------------------------------------------------------------
    def say(self, text: str) -> None:
        if self.env.main:
            tqdm.write(text)

    def describe(self) -> None:
        c, m = self.cfg, self.model
        shape = (f"ngf {c.ngf}, depth {c.depth}, norm {c.norm}, dropout {'on' if c.dropout else 'off'}"
                 if c.arch == "unet" else f"times {', '.join(f'{t:.3g}' for t in c.target_times())}")
        self.say(f"generator {m.g.config['arch']}: {count_parameters(m.g):,} parameters "
                 f"({3 * len(c.inputs)} -> {3 * len(c.targets)} channels, {shape})")
        self.say(f"discriminator {m.d.config['arch']}: {count_parameters(m.d):,} parameters "
                 f"(ndf {c.ndf}, {c.d_layers} layers)")
        n_val = len(self.data.val) if self.data.val is not None else 0
        self.say(f"strips: {len(self.data.train)} train, {n_val} validation, tiles "
                 f"{self.data.tile_hw[0]}x{self.data.tile_hw[1]}; crops {c.size} px"
                 + (f" from {c.load_size} px" if c.load_size else "")
                 + f"; device {self.device}, amp {self.model.amp_dtype or 'off'}, "
                 f"{self.env.world_size} process(es) x batch {c.batch_size}")

    # -- checkpoints -------------------------------------------------------------------------
    def checkpoint(self) -> None:
        states = [rng_state(self.crop_gen, self.device)]
        if self.env.distributed:  # collective: every rank takes part, rank 0 writes
            states = [None] * self.env.world_size
            dist.all_gather_object(states, rng_state(self.crop_gen, self.device))
        if not self.env.main:
            return
        state = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, "step": self.step,
                 "config": dataclasses.asdict(self.cfg),
                 "model": {"generator": self.model.g.config, "discriminator": self.model.d.config},
                 "world_size": self.env.world_size, "rng": states, **self.model.state_dict()}
        save_checkpoint(state, self.run.last)
        if self.cfg.keep_every and self.step % self.cfg.keep_every == 0:
            kept = self.run.checkpoints / f"step_{self.step:06d}.pt"
            kept.unlink(missing_ok=True)
            try:
                os.link(self.run.last, kept)  # last.pt is later replaced, never rewritten in place
            except OSError:
                shutil.copyfile(self.run.last, kept)

    def restore(self) -> None:
        state = load_checkpoint(self.run.last)
        self.model.load_state_dict(state)
        self.step = int(state["step"])
        rngs = state["rng"]
        if len(rngs) == self.env.world_size:
            set_rng_state(rngs[self.env.rank], self.crop_gen, self.device)
        else:
            self.say(f"resuming on {self.env.world_size} process(es) a run saved on {len(rngs)}: "
                     "random states start afresh")
        if self.env.main:
            self.run.truncate_log(self.step)
        self.say(f"resumed {self.run.root} at step {self.step}")

    # -- periodic work on rank 0 ---------------------------------------------------------------
    def validate(self) -> None:
        if not self.env.main or self.data.val is None:
            return
        m = validate(self.model, self.data, self.val_strips)
        self.run.log({"kind": "val", "step": self.step, **m})
        self.say(f"step {self.step} validation: "
                 f"PSNR {m['psnr']:.2f} dB (crossfade {m['psnr_crossfade']:.2f}), "
                 f"SSIM {m['ssim']:.4f} (crossfade {m['ssim_crossfade']:.4f}), "
                 f"L1 {m['l1']:.4f} (crossfade {m['l1_crossfade']:.4f})"
                 + (f"; DIS: PSNR {m['psnr_dis']:.2f} dB, SSIM {m['ssim_dis']:.4f}" if "psnr_dis" in m else ""))

    def sample(self) -> None:
        if self.env.main:
            picture = sample_picture(self.model, self.data, self.sample_strips)
            atomic_write(self.run.sample_path(self.step), lambda f: Image.fromarray(picture).save(f, format="PNG"),
                         durable=False)

    def _due(self, every: int) -> bool:
        return every > 0 and (self.step % every == 0 or self.step == self.cfg.steps)

    # -- the loop ------------------------------------------------------------------------------
    def fit(self) -> dict[str, float]:
        cfg, env = self.cfg, self.env
        if cfg.resume and self.run.last.exists():
            self.restore()
        elif env.main:  # a fresh run, or one killed before its first checkpoint: start from step 0
            self.run.truncate_log(0)
        self.describe()
        bar = tqdm(total=cfg.steps, initial=self.step, disable=not self.progress, unit="step",
                   dynamic_ncols=True, desc="train")
        strips_per_step = cfg.batch_size * env.world_size
        log_mean, bar_mean = _Mean(), _Mean()
        last: dict[str, float] = {}
        batches = self.data.batches(self.step, self.device)
        synthetic = self.data.synthetic_batches(self.step, self.device) if cfg.synthetic else None
        try:
            while self.step < cfg.steps:
                strips = next(batches)
                offsets, flips = self.data.random_crops(strips.shape[0], self.crop_gen, self.device)
                inputs, targets = self.data.preprocess(strips, offsets, flips)
                truth = None
                if synthetic is not None:
                    inputs, targets, truth = self.data.with_synthetic(inputs, targets, next(synthetic))
                step_losses = self.model.step(inputs, targets, truth)
                self.step += 1
                log_mean.add(step_losses)
                bar_mean.add(step_losses)
                bar.update(1)
                if self._due(cfg.log_every):
                    last = log_mean.read(env, strips_per_step)
                    if env.main:
                        self.run.log({"kind": "train", "step": self.step,
                                      "lr": self.model.opt_g.param_groups[0]["lr"], **last})
                if self.progress and (self.step % 10 == 0 or self.step == cfg.steps):
                    m = bar_mean.read(DistEnv(), strips_per_step)  # local losses: no collective here
                    extra = {"EPE": f"{m['loss_g_flow_epe']:.2f}"} if "loss_g_flow_epe" in m else {}
                    bar.set_postfix(G=f"{m['loss_g_gan']:.3f}", L1=f"{m['loss_g_l1']:.4f}",
                                    D=f"{m['loss_d']:.3f}", **extra, strips_s=f"{m['strips_per_s']:.1f}")
                if self._due(cfg.val_every):
                    self.validate()
                if self._due(cfg.sample_every):
                    self.sample()
                if self._due(cfg.checkpoint_every):
                    self.checkpoint()
        finally:
            bar.close()
            batches.close()
            if synthetic is not None:
                synthetic.close()
        return {"step": self.step, **last}


def run(cfg: TrainConfig, progress: bool = True) -> dict[str, float]:
    """Train as configured (resuming when ``cfg.resume``); returns the last logged training means.

    Every check that can fail on user input runs before the process group starts and before the
    first step: options, data (missing, undecodable, wrongly sized strips), the crop geometry."""
    env = DistEnv.from_environ()
    rundir = RunDir(cfg.run_dir)
    if cfg.resume:
        cfg = merge_resume_config(cfg, rundir.read_config(), rundir.config)
    elif rundir.last.exists():
        raise ValueError(f"{rundir.root} already holds a run ({rundir.last}); pass --resume to continue "
                         "it or choose another --run-dir")
    resolve_layout(cfg)
    check_config(cfg)
    data = StripData(cfg, env)
    device = pick_device(cfg.device, env)
    if env.distributed:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        if env.main:
            rundir.create()
            rundir.write_config({"config": dataclasses.asdict(cfg), "command": sys.argv,
                                 "tile_hw": list(data.tile_hw), "train_strips": len(data.train),
                                 "val_strips": len(data.val) if data.val is not None else 0,
                                 "world_size": env.world_size, "torch": torch.__version__,
                                 "generator": cfg.generator_config(),
                                 "discriminator": cfg.discriminator_config()})
        if env.distributed:
            dist.barrier()
        result = Trainer(cfg, data, device, env, progress=progress).fit()
        if env.distributed:
            dist.barrier()  # rank 0 may still be writing its last checkpoint
        return result
    finally:
        if env.distributed:
            dist.destroy_process_group()


def main(args: argparse.Namespace) -> int:
    run(config_from_args(args))
    return 0
