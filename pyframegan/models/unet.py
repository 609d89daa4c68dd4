"""pix2pix U-Net generator: n_in frames (3*n_in channels) -> n_out frames (3*n_out channels).

Encoder C64-C128-C256-C512-C512…: 4x4 stride-2 convolutions, LeakyReLU(0.2), normalisation on
every block but the first and the innermost. Decoder: ReLU, 4x4 stride-2 transposed convolutions,
normalisation, dropout in the inner decoder blocks, the output of each decoder block concatenated
with the encoder features of the same resolution (skip connections); tanh output in [-1, 1].
Same structure and parameter count as ``UnetGenerator`` in junyanz/pytorch-CycleGAN-and-pix2pix.

``residual=True`` (two input frames): the network predicts a correction to the crossfade instead
of whole frames. Output frame k is ``clamp((1 - t_k)·I0 + t_k·I1 + r_k, -1, 1)`` at the time
``t_k`` of target k between the inputs (``times``), and the last layer starts at zero, so an
untrained model already gives the crossfade and training only has to learn what differs from it
(motion). Plain pix2pix must first learn to reproduce its inputs.
"""
from __future__ import annotations

import torch
from torch import nn

NORMS = ("batch", "instance", "none")


def norm_layer(norm: str, channels: int) -> nn.Module:
    """Normalisation as in pix2pix: affine BatchNorm, or InstanceNorm without affine or running stats."""
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {norm!r}; expected one of {', '.join(NORMS)}")


def uses_bias(norm: str) -> bool:
    """Convolutions followed by an affine BatchNorm need no bias of their own."""
    return norm != "batch"


class UNetGenerator(nn.Module):
    """U-Net with ``depth`` down-samplings; input height and width must be multiples of ``2**depth``."""

    def __init__(self, n_in: int = 2, n_out: int = 5, ngf: int = 64, depth: int = 7,
                 norm: str = "batch", dropout: bool = True, residual: bool = False,
                 times: list[float] | None = None):
        super().__init__()
        if depth < 2:
            raise ValueError(f"U-Net depth must be at least 2, got {depth}")
        if residual and n_in != 2:
            raise ValueError(f"residual (crossfade + correction) needs 2 input frames, got n_in={n_in}")
        times = [k / (n_out + 1) for k in range(1, n_out + 1)] if times is None else [float(t) for t in times]
        if len(times) != n_out:
            raise ValueError(f"times must give one time per output frame ({n_out}), got {times}")
        self.config = {"arch": "unet", "n_in": n_in, "n_out": n_out, "ngf": ngf, "depth": depth,
                       "norm": norm, "dropout": dropout}
        if residual:
            self.config.update(residual=True, times=times)
        self.residual = residual
        # per output channel: the weight of the second input frame in the crossfade
        self.register_buffer("blend", torch.tensor(times).repeat_interleave(3).view(1, 3 * n_out, 1, 1),
                             persistent=False)
        self.n_in, self.n_out, self.multiple = n_in, n_out, 2 ** depth
        bias = uses_bias(norm)
        # channels after encoder block i: ngf, 2ngf, 4ngf, 8ngf, 8ngf, ...
        ch = [ngf * min(2 ** i, 8) for i in range(depth)]

        self.down = nn.ModuleList()
        for i in range(depth):
            c_in = 3 * n_in if i == 0 else ch[i - 1]
            layers = [] if i == 0 else [nn.LeakyReLU(0.2)]
            normed = 0 < i < depth - 1
            layers.append(nn.Conv2d(c_in, ch[i], 4, 2, 1, bias=bias or not normed))
            if normed:
                layers.append(norm_layer(norm, ch[i]))
            self.down.append(nn.Sequential(*layers))

        # Decoder, innermost first: the block mirroring down[i] maps back to the resolution and the
        # channel count of down[i]'s input; its output is concatenated with down[i-1]'s (skip).
        self.up = nn.ModuleList()
        for i in reversed(range(1, depth)):
            c_in = ch[i] if i == depth - 1 else 2 * ch[i]  # the innermost has no skip to concatenate
            layers = [nn.ReLU(), nn.ConvTranspose2d(c_in, ch[i - 1], 4, 2, 1, bias=bias),
                      norm_layer(norm, ch[i - 1])]
            if dropout and 4 <= i < depth - 1:  # the 8ngf blocks between C512 and the innermost
                layers.append(nn.Dropout(0.5))
            self.up.append(nn.Sequential(*layers))
        last = nn.ConvTranspose2d(2 * ch[0], 3 * n_out, 4, 2, 1)
        if residual:
            last.zero_init = True  # models.init_weights zeroes it: the model starts as the crossfade
        self.out = nn.Sequential(nn.ReLU(), last, nn.Identity() if residual else nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2], x.shape[-1]
        if h % self.multiple != 0 or w % self.multiple != 0:
            raise ValueError(f"U-Net input {h}x{w} is not a multiple of 2^depth = {self.multiple}; "
                             "pad it (pyframegan.ops.pack_pairs does)")
        frames = x
        skips: list[torch.Tensor] = []
        for block in self.down:
            x = block(x)
            skips.append(x)
        x = skips.pop()
        for block in self.up:
            x = torch.cat([block(x), skips.pop()], 1)
        if not self.residual:
            return self.out(x)
        first, second = frames[:, :3].repeat(1, self.n_out, 1, 1), frames[:, 3:6].repeat(1, self.n_out, 1, 1)
        crossfade = (1 - self.blend) * first + self.blend * second
        return (crossfade + self.out(x)).clamp(-1, 1)


# --- as a `pyframegan train` generator kind (pyframegan.training.config asks each kind) ----------
def add_train_options(group, defaults) -> None:
    group.add_argument("--ngf", type=int, default=defaults.ngf, help="generator filters in the first layer")
    group.add_argument("--depth", type=int, default=defaults.depth,
                       help="U-Net down-samplings (7 for 128 px, 8 for 256 px)")
    group.add_argument("--no-dropout", dest="dropout", action="store_false",
                       help="no dropout in the generator's inner decoder blocks (default: dropout on)")
    group.add_argument("--residual", action="store_true",
                       help="the generator predicts a correction to the crossfade of the two inputs (starts "
                            "at crossfade quality; needs 2 input tiles) (default: whole frames, as pix2pix)")


def train_config(cfg) -> dict:
    config = {"arch": "unet", "n_in": len(cfg.inputs), "n_out": len(cfg.targets), "ngf": cfg.ngf,
              "depth": cfg.depth, "norm": cfg.norm, "dropout": cfg.dropout}
    if cfg.residual:
        config.update(residual=True, times=cfg.target_times())
    return config


def check_train_config(cfg, need) -> None:
    need(cfg.depth >= 2, f"--depth must be at least 2, got {cfg.depth}")
    need(cfg.size % 2 ** cfg.depth == 0,
         f"--size {cfg.size} is not a multiple of {2 ** cfg.depth} (2^depth, --depth {cfg.depth})")


def check_unused(cfg, need) -> None:
    """Its options given with another kind: none are checked (--ngf and --depth have defaults)."""
