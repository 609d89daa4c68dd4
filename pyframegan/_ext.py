"""Loads the native extension pyframegan._C, with an ImportError that says how to rebuild it."""
from __future__ import annotations

import importlib

import torch

REBUILD = ("Rebuild it against the installed torch, from the pyframegan source folder:\n"
           "    pip install --no-build-isolation --force-reinstall --no-deps .\n"
           "(or `make install`; see README.md).")

_module = None


def load(name: str = "pyframegan._C"):
    """Import the extension once (registering torch.ops.pyframegan.*) and check it matches torch."""
    global _module
    if _module is not None and name == "pyframegan._C":
        return _module
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise ImportError(f"pyframegan's native extension {name} could not be loaded ({exc}). "
                          + REBUILD) from exc
    check_build(module)
    if name == "pyframegan._C":
        _module = module
    return module


def check_build(module) -> None:
    built = module.build_info()["torch_version"]
    if built != torch.__version__:
        raise ImportError(f"pyframegan._C was built for torch {built}, but torch {torch.__version__} is "
                          "installed. " + REBUILD)


def build_info() -> dict:
    info = dict(load().build_info())
    info["torch_running"] = torch.__version__
    info["cuda_available"] = torch.cuda.is_available()
    return info
