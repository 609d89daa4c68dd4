"""`pyframegan train`: pix2pix training on frame strips, single process or DDP under torchrun.

The stages, one module each: :mod:`.config` (the options, parsing, checks), :mod:`.env` (process
group, device), :mod:`.batches` (strip batches, synthetic windows), :mod:`.gan` (generator +
discriminator + optimisers + one step), :mod:`.validation` (against the crossfade / DIS, sample
pictures), :mod:`.run_dir`, :mod:`.checkpoint` (atomic save/load, RNG state) and :mod:`.loop`
(the training loop, ``run`` and ``main``).

Run directory (``--run-dir``)::

    config.json            every option, resolved (strip layout, tile size, world size, versions)
    metrics.jsonl          one JSON object a line: {"kind": "train"|"val", "step": ..., ...}
    samples/step_XXXXXX.png  rows of  input frames | ground truth | generated
    checkpoints/last.pt    written atomically; everything needed by --resume

Checkpoints hold only tensors, numbers, strings and plain containers: they load with
``torch.load(path, weights_only=True)`` (see :func:`load_checkpoint`, :func:`load_generator`).
"""
from pyframegan.training.batches import StripData
from pyframegan.training.checkpoint import load_checkpoint, load_generator, save_checkpoint
from pyframegan.training.config import TrainConfig, add_arguments, config_from_args, resolve_layout
from pyframegan.training.env import DistEnv
from pyframegan.training.gan import Pix2Pix
from pyframegan.training.loop import main, run
from pyframegan.training.validation import validate

__all__ = ["TrainConfig", "add_arguments", "config_from_args", "resolve_layout", "DistEnv", "StripData", "Pix2Pix",
           "validate", "load_checkpoint", "load_generator", "save_checkpoint", "run", "main"]
