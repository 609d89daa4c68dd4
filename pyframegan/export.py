"""`pyframegan export`: a training checkpoint -> a self-describing TorchScript generator.

The artefact is a TorchScript archive whose extra file ``pyframegan.json`` holds the metadata the
inference side needs (frames in and out, the size multiple, the normalisation, the format
version) plus the model and training configs. This module is the one place that knows the
artefact format: a torch.export / AOTInductor backend can be added beside it.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import warnings
from pathlib import Path

import torch

from pyframegan.files import atomic_output

FORMAT = "pyframegan-generator"
FORMAT_VERSION = 1
META_FILE = "pyframegan.json"
NORMALISATION = "x / 127.5 - 1 (uint8 -> [-1, 1]); output tanh in [-1, 1]"


@contextlib.contextmanager
def _quiet_jit():
    """TorchScript still ships but warns that it is deprecated; this module is where that is known."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit.*deprecated", category=FutureWarning)
        warnings.filterwarnings("ignore", message=r".*deprecated.*torch\.export", category=FutureWarning)
        yield


def export_generator(generator: torch.nn.Module, path: str | os.PathLike, train_config: dict | None = None) -> dict:
    """Script ``generator`` in eval mode (batch-norm running statistics, no dropout) and write it
    with its metadata to ``path`` atomically. Returns the metadata."""
    generator = generator.cpu().eval()
    forget = getattr(generator, "forget", None)
    if forget is not None:  # what a model keeps between calls (the hybrid's flows) is not exported
        forget()
    meta = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "n_in": int(generator.n_in),
        "n_out": int(generator.n_out),
        "multiple": int(generator.multiple),
        "normalisation": NORMALISATION,
        "model": dict(getattr(generator, "config", {})),
        "train": train_config or {},
        "torch_version": torch.__version__,
    }
    with _quiet_jit():
        scripted = torch.jit.script(generator)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp, _quiet_jit():
        torch.jit.save(scripted, str(tmp), _extra_files={META_FILE: json.dumps(meta, indent=2)})
    return meta


def read_metadata(path: str | os.PathLike) -> dict:
    """The metadata of an exported model, with a clear error (FileNotFoundError, ValueError) for
    anything that is not one. Read by the C++ engine's reader (csrc/engine/metadata.cpp), the one
    definition of the format's checks."""
    from pyframegan import _ext  # the C++ extension
    return json.loads(_ext.load().read_metadata(str(path)))


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[torch.jit.ScriptModule, dict]:
    """(TorchScript generator in eval mode, metadata). The metadata is checked before loading."""
    meta = read_metadata(path)
    try:
        with _quiet_jit():
            module = torch.jit.load(str(path), map_location=device)
    except Exception as exc:  # a corrupt archive: torch raises RuntimeError with C++ context
        raise ValueError(f"{path}: the TorchScript model could not be loaded ({exc})") from None
    return module.eval(), meta


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="a checkpoint written by `pyframegan train` (e.g. RUN/checkpoints/last.pt)")
    parser.add_argument("-o", "--output", required=True, metavar="MODEL.pt", help="the TorchScript model to write")


def main(args: argparse.Namespace) -> int:
    from pyframegan.models import count_parameters
    from pyframegan.training.checkpoint import load_checkpoint, load_generator

    state = load_checkpoint(args.checkpoint)
    generator = load_generator(args.checkpoint)
    meta = export_generator(generator, args.output, train_config=state.get("config", {}))
    size = Path(args.output).stat().st_size / 2**20
    print(f"wrote {args.output}: {meta['n_in']} -> {meta['n_out']} frames, sizes padded to a multiple of "
          f"{meta['multiple']}, {count_parameters(generator):,} parameters, {size:.1f} MiB "
          f"(checkpoint step {state.get('step')})")
    return 0
