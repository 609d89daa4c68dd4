"""Training the hybrid generator's judge (:mod:`pyframegan.models.judge`) on real windows.

    pyframegan train-judge --run-dir runs/judge [--steps 3000] [--resume] [--export model.pt]

The DIS flows are not learned, so they are computed once per window (on the whole frame, at the
evaluation's scale: longest side ``--max-side`` 512) and kept in memory; training then runs only the
judge and the composition, on random ``--crop`` crops (drawn anew every step) with flips and time reversal. Windows of
``--spans`` (frames 0 and K in, 1..K-1 the targets at times j/K) come from the video sources of the
training split (:func:`pyframegan.data.sources.default_sources`), none crossing a scene cut;
validation windows from the split's held-out time ranges (diver after 11 s, wannaworktogether
96.3-125.8 s) at spans 2 and 6, whole frames. The loss is the metric's own: the mean over frames of
-PSNR. Every ``--val-every`` steps the judge is scored against the model without it (= the shipped
rule) on the validation windows; the best is kept as ``best.pt`` and only a positive gain is worth
exporting (``--export PATH`` writes the model with the best judge). ``last.pt`` resumes after a kill;
the windows are drawn again from the seed, the same ones.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from pyframegan.data.scenecut import find_cuts
from pyframegan.data.sources import default_sources
from pyframegan.evaluate import spread, valid_starts
from pyframegan import metrics
from pyframegan.files import atomic_write
from pyframegan.models import build_discriminator, build_generator
from pyframegan.models.flow import motion
from pyframegan.models.hybrid import PSEUDO_LABEL_SCALE, label_term, pseudo_labels
from pyframegan.models.judge import JUDGE_SCALE
from pyframegan.training.validation import to_unit_stack
from pyframegan.warp import backward_warp

MODEL = {"arch": "hybrid", "n_out": 5, "learned": False, "judge": True}


@dataclass
class Window:
    frames: torch.Tensor  # uint8 [K+1, 3, H, W]
    # float32 [2, 2, H, W]: F01, F10 (pixels) of frames 0 and K; with context [4, 2, H, W]: and F0-, F1+
    # (from frame 0 to the frame before, from K to the frame after; guarded, as the model does)
    flow: torch.Tensor
    # pseudo-labels at the judge's resolution (with --lambda-labels): per target, the correction of the
    # prior F_t0, F_t1 that DIS from the true frame finds [K-1, 2, 2, H/8, W/8] (the judge's pixels),
    # and how well the label reproduces the true frame [K-1, 2, 1, H/8, W/8]
    labels: torch.Tensor | None = None
    label_weights: torch.Tensor | None = None
    context: torch.Tensor | None = None  # uint8 [2, 3, H, W]: the frames K before frame 0 and K after frame K
    tag: str = ""  # validation: what its scores are reported under besides its span ("@320": that scale)


def window_labels(frames: torch.Tensor, flow: torch.Tensor,
                  where_better: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """(labels, weights) of a window (see :class:`Window`) at full resolution: the corrections of the
    prior flows that the :func:`pyframegan.models.hybrid.pseudo_labels` make, and their weights; with
    ``where_better`` each weight also scaled by how much better than the prior flow the label warps
    that input to the true frame (0 where it is not, 1 where its error is PSEUDO_LABEL_SCALE lower)."""
    k = frames.shape[0] - 1
    unit = normalise(frames)
    l0, l1, w0, w1 = pseudo_labels(torch.cat([unit[0], unit[k]]).unsqueeze(0), unit[1:k].reshape(1, -1, *unit.shape[2:]))
    ft0, ft1 = motion(flow, (torch.arange(1, k, dtype=torch.float32) / k).view(1, k - 1, 1, 1, 1), 1)
    if where_better:
        truth = unit[1:k]

        def error(image: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
            return (backward_warp(image.expand(k - 1, -1, -1, -1), f) - truth).abs().mean(1, keepdim=True)
        w0 = w0 * ((error(unit[0:1], ft0) - error(unit[0:1], l0)) / PSEUDO_LABEL_SCALE).clamp(0, 1)
        w1 = w1 * ((error(unit[k:k + 1], ft1) - error(unit[k:k + 1], l1)) / PSEUDO_LABEL_SCALE).clamp(0, 1)
    return torch.stack([l0 - ft0, l1 - ft1], 1), torch.stack([w0, w1], 1)


def to_judge_scale(labels: torch.Tensor, weights: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Full-resolution labels [n, 2, 2, H, W] and weights (H, W multiples of 8) as 8x8 block means,
    the labels weighted and in the judge's pixels."""
    n = labels.shape[0]
    s = JUDGE_SCALE
    wsum = F.avg_pool2d(weights.flatten(0, 1), s)
    lab = F.avg_pool2d((labels * weights).flatten(0, 1), s) / (wsum + 1e-6) / s
    return lab.unflatten(0, (n, 2)), wsum.unflatten(0, (n, 2))


def normalise(frames: torch.Tensor) -> torch.Tensor:
    """uint8 frames -> [-1, 1], as the model reads them (pyframegan.export.NORMALISATION)."""
    return frames.float() / 127.5 - 1.0


def window_flow(model, frames: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
    """The model's DIS flows of a window (uint8 [K+1, 3, H, W]) between its frames 0 and K, with its
    ``context`` also those to the frames before and after (see :class:`Window`)."""
    k = frames.shape[0] - 1
    inputs = [frames[0], frames[k]] + ([] if context is None else [context[0], context[1]])
    return model.dis(torch.cat([normalise(f) for f in inputs]).unsqueeze(0))


def collect(sources, spans: list[int], per_span: int, max_side: int, model, rng: random.Random, log,
            labels: bool = False, trim: bool = True, keep: int | None = None, context: float = 0.0,
            coin: random.Random | None = None, where_better: bool = False) -> list[Window]:
    """Windows of each span from each video source (``per_span`` spread over the clip, a random
    offset), their DIS flows (and with ``labels`` their pseudo-labels, ``where_better`` as
    :func:`window_labels` says) computed on the whole frame;
    with ``trim`` cut to multiples of 8, and with ``keep`` to a random ``keep`` x ``keep`` crop of
    that (memory: training crops them again, :func:`crop`). With ``context`` (a probability, drawn
    from ``coin`` so that the windows chosen stay those of a run without it) a window whose frames K
    before and after lie in its shot gets them, and the model's guarded context flows."""
    coin = coin or random.Random(0)
    out: list[Window] = []
    for source in sources:
        if source.kind != "video":
            continue
        frames = list(source.frames(max_side=max_side))
        cuts = find_cuts(frames)
        for k in spans:
            with_context = set(valid_starts(len(frames), cuts, 3 * k + 1)) if context > 0 else set()
            starts = valid_starts(len(frames), cuts, k + 1)
            if not starts:
                continue
            jitter = rng.randrange(max(1, len(starts) // max(1, per_span)))
            chosen = spread(starts[jitter:] or starts, per_span)
            for s in chosen:
                w = torch.from_numpy(np.stack(frames[s:s + k + 1])).permute(0, 3, 1, 2).contiguous()
                c = None
                if s - k in with_context and coin.random() < context:
                    c = torch.from_numpy(np.stack([frames[s - k], frames[s + 2 * k]])).permute(0, 3, 1, 2).contiguous()
                with torch.no_grad():
                    flow = window_flow(model, w, c)
                    lab, lw = window_labels(w, flow, where_better) if labels else (None, None)
                if trim:
                    ch, cw = w.shape[2] // 8 * 8, w.shape[3] // 8 * 8
                    w, flow = w[:, :, :ch, :cw], flow[:, :, :ch, :cw]
                    c = None if c is None else c[:, :, :ch, :cw]
                    if lab is not None and lw is not None:
                        lab, lw = to_judge_scale(lab[..., :ch, :cw], lw[..., :ch, :cw])
                win = Window(w, flow, lab, lw, c)
                if keep is not None:
                    win = crop(win, keep, rng)
                out.append(Window(win.frames.contiguous(), win.flow.contiguous(), win.labels, win.label_weights,
                                  None if win.context is None else win.context.contiguous()))
        log(f"{source}: {len(frames)} frames, {len(cuts)} cuts, {len(out)} windows so far")
    return out


def synthetic_windows(sources, spans: list[int], per_span: int, size: int, model, seed: int, log) -> list[Window]:
    """``per_span`` windows of each span of synthetic motion (:class:`pyframegan.data.synthetic.SyntheticMotion`:
    layers cut from the training split's photographs and clip frames, moving over another, with
    occlusions, rotation, zoom and curved, accelerating paths), ``size`` x ``size``, the largest
    displacement over a window 8 px per frame of its span; their DIS flows as :func:`collect` makes them.
    Only the frames are used (the loss is the frames'), not the exact flows."""
    from pyframegan.data.synthetic import SyntheticMotion, load_images, render_window
    images = load_images(sources)  # decoded once for all spans
    out: list[Window] = []
    for k in spans:
        motion = SyntheticMotion(images, size=(size, size), frames=k + 1, max_shift=8.0 * k, seed=seed + 7919 * k)
        for i in range(per_span):
            w = render_window(motion.surfaces(i), motion.size, k + 1)["frames"].permute(0, 3, 1, 2).contiguous()
            with torch.no_grad():
                out.append(Window(w, window_flow(model, w).contiguous()))
        log(f"synthetic motion, span {k}: {per_span} windows of {size} px")
    return out


def crop(win: Window, size: int, rng: random.Random) -> Window:
    """A random ``size`` x ``size`` crop (at most the window; positions on the 8-pixel grid of the labels)."""
    h, w = win.frames.shape[2], win.frames.shape[3]
    ch, cw = min(size, h), min(size, w)
    y, x = rng.randrange(0, (h - ch) // 8 + 1) * 8, rng.randrange(0, (w - cw) // 8 + 1) * 8
    lab, lw = win.labels, win.label_weights
    if lab is not None and lw is not None:
        lab, lw = lab[..., y // 8:(y + ch) // 8, x // 8:(x + cw) // 8], lw[..., y // 8:(y + ch) // 8, x // 8:(x + cw) // 8]
    c = None if win.context is None else win.context[:, :, y:y + ch, x:x + cw]
    return Window(win.frames[:, :, y:y + ch, x:x + cw], win.flow[:, :, y:y + ch, x:x + cw], lab, lw, c)


def validation_windows(val_sources, per_span: int, sides: list[int], model, seed: int, log,
                       context: bool = False) -> list[Window]:
    """Spans 2 and 6 from the held-out time ranges of the split, whole frames, at each longest side of
    ``sides`` (tagged ``@320`` and so on but for the first, :attr:`Window.tag`); drawn from their own
    seed, so every run with the same ``seed`` and ``per_span`` is validated on the same windows; with
    ``context`` also those of them whose context lies in their shot, with it."""
    sources = [s for s in val_sources if s.kind == "video" and s.start > 0]
    out: list[Window] = []
    for side in sides:
        tag = "" if side == sides[0] else f"@{side}"
        windows = collect(sources, [2, 6], per_span, side, model, random.Random(seed + 1), log, trim=False,
                          context=1.0 if context else 0.0)
        # the context only adds flows: the first two, F01 and F10, are the plain window's
        out += [Window(w.frames, w.flow[:2], tag=tag) for w in windows]
        out += [Window(w.frames, w.flow, context=w.context, tag=tag) for w in windows if w.context is not None]
    return out


def augment(win: Window, rng: random.Random) -> Window:
    """The window flipped left-right and/or reversed in time (a label of the time t from frame 0
    is then one of the time 1 - t from frame 1)."""
    frames, flow, lab, lw, c = win.frames, win.flow, win.labels, win.label_weights, win.context
    if rng.random() < 0.5:
        x_neg = torch.tensor([-1.0, 1.0]).view(2, 1, 1)
        frames, flow = frames.flip(3), flow.flip(3) * x_neg
        c = None if c is None else c.flip(3)
        if lab is not None and lw is not None:
            lab, lw = lab.flip(-1) * x_neg, lw.flip(-1)
    if rng.random() < 0.5:  # F01, F10 (, F0-, F1+) become F10, F01 (, F1+, F0-)
        frames, flow = frames.flip(0), flow[[1, 0, 3, 2][:flow.shape[0]]]
        c = None if c is None else c.flip(0)
        if lab is not None and lw is not None:
            lab, lw = lab.flip(0).flip(1), lw.flip(0).flip(1)
    return Window(frames, flow, lab, lw, c)


def pairs_of(frames: torch.Tensor, flow: torch.Tensor,
             context: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The model's inputs [B, 6, H, W], DIS flows [F01; F10] [2B, 2, H, W] and times [K-1] of windows
    [B, K+1, 3, H, W] (uint8) with their flows [B, 2, 2, H, W]; with their ``context`` [B, 2, 3, H, W]
    and flows [B, 4, 2, H, W], inputs [B, 12, H, W] and flows [F01; F10; F0-; F1+] [4B, 2, H, W]."""
    k = frames.shape[1] - 1
    inputs = [frames[:, 0], frames[:, k]] + ([] if context is None else [context[:, 0], context[:, 1]])
    return (torch.cat([normalise(f) for f in inputs], 1), torch.cat(flow.unbind(1)),
            torch.arange(1, k, dtype=torch.float32) / k)


def compose(model, x: torch.Tensor, flow: torch.Tensor, times: torch.Tensor, use_judge: bool = True,
            judge_out: torch.Tensor | None = None) -> torch.Tensor:
    """The model's frames [B, 3(K-1), H, W] in [-1, 1] at ``times`` for :func:`pairs_of`'s inputs (and
    the judge's output at those times, when the caller has it)."""
    q = [max(1, x.shape[2] // model.scale), max(1, x.shape[3] // model.scale)]
    out = flow.new_zeros(x.shape[0] * times.numel(), model.head_channels, q[0], q[1])  # the U-Net is off: zero
    return model.frames(x, flow, out, use_judge, times, judge_out)[0]


def frame_psnr(stack: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
    """PSNR (dB) of each frame [B*(K-1)] of a stack [B, 3(K-1), H, W] in [0, 1] against the windows'
    in-between frames (uint8 [B, K+1, 3, H, W])."""
    h, w = frames.shape[3], frames.shape[4]
    return metrics.psnr(stack.reshape(-1, 3, h, w), frames[:, 1:-1].reshape(-1, 3, h, w).float() / 255.0)


def gan_loss(logits: torch.Tensor, real: bool) -> torch.Tensor:
    """pix2pix's (vanilla) GAN loss of the discriminator's patch logits against "real" or "fake"."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, 1.0 if real else 0.0))


@torch.no_grad()
def validate(model, windows: list[Window]) -> dict:
    """Mean PSNR per span over the validation windows, with and without the judge, and the gain; the
    frames rounded to 8 bits as the video path writes them."""
    per: dict[str, list[tuple[float, float]]] = {}
    model.eval()
    for win in windows:
        f = win.frames.unsqueeze(0)
        x, flow, times = pairs_of(f, win.flow.unsqueeze(0), None if win.context is None else win.context.unsqueeze(0))
        with_j, without = (frame_psnr(to_unit_stack(compose(model, x, flow, times, use)), f).mean().item()
                           for use in (True, False))
        key = f"span{f.shape[1] - 1}" + ("" if win.context is None else "-context") + win.tag
        per.setdefault(key, []).append((with_j, without))
    model.train()
    result = {}
    for key, pairs in sorted(per.items()):
        a = float(np.mean([p[0] for p in pairs]))
        b = float(np.mean([p[1] for p in pairs]))
        result[key] = {"judge": round(a, 4), "rule": round(b, 4), "gain": round(a - b, 4), "windows": len(pairs)}
    result["gain"] = round(float(np.mean([v["gain"] for v in result.values()])), 4)
    return result


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run-dir", type=Path, required=True, help="log.txt, best.pt (the best judge), last.pt (to resume)")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--ema", type=float, default=0.998, help="the decay of the weights' moving average (validated, kept, exported)")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--crop", type=int, default=256, help="training crops (drawn anew every step)")
    p.add_argument("--keep", type=int, default=None,
                   help="keep only a random crop of this size of each window (memory; default: whole frames)")
    p.add_argument("--max-side", default="512",
                   help="the frames' longest side; several, comma-separated: windows at each scale (the first validates, unless --val-sides)")
    p.add_argument("--val-sides", default=None,
                   help="the longest sides validated at, comma-separated; the gain is the mean over all "
                        "(default: the first of --max-side)")
    p.add_argument("--spans", default="2,3,4,6", help="window spans (frames 0 and K in), comma-separated")
    p.add_argument("--per-span", type=int, default=100, help="windows of each span from each training clip")
    p.add_argument("--val-per-span", type=int, default=16)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--scale", type=int, default=JUDGE_SCALE, choices=(4, 8),
                   help="the judge's resolution divisor (4: twice as fine, about 4x its cost)")
    p.add_argument("--flows", action="store_true", help="the judge also corrects the in-between flows F_t0, F_t1")
    p.add_argument("--pooled", action="store_true", help="the judge also sees each feature's mean over the frame")
    p.add_argument("--context", type=float, default=0.0,
                   help="the share of windows given their context frames (K before and after) where their shot has "
                        "them, as pyframegan video and evaluate --context do (quadratic motion); validation then "
                        "scores those windows with context too")
    p.add_argument("--lambda-labels", type=float, default=0.0,
                   help="with --flows: the weight of the pseudo-label loss (DIS flows from the true in-between frames)")
    p.add_argument("--labels-where-better", action="store_true",
                   help="with --lambda-labels: a pseudo-label counts only where it warps the input to the true "
                        "frame better than the prior flow does")
    p.add_argument("--extra-clips", action="store_true",
                   help="also train on the clips of pyframegan.data.catalogue.EXTRA_TRAIN_CLIPS (launch, robot, "
                        "webcam; pyframegan fetch-data gets them)")
    p.add_argument("--synthetic", type=int, default=0,
                   help="also this many windows of each span of synthetic motion (layers over photographs), "
                        "--keep (else --crop) px square")
    p.add_argument("--lambda-gan", type=float, default=0.0,
                   help="the weight of a PatchGAN term (pix2pix's discriminator, conditioned on the pair, on one "
                        "in-between frame of each window a step) beside the frame loss")
    p.add_argument("--ndf", type=int, default=16, help="with --lambda-gan: the discriminator's first filters")
    p.add_argument("--decay", type=int, default=0,
                   help="the last this many steps lower the learning rate linearly to 0 (also when resumed)")
    p.add_argument("--init-from", type=Path, default=None,
                   help="start from the judge of this model file (an exported model, or a run's best.pt) "
                        "instead of zero")
    p.add_argument("--val-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--export", type=Path, help="write the model with the best judge here and stop")


def int_list(text: str, name: str, lo: int, hi: int) -> list[int]:
    """Comma-separated integers in [lo, hi]; ValueError naming the option otherwise."""
    try:
        values = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        values = []
    if not values or any(not lo <= v <= hi for v in values):
        raise ValueError(f"{name} must be integers in [{lo}, {hi}], got {text!r}")
    return values


def check_args(args: argparse.Namespace) -> tuple[list[int], list[int], list[int]]:
    """The spans, the scales (longest sides) and the validation's scales of ``args``; ValueError naming the
    option that is out of range."""
    spans = int_list(args.spans, "--spans", 2, 8)
    sides = int_list(str(args.max_side), "--max-side", 32, 4096)
    val_sides = sides[:1] if args.val_sides is None else int_list(str(args.val_sides), "--val-sides", 32, 4096)
    for name, value, lo, hi in [("--steps", args.steps, 1, 10**7), ("--batch-size", args.batch_size, 1, 256),
                                ("--crop", args.crop, 32, 4096),
                                ("--per-span", args.per_span, 1, 10**5), ("--synthetic", args.synthetic, 0, 10**5),
                                ("--val-per-span", args.val_per_span, 1, 10**4),
                                ("--width", args.width, 4, 256), ("--val-every", args.val_every, 1, 10**7),
                                ("--ndf", args.ndf, 4, 256), ("--decay", args.decay, 0, args.steps)]:
        if not lo <= value <= hi:
            raise ValueError(f"{name} must be in [{lo}, {hi}], got {value}")
    if not (math.isfinite(args.lr) and 0 < args.lr < 1):
        raise ValueError(f"--lr must be in (0, 1), got {args.lr}")
    if not (math.isfinite(args.ema) and 0 <= args.ema < 1):
        raise ValueError(f"--ema must be in [0, 1), got {args.ema}")
    if not (math.isfinite(args.context) and 0 <= args.context <= 1):
        raise ValueError(f"--context must be in [0, 1], got {args.context}")
    for name, value in (("--lambda-labels", args.lambda_labels), ("--lambda-gan", args.lambda_gan)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be >= 0, got {value}")
    if args.lambda_labels > 0 and not args.flows:
        raise ValueError("--lambda-labels needs --flows (the labels teach the flow corrections)")
    if args.labels_where_better and args.lambda_labels <= 0:
        raise ValueError("--labels-where-better needs --lambda-labels")
    if args.lambda_labels > 0 and args.scale != JUDGE_SCALE:
        raise ValueError(f"--lambda-labels needs --scale {JUDGE_SCALE} (the labels are kept as {JUDGE_SCALE}x{JUDGE_SCALE} block means)")
    if args.keep is not None and (args.keep % 8 or not args.crop <= args.keep <= 4096):
        raise ValueError(f"--keep must be a multiple of 8 in [--crop, 4096], got {args.keep}")
    if args.crop % 8:
        raise ValueError(f"--crop must be a multiple of 8, got {args.crop}")
    return spans, sides, val_sides


JUDGE_KEYS = {"judge_width": 32, "judge_flows": False, "judge_pooled": False, "judge_scale": JUDGE_SCALE}


def is_exported(path: Path) -> bool:
    """Whether ``path`` is a zip holding an exported model's metadata (TorchScript + META_FILE)."""
    import zipfile
    from pyframegan.export import META_FILE
    try:
        with zipfile.ZipFile(path) as z:
            return any(name.endswith("/extra/" + META_FILE) for name in z.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def saved_judge(path: Path) -> tuple[dict, dict, str]:
    """(the judge's weights, the model's config, where they come from) in ``path``: a run's best.pt
    (its step) or an exported model; ValueError / FileNotFoundError naming the file otherwise."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    state = None
    if not is_exported(path):
        try:
            state = torch.load(path, weights_only=True, map_location="cpu")
        except Exception:  # not a checkpoint: load_model says what it is not
            state = None
    if isinstance(state, dict) and "judge" in state and "config" in state:
        return state["judge"], state["config"], f"step {state.get('step')}"
    from pyframegan.export import load_model
    module, meta = load_model(path)
    if not meta["model"].get("judge"):
        raise ValueError(f"{path}: the model has no judge")
    return {k: v.clone() for k, v in module.judge.state_dict().items()}, meta["model"], "exported"


def initial_judge(path: Path, config: dict) -> dict:
    """The judge's weights in ``path`` (--init-from, :func:`saved_judge`), if it is built as ``config``
    says (width, flows, frame means, scale); ValueError naming the difference otherwise."""
    try:
        weights, other, _ = saved_judge(path)
    except (ValueError, FileNotFoundError) as exc:
        raise type(exc)(f"--init-from {exc}") from None
    for key, default in JUDGE_KEYS.items():
        if other.get(key, default) != config[key]:
            raise ValueError(f"--init-from {path}: its {key} is {other.get(key, default)}, this run's {config[key]}")
    return weights


def parse_args(argv: list[str]) -> argparse.Namespace:
    """``pyframegan train-judge``'s options from ``argv``, checked (exits 2 with the message)."""
    p = argparse.ArgumentParser(prog="pyframegan train-judge", description=__doc__.split("\n\n")[0])
    add_arguments(p)
    args = p.parse_args(argv)
    try:
        check_args(args)
    except ValueError as exc:
        p.error(str(exc))
    return args


def main(args: argparse.Namespace) -> int:
    """``pyframegan train-judge`` (errors: ValueError / FileNotFoundError, one line on the CLI)."""
    spans, sides, val_sides = check_args(args)
    if args.export and not (args.run_dir / "best.pt").exists():
        raise FileNotFoundError(f"{args.run_dir / 'best.pt'}: no judge to export (train one first)")
    run = args.run_dir
    run.mkdir(parents=True, exist_ok=True)
    logf = open(run / "log.txt", "a")

    def log(msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    config = {**MODEL, "judge_width": args.width, "judge_flows": args.flows, "judge_pooled": args.pooled,
              "judge_scale": args.scale}
    model = build_generator(config)
    if args.export:
        best = torch.load(run / "best.pt", weights_only=True)
        model = build_generator(best["config"])
        model.judge.load_state_dict(best["judge"])
        from pyframegan.export import export_generator
        export_generator(model, args.export)
        log(f"exported the judge of step {best['step']} (validation gain {best['gain']:+.4f} dB) to {args.export}")
        return 0
    torch.manual_seed(args.seed)
    log(f"command: {' '.join(sys.argv)}")
    rng = random.Random(args.seed)
    train_sources, val_sources = default_sources(fetch=False, photos=args.synthetic > 0, extra=args.extra_clips)
    t0 = time.time()
    # a batch draws its windows from one span at one scale, all with context or all without
    by_span: dict[tuple[int, int, bool], list[Window]] = {}
    coin = random.Random(args.seed + 2)
    for side in sides:
        for win in collect(train_sources, spans, args.per_span, side, model, rng, log,
                           labels=args.lambda_labels > 0, keep=args.keep, context=args.context, coin=coin,
                           where_better=args.labels_where_better):
            by_span.setdefault((win.frames.shape[0] - 1, side, win.context is not None), []).append(win)
    if args.synthetic:  # with the real windows of the same span at the first scale
        for win in synthetic_windows(train_sources, spans, args.synthetic, args.keep or args.crop, model, args.seed, log):
            by_span.setdefault((win.frames.shape[0] - 1, sides[0], False), []).append(win)
    val = validation_windows(val_sources, args.val_per_span, val_sides, model, args.seed, log, context=args.context > 0)
    log(f"{sum(map(len, by_span.values()))} training and {len(val)} validation windows in {time.time() - t0:.0f} s")
    if args.init_from is not None:
        model.judge.load_state_dict(initial_judge(args.init_from, config))
        log(f"the judge starts from {args.init_from}'s")
    opt = torch.optim.Adam(model.judge.parameters(), lr=args.lr)
    # the moving average of the weights is what is validated and kept: single steps swing the frames
    ema = build_generator(config)
    ema.judge.load_state_dict(model.judge.state_dict())
    disc, opt_d = None, None
    if args.lambda_gan > 0:  # pix2pix's PatchGAN, conditioned on the pair, judging one in-between frame
        disc = build_discriminator({"arch": "patchgan", "n_in": 2, "n_out": 1, "ndf": args.ndf, "n_layers": 3})
        opt_d = torch.optim.Adam(disc.parameters(), lr=args.lr, betas=(0.5, 0.999))
    step, best_gain = 0, -math.inf
    if args.resume and (run / "last.pt").exists():
        state = torch.load(run / "last.pt", weights_only=False)
        model.judge.load_state_dict(state["judge"])
        ema.judge.load_state_dict(state["ema"])
        opt.load_state_dict(state["opt"])
        if disc is not None and opt_d is not None:
            if "disc" not in state:
                raise ValueError(f"{run / 'last.pt'}: a run without --lambda-gan cannot resume with it")
            disc.load_state_dict(state["disc"])
            opt_d.load_state_dict(state["opt_d"])
        step, best_gain = state["step"], state["best_gain"]
        rng.setstate(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        log(f"resumed at step {step}")
    else:
        first = validate(ema, val)
        log(f"step 0 validation {json.dumps(first)}")
    model.train()
    groups = sorted(by_span)
    t0 = time.time()
    gains: list[float] = []
    gan_losses: list[tuple[float, float]] = []
    while step < args.steps:
        for g in opt.param_groups:  # set every step: a resumed optimiser's saved rate is not used
            g["lr"] = args.lr * (min(1.0, (args.steps - step) / args.decay) if args.decay > 0 else 1.0)
        group = by_span[rng.choice(groups)]
        batch = [augment(crop(group[rng.randrange(len(group))], args.crop, rng), rng) for _ in range(args.batch_size)]
        h = min(win.frames.shape[2] for win in batch) // 8 * 8
        w = min(win.frames.shape[3] for win in batch) // 8 * 8
        frames = torch.stack([win.frames[:, :, :h, :w] for win in batch])
        flow = torch.stack([win.flow[:, :, :h, :w] for win in batch])
        context = None if batch[0].context is None else torch.stack([win.context[:, :, :h, :w] for win in batch])
        x, pair_flow, times = pairs_of(frames, flow, context)
        out = model.judge(x, pair_flow, model.times.flatten(), times)
        stack = compose(model, x, pair_flow, times, True, out)
        psnr = frame_psnr(metrics.to_unit(stack), frames)
        loss = -psnr.mean()
        if disc is not None:
            j = rng.randrange(times.numel())
            fake, real = stack[:, 3 * j:3 * j + 3], normalise(frames[:, j + 1])
            g_gan = gan_loss(disc(x[:, :6], fake), True)
            loss = loss + args.lambda_gan * g_gan
        if args.lambda_labels > 0:
            lab = torch.cat([win.labels[..., :h // 8, :w // 8] for win in batch])  # [B*(K-1), 2, 2, h', w']
            lw = torch.cat([win.label_weights[..., :h // 8, :w // 8] for win in batch])
            pred_flow = out[:, 2:6].unflatten(1, (2, 2))  # the corrections of F_t0, F_t1
            loss = loss + args.lambda_labels * label_term(pred_flow.flatten(0, 1), lab.flatten(0, 1), lw.flatten(0, 1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if disc is not None and opt_d is not None:
            d_loss = 0.5 * (gan_loss(disc(x[:, :6], real), True) + gan_loss(disc(x[:, :6], fake.detach()), False))
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            gan_losses.append((g_gan.item(), d_loss.item()))
        with torch.no_grad():
            for p, q in zip(ema.judge.parameters(), model.judge.parameters()):
                p.lerp_(q, 1 - args.ema)
            rule = frame_psnr(metrics.to_unit(compose(model, x, pair_flow, times, False)), frames)
            gains.append((psnr - rule).mean().item())
        step += 1
        if step % 50 == 0:
            log(f"step {step} loss {loss.item():.3f}, gain over the rule on the last 50 batches "
                f"{np.mean(gains):+.4f} dB ({(time.time() - t0) / 50:.2f} s/step)"
                + (f", GAN G {np.mean([g for g, _ in gan_losses]):.3f} D {np.mean([d for _, d in gan_losses]):.3f}"
                   if gan_losses else ""))
            t0, gains, gan_losses = time.time(), [], []
        if step % args.val_every == 0 or step == args.steps:
            result = validate(ema, val)
            log(f"step {step} validation {json.dumps(result)}")
            if result["gain"] > best_gain:
                best_gain = result["gain"]
                best = {"judge": ema.judge.state_dict(), "step": step, "gain": best_gain, "validation": result,
                        "config": config}
                atomic_write(run / "best.pt", lambda f: torch.save(best, f))
            last = {"judge": model.judge.state_dict(), "ema": ema.judge.state_dict(), "opt": opt.state_dict(), "step": step,
                    "best_gain": best_gain, "rng": rng.getstate(), "torch_rng": torch.get_rng_state()}
            if disc is not None and opt_d is not None:
                last.update(disc=disc.state_dict(), opt_d=opt_d.state_dict())
            atomic_write(run / "last.pt", lambda f: torch.save(last, f))
    log(f"done: best validation gain {best_gain:+.4f} dB")
    return 0


if __name__ == "__main__":  # the same as `pyframegan train-judge` (one-line errors)
    from pyframegan import cli
    sys.exit(cli.main(["train-judge", *sys.argv[1:]]))
