"""Checkpoints: atomic writes, loading (weights only), the generator rebuilt from one, RNG state."""
from __future__ import annotations

import pickle
from pathlib import Path

import torch

from pyframegan.errors import first_line
from pyframegan.files import atomic_write

from pyframegan.models import build_generator

CHECKPOINT_FORMAT = "pyframegan-checkpoint"
CHECKPOINT_VERSION = 1


def save_checkpoint(state: dict, path: Path) -> None:
    atomic_write(path, lambda f: torch.save(state, f))


def load_checkpoint(path: str | Path) -> dict:
    """A checkpoint written by :func:`save_checkpoint`, loaded with ``weights_only=True`` on the CPU."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch's weights-only refusal is a page that suggests an unsafe load
        why = ("not a PyTorch file, or one that holds more than tensors and plain data"
               if isinstance(exc, pickle.UnpicklingError) else first_line(exc) or type(exc).__name__)
        raise ValueError(f"{path} is not a readable pyframegan checkpoint ({why})") from None
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
