"""Model construction behind a small factory.

A model config is a plain dict (it is stored in checkpoints, so export can rebuild the model):
``{"arch": "unet", "n_in": 2, "n_out": 5, "ngf": 64, "depth": 7, "norm": "batch", "dropout": True}``
``{"arch": "patchgan", "n_in": 2, "n_out": 5, "ndf": 64, "n_layers": 3, "norm": "batch"}``
Every built model carries its complete config as ``model.config``. New architectures are added
to ``GENERATORS`` / ``DISCRIMINATORS``.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from torch import nn

from pyframegan.models import flow, hybrid, unet
from pyframegan.models.flow import FlowInterpolator
from pyframegan.models.hybrid import HybridInterpolator
from pyframegan.models.patchgan import PatchDiscriminator
from pyframegan.models.unet import NORMS, UNetGenerator

__all__ = ["GENERATORS", "DISCRIMINATORS", "GENERATOR_KINDS", "NORMS", "UNetGenerator", "FlowInterpolator", "HybridInterpolator", "PatchDiscriminator",
           "build_generator", "build_discriminator", "init_weights", "count_parameters"]

GENERATORS: dict[str, Callable[..., nn.Module]] = {"unet": UNetGenerator, "flow": FlowInterpolator,
                                                  "hybrid": HybridInterpolator}
DISCRIMINATORS: dict[str, Callable[..., nn.Module]] = {"patchgan": PatchDiscriminator}
# each generator kind's module declares, for `pyframegan train`, its options (add_train_options),
# its model config (train_config) and its checks (check_train_config; check_unused: its options
# given while another kind is chosen)
GENERATOR_KINDS = {"unet": unet, "flow": flow, "hybrid": hybrid}


def _build(registry: Mapping[str, Callable[..., nn.Module]], kind: str, config: Mapping[str, Any],
           init: bool) -> nn.Module:
    kwargs = dict(config)
    arch = kwargs.pop("arch", next(iter(registry)))
    if arch not in registry:
        raise ValueError(f"unknown {kind} architecture {arch!r}; expected one of {', '.join(registry)}")
    try:
        model = registry[arch](**kwargs)
    except TypeError as exc:  # an option this architecture does not have
        raise ValueError(f"bad {kind} config {dict(config)}: {exc}") from None
    if init:
        init_weights(model)
    return model


def build_generator(config: Mapping[str, Any], init: bool = True) -> nn.Module:
    """Generator from its config dict (``arch`` picks the class); weights N(0, 0.02) when ``init``."""
    return _build(GENERATORS, "generator", config, init)


def build_discriminator(config: Mapping[str, Any], init: bool = True) -> nn.Module:
    """Discriminator from its config dict; weights N(0, 0.02) when ``init``."""
    return _build(DISCRIMINATORS, "discriminator", config, init)


def init_weights(model: nn.Module, gain: float = 0.02) -> nn.Module:
    """pix2pix initialisation: conv weights N(0, gain), biases 0; BatchNorm weights N(1, gain).
    Layers marked ``zero_init`` (a residual output head) start at zero. A model with its own
    ``initialize()`` (the flow generator) is initialised by it instead."""
    if hasattr(model, "initialize"):
        model.initialize()
        return model
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.0 if getattr(m, "zero_init", False) else gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)
    return model


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
