"""The training configuration: the options of `pyframegan train`, their parsing, resume merging and checks."""
from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import torch.nn.functional as F

from pyframegan import losses
from pyframegan.data.decode import check_tile_budget
from pyframegan.layout import SEED, seed_layout
from pyframegan.models import NORMS
from pyframegan.model_options import int_list
from pyframegan.models import GENERATOR_KINDS

GAN_MODES = ("vanilla", "lsgan")
ARCHS = tuple(GENERATOR_KINDS)
FRAME_LOSSES = {"l1": F.l1_loss, "charbonnier": losses.charbonnier, "psnr": losses.log_mse}
AMP_MODES = ("auto", "off", "fp16", "bf16")


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
        """The model config of the chosen generator kind (it says which options it takes)."""
        return GENERATOR_KINDS[self.arch].train_config(self)

    def discriminator_config(self) -> dict:
        return {"arch": "patchgan", "n_in": len(self.inputs), "n_out": len(self.targets),
                "ndf": self.ndf, "n_layers": self.d_layers, "norm": self.norm}


# options a resumed run may change; all others must match the run's config.json
RESUME_OVERRIDABLE = {"steps", "decay_steps", "val_every", "sample_every", "checkpoint_every",
                      "keep_every", "log_every", "workers", "device", "resume"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = TrainConfig()
    g = parser.add_argument_group("data")
    g.add_argument("--data", nargs="+", default=[], metavar="PATH",
                   help="strip folders, strip images and/or video files "
                        "(no default: required unless --resume)")
    g.add_argument("--frames", type=int, default=d.frames, help="frames per strip")
    g.add_argument("--inputs", type=int_list, default=None, metavar="I,J",
                   help="tiles fed to the generator (default: the seed layout, 5,6 for 7 frames)")
    g.add_argument("--targets", type=int_list, default=None, metavar="I,J,...",
                   help="tiles the generator predicts (default: the seed layout, 0,1,2,3,4 for 7 frames)")
    g.add_argument("--order", type=int_list, default=None, metavar="T,T,...",
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
    for kind in GENERATOR_KINDS.values():  # each kind declares its own options
        kind.add_train_options(g, d)
    g.add_argument("--ndf", type=int, default=d.ndf, help="discriminator filters in the first layer")
    g.add_argument("--d-layers", type=int, default=d.d_layers,
                   help="PatchGAN layers (3: 70x70 receptive field)")
    g.add_argument("--norm", choices=NORMS, default=d.norm, help="normalisation layers")
    g.add_argument("--init-from", default=d.init_from, metavar="CHECKPOINT",
                   help="start G and D from this checkpoint's weights (layers it lacks keep their "
                        "initialisation, e.g. a flow level added with --flow-levels 3; default: none, all fresh)")

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
    g.add_argument("--lambda-frame", "--lambda-l1", dest="lambda_l1", metavar="WEIGHT", type=float, default=d.lambda_l1,
                   help="weight of the frame loss (--frame-loss; pix2pix's L1 unless changed); --lambda-l1 is its old name")
    g.add_argument("--frame-loss", choices=FRAME_LOSSES, default=d.frame_loss,
                   help="frame loss, weighted by --lambda-frame: l1 (pix2pix), charbonnier, or psnr (the mean over "
                        "frames of log10 MSE: minus the mean per-frame PSNR / 10)")
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
    need(cfg.arch in ARCHS, f"--arch must be one of {', '.join(ARCHS)}, got {cfg.arch!r}")
    need(cfg.size > 0, f"--size must be positive, got {cfg.size}")
    if cfg.tile_size is not None:
        check_tile_budget("--tile-size", cfg.frames, cfg.tile_size, cfg.tile_size)
    GENERATOR_KINDS[cfg.arch].check_train_config(cfg, need)  # the chosen kind checks its own options
    for name, kind in GENERATOR_KINDS.items():
        if name != cfg.arch:
            kind.check_unused(cfg, need)
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
    need(0 <= cfg.warmup_steps <= cfg.steps, f"--warmup-steps must be between 0 and --steps {cfg.steps}")
    need(cfg.synthetic == 0 or (cfg.frames == 7 and cfg.targets == list(SEED.targets) and cfg.inputs == list(SEED.inputs)),
         "--synthetic renders seed-layout windows: it needs --frames 7 and the default --inputs/--targets")
    need(cfg.synthetic == 0 or cfg.load_size is None, "--synthetic renders windows at --size: drop --load-size")
    need(cfg.init_from is None or Path(cfg.init_from).is_file(), f"--init-from {cfg.init_from}: no such file")


def resolve_layout(cfg: TrainConfig) -> None:
    """Fill the strip roles left to the seed layout (in place)."""
    order, inputs, targets = seed_layout(cfg.frames)
    cfg.inputs = list(inputs if cfg.inputs is None else cfg.inputs)
    cfg.targets = list(targets if cfg.targets is None else cfg.targets)
    cfg.order = list(order if cfg.order is None else cfg.order)
