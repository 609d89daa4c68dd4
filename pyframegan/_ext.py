"""Loads the native extension pyframegan._C, with an ImportError that says how to rebuild it."""
from __future__ import annotations

import importlib

import torch

REBUILD = ("Rebuild it against the installed torch, from the pyframegan source folder:\n"
           "    pip install --no-build-isolation --force-reinstall --no-deps .\n"
           "(or `make install`; see README.md).")

_module = None


def load():
    """Import pyframegan._C once (registering torch.ops.pyframegan.*) and check it matches torch."""
    global _module
    if _module is not None:
        return _module
    try:
        module = importlib.import_module("pyframegan._C")
    except ImportError as exc:
        raise ImportError(f"pyframegan's native extension pyframegan._C could not be loaded ({exc}). "
                          + REBUILD) from exc
    built = module.build_info()["torch_version"]
    if built != torch.__version__:
        raise ImportError(f"pyframegan._C was built for torch {built}, but torch {torch.__version__} is "
                          "installed. " + REBUILD)
    _module = module
    return module


def build_info() -> dict:
    info = dict(load().build_info())
    info["torch_running"] = torch.__version__
    info["cuda_available"] = torch.cuda.is_available()
    return info
