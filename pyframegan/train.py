"""`pyframegan train`: pix2pix training on frame strips, single process or DDP under torchrun.

Run directory (``--run-dir``)::

    config.json            every option, resolved (strip layout, tile size, world size, versions)
    metrics.jsonl          one JSON object a line: {"kind": "train"|"val", "step": ..., ...}
    samples/step_XXXXXX.png  rows of  input frames | ground truth | generated
    checkpoints/last.pt    written atomically; everything needed by --resume

Checkpoints hold only tensors, numbers, strings and plain containers: they load with
``torch.load(path, weights_only=True)`` (see :func:`load_checkpoint`, :func:`load_generator`).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from PIL import Image
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler
from tqdm import tqdm

from pyframegan import losses, metrics
from pyframegan.data import StripCollate, open_strip_dataset
from pyframegan.data.debian import default_sources
from pyframegan.data.strips import seed_layout
from pyframegan.data.synthetic import RenderedWindows, SyntheticMotion
from pyframegan.models import NORMS, build_discriminator, build_generator, count_parameters
from pyframegan.models.flow import check_displacements
from pyframegan.models.hybrid import pseudo_label_loss
from pyframegan.ops import preprocess_strips, random_crops, unpack_frames

CHECKPOINT_FORMAT = "pyframegan-checkpoint"
CHECKPOINT_VERSION = 1
GAN_MODES = ("vanilla", "lsgan")
ARCHS = ("unet", "flow", "hybrid")
FRAME_LOSSES = {"l1": F.l1_loss, "charbonnier": losses.charbonnier, "psnr": losses.log_mse}
AMP_MODES = ("auto", "off", "fp16", "bf16")


# ==================================================================================================
# Configuration
# ==================================================================================================
@dataclass
class TrainConfig:
    """Every option of a training run (the CLI options, with the same names and defaults)."""
    data: list[str] = field(default_factory=list)
    run_dir: str = "runs/pix2pix"
    resume: bool = False
    # strips and crops
    frames: int = 7
    inputs: list[int] | None = None      # None: the seed layout's (5, 6)
    targets: list[int] | None = None     # None: the seed layout's (0, 1, 2, 3, 4)
    order: list[int] | None = None       # time of each tile; None: the seed layout's 1 2 3 4 5 0 6
    strip_step: int = 1
    tile_size: int | None = None
    max_side: int | None = None
    size: int = 128
    load_size: int | None = None
    flip: bool = True
    # models
    ngf: int = 64
    depth: int = 7
    ndf: int = 64
    d_layers: int = 3
    norm: str = "batch"
    dropout: bool = True
    residual: bool = False                 # G predicts a correction to the crossfade
    arch: str = "unet"                     # generator: "unet" (pix2pix), "flow" (motion-aware) or "hybrid" (DIS + U-Net)
    hybrid_ngf: int = 24                   # hybrid generator: the U-Net's first-layer filters
    hybrid_scale: int = 4                  # hybrid generator: the U-Net runs at 1/scale resolution
    flow_levels: int = 2                   # flow generator: 2 (1/16, 1/8), 3 (+ 1/4) or 4 (+ 1/2) flow levels
    displacements: list[int] | None = None  # flow generator: cost window ±d per flow level, coarse to fine
    init_from: str | None = None           # start G and D from this checkpoint's weights (new layers keep their init)
    # optimisation
    steps: int = 100_000
    decay_steps: int | None = None       # None: half of --steps
    batch_size: int = 1
    lr: float = 2e-4
    warmup_steps: int = 0                  # learning rate rises linearly from 0 over these first steps
    beta1: float = 0.5
    beta2: float = 0.999
    gan_mode: str = "vanilla"
    lambda_l1: float = 100.0
    frame_loss: str = "l1"                 # "l1" (pix2pix) or "charbonnier"; weighted by lambda_l1
    lambda_census: float = 0.0             # weight of the census (ternary) loss
    synthetic: int = 0                     # synthetic windows with exact flows added to each batch
    synthetic_shift: float = 70.0          # their largest shift over the window, px
    lambda_flow: float = 0.0               # weight of the flow supervision on them (flow generator)
    amp: str = "auto"
    # validation, samples, checkpoints, logging
    val_fraction: float = 0.1
    val_strips: int = 64
    val_every: int = 1000
    sample_every: int = 1000
    samples: int = 4
    checkpoint_every: int = 1000
    keep_every: int = 0
    log_every: int = 50
    # execution
    workers: int = 2
    device: str = "auto"
    seed: int = 0

    @property
    def total_decay_steps(self) -> int:
        return self.steps // 2 if self.decay_steps is None else self.decay_steps

    def target_times(self) -> list[float]:
        """Times of the targets between the two inputs (0 and 1), from the strip's time order."""
        t0, t1 = (self.order[i] for i in self.inputs)
        return [(self.order[i] - t0) / (t1 - t0) for i in self.targets]

    def generator_config(self) -> dict:
        if self.arch == "hybrid":
            return {"arch": "hybrid", "n_in": 2, "n_out": len(self.targets), "times": self.target_times(),
                    "ngf": self.hybrid_ngf, "scale": self.hybrid_scale}
        if self.arch == "flow":
            return {"arch": "flow", "n_in": 2, "n_out": len(self.targets), "times": self.target_times(),
                    "flow_levels": self.flow_levels, "displacements": self.displacements}
        config = {"arch": "unet", "n_in": len(self.inputs), "n_out": len(self.targets), "ngf": self.ngf,
                  "depth": self.depth, "norm": self.norm, "dropout": self.dropout}
        if self.residual:
            config.update(residual=True, times=self.target_times())
        return config

    def discriminator_config(self) -> dict:
        return {"arch": "patchgan", "n_in": len(self.inputs), "n_out": len(self.targets),
                "ndf": self.ndf, "n_layers": self.d_layers, "norm": self.norm}


# options a resumed run may change; all others must match the run's config.json
RESUME_OVERRIDABLE = {"steps", "decay_steps", "val_every", "sample_every", "checkpoint_every",
                      "keep_every", "log_every", "workers", "device", "resume"}


def _int_list(text: str) -> list[int]:
    try:
        return [int(v) for v in text.replace(" ", "").split(",") if v != ""]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = TrainConfig()
    g = parser.add_argument_group("data")
    g.add_argument("--data", nargs="+", default=[], metavar="PATH",
                   help="strip folders, strip images and/or video files "
                        "(no default: required unless --resume)")
    g.add_argument("--frames", type=int, default=d.frames, help="frames per strip")
    g.add_argument("--inputs", type=_int_list, default=None, metavar="I,J",
                   help="tiles fed to the generator (default: the seed layout, 5,6 for 7 frames)")
    g.add_argument("--targets", type=_int_list, default=None, metavar="I,J,...",
                   help="tiles the generator predicts (default: the seed layout, 0,1,2,3,4 for 7 frames)")
    g.add_argument("--order", type=_int_list, default=None, metavar="T,T,...",
                   help="time position of each tile, used by the crossfade baseline (default: the seed "
                        "layout, 1,2,3,4,5,0,6 for 7 frames)")
    g.add_argument("--strip-step", type=int, default=d.strip_step,
                   help="for videos: frames between the starts of consecutive strips")
    g.add_argument("--tile-size", type=int, default=d.tile_size,
                   help="for videos: resize frames to this many pixels per side (default: keep)")
    g.add_argument("--max-side", type=int, default=d.max_side,
                   help="for videos: shrink frames whose longest side exceeds this (default: no limit)")
    g.add_argument("--size", type=int, default=d.size,
                   help="training crop size (multiple of 2^--depth)")
    g.add_argument("--load-size", type=int, default=d.load_size,
                   help="resize each tile to this square size before cropping (seed: 132 with --size 128; "
                        "default: crop the tiles as they are)")
    g.add_argument("--no-flip", dest="flip", action="store_false",
                   help="no random left-right flips (default: flips on)")
    g.add_argument("--val-fraction", type=float, default=d.val_fraction,
                   help="fraction of the strips held out for validation (0: none)")

    g = parser.add_argument_group("models")
    g.add_argument("--arch", choices=ARCHS, default=d.arch,
                   help="generator: unet (pix2pix U-Net; --ngf, --depth, --norm, --no-dropout, --residual), "
                        "flow (motion-aware: flow estimation, warping and a synthesis U-Net; starts as the "
                        "crossfade; needs 2 input tiles, --size a multiple of 32) or hybrid (DIS optical flow "
                        "and a U-Net that corrects it; starts exactly as DIS with the linear-motion warp; "
                        "needs 2 input tiles; --hybrid-ngf, --hybrid-scale; --lambda-flow weighs its "
                        "pseudo-labels: DIS flows from the true in-between frames)")
    g.add_argument("--hybrid-ngf", type=int, default=d.hybrid_ngf, help="hybrid generator: U-Net filters")
    g.add_argument("--hybrid-scale", type=int, choices=(1, 2, 4), default=d.hybrid_scale,
                   help="hybrid generator: the U-Net runs at 1/scale of the frames' resolution")
    g.add_argument("--ngf", type=int, default=d.ngf, help="generator filters in the first layer")
    g.add_argument("--depth", type=int, default=d.depth,
                   help="U-Net down-samplings (7 for 128 px, 8 for 256 px)")
    g.add_argument("--ndf", type=int, default=d.ndf, help="discriminator filters in the first layer")
    g.add_argument("--d-layers", type=int, default=d.d_layers,
                   help="PatchGAN layers (3: 70x70 receptive field)")
    g.add_argument("--norm", choices=NORMS, default=d.norm, help="normalisation layers")
    g.add_argument("--no-dropout", dest="dropout", action="store_false",
                   help="no dropout in the generator's inner decoder blocks (default: dropout on)")
    g.add_argument("--flow-levels", type=int, choices=(2, 3, 4), default=d.flow_levels,
                   help="flow generator: flow levels (2: 1/16 and 1/8; 3: also 1/4; 4: also 1/2)")
    g.add_argument("--displacements", type=_int_list, default=d.displacements, metavar="D,D,...",
                   help="flow generator: the cost window ±d of each flow level, coarse to fine (default: 3 at "
                        "1/16..1/4, 2 at 1/2); --init-from a model with other windows crops or zero-pads them")
    g.add_argument("--init-from", default=d.init_from, metavar="CHECKPOINT",
                   help="start G and D from this checkpoint's weights (layers it lacks keep their "
                        "initialisation, e.g. a flow level added with --flow-levels 3; default: none, all fresh)")
    g.add_argument("--residual", action="store_true",
                   help="the generator predicts a correction to the crossfade of the two inputs (starts "
                        "at crossfade quality; needs 2 input tiles) (default: whole frames, as pix2pix)")

    g = parser.add_argument_group("optimisation")
    g.add_argument("--steps", type=int, default=d.steps, help="training steps (batches per process)")
    g.add_argument("--decay-steps", type=int, default=d.decay_steps,
                   help="final steps over which the learning rate decays linearly to zero "
                        "(default: half of --steps); it is constant before")
    g.add_argument("--batch-size", type=int, default=d.batch_size, help="strips per step and process")
    g.add_argument("--lr", type=float, default=d.lr, help="Adam learning rate of G and D")
    g.add_argument("--warmup-steps", type=int, default=d.warmup_steps,
                   help="learning rate rises linearly from 0 over these first steps (default: none)")
    g.add_argument("--beta1", type=float, default=d.beta1, help="Adam beta1")
    g.add_argument("--beta2", type=float, default=d.beta2, help="Adam beta2")
    g.add_argument("--gan-mode", choices=GAN_MODES, default=d.gan_mode,
                   help="GAN loss: vanilla (cross-entropy) or lsgan (least squares)")
    g.add_argument("--lambda-l1", type=float, default=d.lambda_l1, help="weight of the L1 loss")
    g.add_argument("--frame-loss", choices=FRAME_LOSSES, default=d.frame_loss,
                   help="per-pixel frame loss, weighted by --lambda-l1")
    g.add_argument("--lambda-census", type=float, default=d.lambda_census,
                   help="weight of the census (ternary, 7x7) loss on the frames")
    g.add_argument("--synthetic", type=int, default=d.synthetic, metavar="K",
                   help="add K synthetic-motion windows with exact flows to every batch, rendered on "
                        "the fly at --size from the training split's photographs and clip frames")
    g.add_argument("--synthetic-shift", type=float, default=d.synthetic_shift,
                   help="largest shift of the synthetic windows over the window, px")
    g.add_argument("--lambda-flow", type=float, default=d.lambda_flow,
                   help="weight of the flow supervision (end-point error in pixels) on the synthetic windows")
    g.add_argument("--amp", choices=AMP_MODES, default=d.amp,
                   help="mixed precision; auto: bf16 (or fp16 with loss scaling) on CUDA, off on CPU")

    g = parser.add_argument_group("run")
    g.add_argument("--run-dir", default=d.run_dir,
                   help="run directory: config.json, metrics.jsonl, samples/, checkpoints/")
    g.add_argument("--resume", action="store_true",
                   help="continue the run in --run-dir from checkpoints/last.pt with its config.json")
    g.add_argument("--val-strips", type=int, default=d.val_strips,
                   help="validation strips (evenly spaced over the held-out split)")
    g.add_argument("--val-every", type=int, default=d.val_every,
                   help="validate (PSNR/SSIM of G and of the crossfade) every N steps (0: never)")
    g.add_argument("--sample-every", type=int, default=d.sample_every,
                   help="write samples/step_XXXXXX.png every N steps (0: never)")
    g.add_argument("--samples", type=int, default=d.samples, help="rows in a sample picture")
    g.add_argument("--checkpoint-every", type=int, default=d.checkpoint_every,
                   help="write checkpoints/last.pt every N steps (and at the end)")
    g.add_argument("--keep-every", type=int, default=d.keep_every,
                   help="also keep checkpoints/step_XXXXXX.pt every N steps (default: 0, only last.pt)")
    g.add_argument("--log-every", type=int, default=d.log_every,
                   help="append mean training losses to metrics.jsonl every N steps")
    g.add_argument("--workers", type=int, default=d.workers, help="DataLoader worker processes")
    g.add_argument("--device", default=d.device,
                   help="auto, cpu, cuda or cuda:N (auto: cuda:LOCAL_RANK when CUDA is available)")
    g.add_argument("--seed", type=int, default=d.seed,
                   help="seed of initialisation, data order, crops, flips and dropout (default: 0)")


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    cfg = TrainConfig(**{k: v for k, v in vars(args).items() if k in names})
    cfg.data = [str(Path(p).resolve()) for p in cfg.data]
    return cfg


def merge_resume_config(cli: TrainConfig, saved: dict, source: Path) -> TrainConfig:
    """The saved config, with the options a resumed run may change taken from the command line.

    Any other option given on the command line must agree with the saved run."""
    defaults = dataclasses.asdict(TrainConfig())
    cfg = TrainConfig(**{k: v for k, v in saved.items() if k in defaults})
    for key, value in dataclasses.asdict(cli).items():
        if value == defaults[key] or value == getattr(cfg, key):
            continue
        if key not in RESUME_OVERRIDABLE:
            allowed = ", ".join(_option(k) for k in sorted(RESUME_OVERRIDABLE - {"resume"}))
            raise ValueError(f"{_option(key)} {value} differs from {getattr(cfg, key)} in {source}; a "
                             f"resumed run keeps its config (it may change only {allowed})")
        setattr(cfg, key, value)
    cfg.resume = True
    return cfg


def check_config(cfg: TrainConfig) -> None:
    """Errors a user can fix, found before any data is read (after :func:`resolve_layout`)."""
    def need(ok: bool, message: str):
        if not ok:
            raise ValueError(message)

    need(bool(cfg.data), "no training data: pass --data with strip folders, strip images or videos")
    for name in ("inputs", "targets"):
        tiles = getattr(cfg, name)
        need(len(tiles) > 0, f"--{name} is empty")
        bad = [i for i in tiles if not 0 <= i < cfg.frames]
        need(not bad, f"--{name} {bad} outside the {cfg.frames} tiles of a strip (0..{cfg.frames - 1})")
        need(len(set(tiles)) == len(tiles), f"--{name} {tiles} names a tile twice")
    both = sorted(set(cfg.inputs) & set(cfg.targets))
    need(not both, f"tiles {both} are both --inputs and --targets")
    need(len(cfg.order) == cfg.frames, f"--order has {len(cfg.order)} times for {cfg.frames} frames")
    need(len({cfg.order[i] for i in cfg.inputs}) == len(cfg.inputs),
         f"--inputs {cfg.inputs} show the same time (--order {cfg.order})")
    need(cfg.depth >= 2, f"--depth must be at least 2, got {cfg.depth}")
    need(cfg.arch in ARCHS, f"--arch must be one of {', '.join(ARCHS)}, got {cfg.arch!r}")
    need(cfg.arch == "unet" or len(cfg.inputs) == 2, f"--arch {cfg.arch} needs 2 --inputs, got {cfg.inputs}")
    multiple = {"unet": 2 ** cfg.depth, "flow": 32}.get(cfg.arch, 1)
    need(cfg.size > 0 and cfg.size % multiple == 0,
         f"--size {cfg.size} is not a multiple of {multiple} (" +
         (f"2^depth, --depth {cfg.depth})" if cfg.arch == "unet" else "the flow generator's multiple)"))
    need(cfg.load_size is None or cfg.load_size >= cfg.size,
         f"--size {cfg.size} is larger than --load-size {cfg.load_size}: the crop must fit the resized tile")
    need(cfg.size // 2 ** cfg.d_layers >= 3,
         f"--size {cfg.size} is too small for a PatchGAN with --d-layers {cfg.d_layers}")
    for name in ("ngf", "ndf", "d_layers", "steps", "batch_size", "samples", "checkpoint_every",
                 "log_every", "strip_step", "val_strips"):
        need(getattr(cfg, name) >= 1, f"{_option(name)} must be at least 1, got {getattr(cfg, name)}")
    for name in ("val_every", "sample_every", "keep_every", "workers"):
        need(getattr(cfg, name) >= 0, f"{_option(name)} must not be negative")
    need(0 <= cfg.total_decay_steps <= cfg.steps,
         f"--decay-steps {cfg.decay_steps} must be between 0 and --steps {cfg.steps}")
    need(0.0 <= cfg.val_fraction < 1.0, f"--val-fraction must be in [0, 1), got {cfg.val_fraction}")
    need(cfg.lr > 0, f"--lr must be positive, got {cfg.lr}")
    need(cfg.norm in NORMS, f"--norm must be one of {', '.join(NORMS)}")
    need(cfg.gan_mode in GAN_MODES, f"--gan-mode must be one of {', '.join(GAN_MODES)}")
    need(cfg.amp in AMP_MODES, f"--amp must be one of {', '.join(AMP_MODES)}")
    need(cfg.frame_loss in FRAME_LOSSES, f"--frame-loss must be one of {', '.join(FRAME_LOSSES)}")
    for name in ("lambda_census", "lambda_flow", "synthetic", "synthetic_shift"):
        need(getattr(cfg, name) >= 0, f"{_option(name)} must not be negative")
    need(cfg.lambda_flow == 0 or cfg.arch == "hybrid" or (cfg.arch == "flow" and cfg.synthetic > 0),
         "--lambda-flow needs --arch hybrid (pseudo-labels), or --arch flow and --synthetic K > 0 (the flow is "
         "known only for synthetic windows)")
    need(cfg.arch != "hybrid" or cfg.synthetic == 0, "--arch hybrid learns from real windows: drop --synthetic")
    need(4 <= cfg.hybrid_ngf <= 256, f"--hybrid-ngf must be in [4, 256], got {cfg.hybrid_ngf}")
    need(cfg.hybrid_scale in (1, 2, 4), f"--hybrid-scale must be 1, 2 or 4, got {cfg.hybrid_scale}")
    need(0 <= cfg.warmup_steps <= cfg.steps, f"--warmup-steps must be between 0 and --steps {cfg.steps}")
    need(cfg.synthetic == 0 or (cfg.frames == 7 and cfg.targets == [0, 1, 2, 3, 4] and cfg.inputs == [5, 6]),
         "--synthetic renders seed-layout windows: it needs --frames 7 and the default --inputs/--targets")
    need(cfg.synthetic == 0 or cfg.load_size is None, "--synthetic renders windows at --size: drop --load-size")
    if cfg.displacements is not None:
        need(cfg.arch == "flow", "--displacements needs --arch flow")
        check_displacements(cfg.displacements, cfg.flow_levels, "--displacements")
    need(cfg.init_from is None or Path(cfg.init_from).is_file(), f"--init-from {cfg.init_from}: no such file")


def resolve_layout(cfg: TrainConfig) -> None:
    """Fill the strip roles left to the seed layout (in place)."""
    order, inputs, targets = seed_layout(cfg.frames)
    cfg.inputs = list(inputs if cfg.inputs is None else cfg.inputs)
    cfg.targets = list(targets if cfg.targets is None else cfg.targets)
    cfg.order = list(order if cfg.order is None else cfg.order)


# ==================================================================================================
# Process group and device
# ==================================================================================================
@dataclass
class DistEnv:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_environ(cls) -> "DistEnv":
        """torchrun sets RANK, WORLD_SIZE, LOCAL_RANK (and MASTER_ADDR/PORT)."""
        return cls(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                   int(os.environ.get("LOCAL_RANK", 0)))


def pick_device(requested: str, env: DistEnv) -> torch.device:
    if requested == "auto":
        requested = f"cuda:{env.local_rank}" if torch.cuda.is_available() else "cpu"
    device = torch.device(requested)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"--device {requested}: CUDA is not available")
        if device.index is None:
            device = torch.device("cuda", env.local_rank)
        torch.cuda.set_device(device)
    return device


def amp_dtype(mode: str, device: torch.device) -> torch.dtype | None:
    if mode == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"off": None, "fp16": torch.float16, "bf16": torch.bfloat16}[mode]


# ==================================================================================================
# Checkpoints
# ==================================================================================================
def atomic_write(path: Path, write) -> None:
    """``write(file)`` into a temporary file beside ``path``, fsync, then rename over ``path``:
    a reader (or a resumed run) sees the old file or the complete new one, never a torn one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    try:  # make the rename itself durable
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def save_checkpoint(state: dict, path: Path) -> None:
    atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: str | Path) -> dict:
    """A checkpoint written by :func:`save_checkpoint`, loaded with ``weights_only=True`` on the CPU."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path} is not a readable pyframegan checkpoint ({exc})") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a pyframegan checkpoint")
    return state


def load_generator(path: str | Path, device: torch.device | str = "cpu") -> torch.nn.Module:
    """The generator of a checkpoint, rebuilt from its stored config, in eval mode."""
    state = load_checkpoint(path)
    g = build_generator(state["model"]["generator"], init=False)
    g.load_state_dict(state["generator"])
    return g.to(device).eval()


def rng_state(crop_generator: torch.Generator, device: torch.device) -> dict:
    state = {"torch": torch.get_rng_state(), "crop": crop_generator.get_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, crop_generator: torch.Generator, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    crop_generator.set_state(state["crop"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


# ==================================================================================================
# The model pair and one training step
# ==================================================================================================
class Pix2Pix:
    """Generator, discriminator, their Adam optimisers and learning-rate schedules, and the step.

    Loss of G: GAN(D(x, G(x)), real) + λ·L1(G(x), y); loss of D: ½·(GAN(D(x, y), real) +
    GAN(D(x, G(x)), fake)). Under DDP both models are wrapped; the G step runs the bare D (its
    parameters get no gradient there, so there is nothing to synchronise).
    """

    def __init__(self, cfg: TrainConfig, device: torch.device, distributed: bool = False):
        self.cfg, self.device = cfg, device
        self.g = build_generator(cfg.generator_config()).to(device)
        self.d = build_discriminator(cfg.discriminator_config()).to(device)
        if cfg.lambda_flow > 0 and distributed:
            raise ValueError("--lambda-flow is not supported under DDP (torchrun); train on one process")
        if cfg.init_from and not cfg.resume:
            self.init_from(cfg.init_from)
        self.g_run, self.d_run = self.g, self.d
        if distributed:
            ids = [device.index] if device.type == "cuda" else None
            self.g_run = DistributedDataParallel(self.g, device_ids=ids)
            self.d_run = DistributedDataParallel(self.d, device_ids=ids)
        # the fused Adam kernel: ~5x faster than the default on the CPU (0.05 s vs 0.26 s for unet_128)
        adam = dict(lr=cfg.lr, betas=(cfg.beta1, cfg.beta2), fused=device.type in ("cpu", "cuda"))
        self.opt_g = torch.optim.Adam(self.g.parameters(), **adam)
        self.opt_d = torch.optim.Adam(self.d.parameters(), **adam)
        factor = lambda step: self.lr_factor(step)  # noqa: E731  (a function: not saved in state_dict)
        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, factor)
        self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, factor)
        self.amp_dtype = amp_dtype(cfg.amp, device)
        self.scaler = torch.amp.GradScaler(device.type, enabled=self.amp_dtype == torch.float16)
        self.gan_loss = (F.binary_cross_entropy_with_logits if cfg.gan_mode == "vanilla"
                         else F.mse_loss)

    def init_from(self, path: str) -> None:
        """G and D weights from another run's checkpoint; G's layers missing there (a new flow
        level) keep their initialisation, which for the flow generator's zero-initialised heads
        leaves the function unchanged. Optimiser state and step start afresh."""
        state = load_checkpoint(path)
        for name, model in (("generator", self.g), ("discriminator", self.d)):
            weights = model.fit_state_dict(state[name]) if hasattr(model, "fit_state_dict") else state[name]
            result = model.load_state_dict(weights, strict=False)
            if result.unexpected_keys or (name == "discriminator" and result.missing_keys):
                raise ValueError(f"--init-from {path}: its {name} does not fit this run's "
                                 f"(unexpected {result.unexpected_keys[:4]}, missing {result.missing_keys[:4]})")
            if result.missing_keys:
                print(f"--init-from {path}: {len(result.missing_keys)} {name} tensors not in the checkpoint "
                      f"keep their initialisation ({', '.join(result.missing_keys[:4])}, ...)")

    def lr_factor(self, step: int) -> float:
        """Linearly up from 0 over --warmup-steps, 1 until steps - decay_steps, then linearly down to 0
        at --steps."""
        warm = min(1.0, (step + 1) / self.cfg.warmup_steps) if self.cfg.warmup_steps > 0 else 1.0
        decay = self.cfg.total_decay_steps
        if decay == 0:
            return warm
        return warm * min(1.0, max(0.0, (self.cfg.steps - step) / decay))

    def autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None)

    def _gan(self, logits: torch.Tensor, real: bool) -> torch.Tensor:
        logits = logits.float()
        return self.gan_loss(logits, torch.full_like(logits, 1.0 if real else 0.0))

    def generator_losses(self, inputs: torch.Tensor, targets: torch.Tensor,
                         truth: dict[str, torch.Tensor] | None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """G's frames and the losses that do not involve D: the frame loss (weighted by
        --lambda-l1 in the total), the census loss and, when ``truth`` holds the exact flows of the
        batch's last samples (synthetic motion), the flow error of F01/F10 and of the final F_t0/F_t1."""
        cfg = self.cfg
        out: dict[str, torch.Tensor] = {}
        if cfg.arch == "hybrid" and cfg.lambda_flow > 0:
            fake, _, ft0, ft1 = self.g.synthesize(inputs)
            out["flow_pseudo"] = pseudo_label_loss(inputs.float(), targets.float(), ft0.float(), ft1.float())
        elif truth is not None and cfg.lambda_flow > 0:
            fake, flow, ft0, ft1 = self.g.synthesize(inputs)
            k, b, n = truth["flow_01"].shape[0], inputs.shape[0], len(cfg.targets)
            est = torch.cat([flow[b - k:b], flow[2 * b - k:]]).float()
            out["flow_epe"] = losses.flow_error(
                est, torch.cat([truth["flow_01"], truth["flow_10"]]),
                torch.cat([truth["visibility_inputs"][:, 0:1], truth["visibility_inputs"][:, 1:2]]))
            vis = truth["visibility"].flatten(0, 1)  # [k*n, 2, H, W]
            out["flow_t_epe"] = 0.5 * (
                losses.flow_error(ft0[(b - k) * n:].float(), truth["flow_t0"].flatten(0, 1), vis[:, 0:1])
                + losses.flow_error(ft1[(b - k) * n:].float(), truth["flow_t1"].flatten(0, 1), vis[:, 1:2]))
        else:
            fake = self.g_run(inputs)
        out["l1"] = FRAME_LOSSES[cfg.frame_loss](fake.float(), targets.float())
        if cfg.lambda_census > 0:
            out["census"] = losses.census(fake.float(), targets.float())
        return fake, out

    def step(self, inputs: torch.Tensor, targets: torch.Tensor,
             truth: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
        """One update of D then G; returns the detached losses (no device sync). ``truth``: the
        exact flows of the batch's last samples (see :meth:`generator_losses`)."""
        cfg = self.cfg
        with self.autocast():
            fake, parts = self.generator_losses(inputs, targets, truth)
            loss_d = 0.5 * (self._gan(self.d_run(inputs, fake.detach()), False)
                            + self._gan(self.d_run(inputs, targets), True))
        self.opt_d.zero_grad(set_to_none=True)
        self.scaler.scale(loss_d).backward()
        self.scaler.step(self.opt_d)

        with self.autocast():
            loss_gan = self._gan(self.d(inputs, fake), True)
            loss_g = loss_gan + cfg.lambda_l1 * parts["l1"] + cfg.lambda_census * parts.get("census", 0.0)
            if "flow_epe" in parts:
                loss_g = loss_g + cfg.lambda_flow * (parts["flow_epe"] + parts["flow_t_epe"])
            if "flow_pseudo" in parts:
                loss_g = loss_g + cfg.lambda_flow * parts["flow_pseudo"]
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler.scale(loss_g).backward(inputs=list(self.g.parameters()))
        self.scaler.step(self.opt_g)
        self.scaler.update()
        self.sched_g.step()
        self.sched_d.step()
        return {"loss_g_gan": loss_gan.detach(), "loss_d": loss_d.detach(),
                **{"loss_g_" + k: v.detach() for k, v in parts.items()}}

    @torch.no_grad()
    def generate(self, inputs: torch.Tensor) -> torch.Tensor:
        """G in eval mode (BatchNorm running statistics, no dropout)."""
        was_training = self.g.training
        self.g.eval()
        try:
            with self.autocast():
                return self.g(inputs).float()
        finally:
            self.g.train(was_training)

    def state_dict(self) -> dict:
        return {"generator": self.g.state_dict(), "discriminator": self.d.state_dict(),
                "optimizer_g": self.opt_g.state_dict(), "optimizer_d": self.opt_d.state_dict(),
                "scheduler_g": self.sched_g.state_dict(), "scheduler_d": self.sched_d.state_dict(),
                "scaler": self.scaler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.g.load_state_dict(state["generator"])
        self.d.load_state_dict(state["discriminator"])
        self.opt_g.load_state_dict(state["optimizer_g"])
        self.opt_d.load_state_dict(state["optimizer_d"])
        self.sched_g.load_state_dict(state["scheduler_g"])
        self.sched_d.load_state_dict(state["scheduler_d"])
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])


# ==================================================================================================
# Data
# ==================================================================================================
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


# ==================================================================================================
# Validation and sample pictures
# ==================================================================================================
def to_frames_u8(x: torch.Tensor) -> torch.Tensor:
    """[B, 3n, S, S] in [-1, 1] -> uint8 [B, n, S, S, 3] (as the video path writes them)."""
    return unpack_frames(x.float().contiguous(), x.shape[-2], x.shape[-1])


def to_unit_stack(x: torch.Tensor) -> torch.Tensor:
    """[B, 3n, S, S] in [-1, 1] -> quantised to 8 bits, float in [0, 1], same layout."""
    u8 = to_frames_u8(x)
    b, n, h, w, _ = u8.shape
    return u8.permute(0, 1, 4, 2, 3).reshape(b, 3 * n, h, w).float() / 255.0


@torch.no_grad()
def validate(model: Pix2Pix, data: StripData, strips: torch.Tensor, batch: int = 8) -> dict[str, float]:
    """Mean PSNR / SSIM / L1 of G's frames and of the crossfade of the same inputs (centre crops);
    for the hybrid generator also of its untrained self (DIS with the linear-motion warp)."""
    cfg = data.cfg
    weights = metrics.crossfade_weights([cfg.order[i] for i in cfg.inputs],
                                        [cfg.order[i] for i in cfg.targets])
    sums: dict[str, float] = {}
    for start in range(0, len(strips), batch):
        inp, tgt = data.preprocess(strips[start:start + batch].to(model.device))
        real = to_unit_stack(tgt)
        preds = [("", model.generate(inp)), ("_crossfade", metrics.crossfade(inp, weights))]
        if hasattr(model.g, "prior"):  # the hybrid generator: also its untrained self, DIS
            preds.append(("_dis", model.g.prior(inp)))
        for name, pred in preds:
            pred = to_unit_stack(pred)
            for metric, values in (("psnr", metrics.psnr(pred, real)), ("ssim", metrics.ssim(pred, real)),
                                   ("l1", (pred - real).abs().flatten(1).mean(1))):
                sums[metric + name] = sums.get(metric + name, 0.0) + values.sum().item()
    return {k: v / len(strips) for k, v in sums.items()}


@torch.no_grad()
def sample_picture(model: Pix2Pix, data: StripData, strips: torch.Tensor, gap: int = 6) -> np.ndarray:
    """uint8 [rows*S, W, 3]: per strip, input frames | ground truth frames | generated frames."""
    inp, tgt = data.preprocess(strips.to(model.device))
    groups = [to_frames_u8(t).cpu() for t in (inp, tgt, model.generate(inp))]  # [B, n, S, S, 3]
    b, s = inp.shape[0], inp.shape[-1]
    widths = [g.shape[1] * s for g in groups]
    picture = np.full((b * s + (b - 1) * 2, sum(widths) + gap * (len(groups) - 1), 3), 255, np.uint8)
    x = 0
    for g, width in zip(groups, widths):
        for row in range(b):
            y = row * (s + 2)
            picture[y:y + s, x:x + width] = g[row].permute(1, 0, 2, 3).reshape(s, width, 3).numpy()
        x += width + gap
    return picture


# ==================================================================================================
# Run directory
# ==================================================================================================
class RunDir:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.config = self.root / "config.json"
        self.metrics = self.root / "metrics.jsonl"
        self.samples = self.root / "samples"
        self.checkpoints = self.root / "checkpoints"
        self.last = self.checkpoints / "last.pt"

    def create(self) -> None:
        for d in (self.root, self.samples, self.checkpoints):
            d.mkdir(parents=True, exist_ok=True)
        for stale in self.checkpoints.glob(".*.tmp-*"):  # left by a run killed while writing
            stale.unlink(missing_ok=True)

    def write_config(self, record: dict) -> None:
        atomic_write(self.config, lambda f: f.write(json.dumps(record, indent=2).encode()))

    def read_config(self) -> dict:
        try:
            return json.loads(self.config.read_text())["config"]
        except FileNotFoundError:
            raise FileNotFoundError(f"--resume: no run to resume, {self.config} does not exist") from None
        except (ValueError, KeyError) as exc:
            raise ValueError(f"--resume: {self.config} is not a pyframegan run config ({exc})") from None

    def log(self, record: dict) -> None:
        with open(self.metrics, "a") as f:
            f.write(json.dumps(record) + "\n")

    def truncate_log(self, step: int) -> None:
        """Drop records written after ``step`` by a run that was killed before its next checkpoint."""
        if not self.metrics.exists():
            return
        keep = []
        for line in self.metrics.read_text().splitlines():
            try:
                if json.loads(line)["step"] <= step:
                    keep.append(line + "\n")
            except (ValueError, KeyError, TypeError):
                pass  # a line torn by the kill
        atomic_write(self.metrics, lambda f: f.write("".join(keep).encode()))

    def sample_path(self, step: int) -> Path:
        return self.samples / f"step_{step:06d}.png"


# ==================================================================================================
# Training loop
# ==================================================================================================
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
            Image.fromarray(picture).save(self.run.sample_path(self.step))

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
                if synthetic is not None:  # rendered at --size: the whole tile, unflipped
                    truth = next(synthetic)
                    more = self.data.preprocess(truth.pop("strip"))
                    inputs, targets = torch.cat([inputs, more[0]]), torch.cat([targets, more[1]])
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
