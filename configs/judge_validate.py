"""Validation gain of trained judges on the judge loop's held-out windows, at several scales.

    .venv/bin/python configs/judge_validate.py 512,320 runs/judge5/best.pt [runs/judgeN/best.pt ...]

Scores each ``best.pt`` (a ``pyframegan train-judge`` run's best judge) against the model without it
on the validation windows that ``train-judge --seed 0 --val-per-span 16`` uses (spans 2 and 6 of the
split's held-out time ranges), drawn at each longest side given; prints the gain per span and scale
(``span2@320``: span 2 at 320 px) and their mean, as the run's own validation does
(docs/results.md, the judge's runs). About 10 s per scale and judge on an idle 2-core machine.
"""
import json
import sys

import torch

from pyframegan.data.sources import default_sources
from pyframegan.models import build_generator
from pyframegan.training import judge as loop


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit(__doc__)
    sides = loop.int_list(argv[0], "sides", 32, 4096)
    model = build_generator(dict(loop.MODEL))
    _, val_sources = default_sources(fetch=False, photos=False)
    val = loop.validation_windows(val_sources, 16, sides, model, 0, lambda msg: None)
    for path in argv[1:]:
        best = torch.load(path, weights_only=True)
        judged = build_generator(best["config"])
        judged.judge.load_state_dict(best["judge"])
        result = loop.validate(judged, val)
        print(path, f"step {best['step']}", json.dumps({k: v["gain"] if isinstance(v, dict) else v for k, v in result.items()}),
              flush=True)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (ValueError, OSError) as exc:  # a bad list of sides, a missing or unreadable checkpoint: one line
        sys.exit(f"judge_validate.py: {exc}")
