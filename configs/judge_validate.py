"""Validation gain of trained judges on the judge loop's held-out windows, at several scales.

    .venv/bin/python configs/judge_validate.py 512,320 pyframegan/weights/default.pt [runs/judgeN/best.pt ...]
    SEED=1 .venv/bin/python configs/judge_validate.py 512 ...     (the windows of --seed 1 instead)

Scores each judge (a ``pyframegan train-judge`` run's ``best.pt``, or an exported model's) against the
model without it on the validation windows that ``train-judge --seed SEED --val-per-span 16`` uses
(spans 2 and 6 of the split's held-out time ranges; SEED 0 unless set), drawn at each longest side
given; prints the gain per span and scale
(``span2@320``: span 2 at 320 px) and their mean, as the run's own validation does
(docs/results.md, the judge's runs). About 10 s per scale and judge on an idle 2-core machine.
"""
import json
import os
import sys
from pathlib import Path


from pyframegan.data.sources import default_sources
from pyframegan.models import build_generator
from pyframegan.training import judge as loop


def main(argv: list[str]) -> None:
    if len(argv) < 2:
        sys.exit(__doc__)
    sides = loop.int_list(argv[0], "sides", 32, 4096)
    model = build_generator(dict(loop.MODEL))
    _, val_sources = default_sources(fetch=False, photos=False)
    seed = loop.int_list(os.environ.get("SEED", "0"), "SEED", 0, 2**31 - 1)[0]
    val = loop.validation_windows(val_sources, 16, sides, model, seed, lambda msg: None)
    for path in argv[1:]:
        weights, config, where = loop.saved_judge(Path(path))
        judged = build_generator({**loop.MODEL, **{k: config.get(k, v) for k, v in loop.JUDGE_KEYS.items()}})
        judged.judge.load_state_dict(weights)
        result = loop.validate(judged, val)
        print(path, where, json.dumps({k: v["gain"] if isinstance(v, dict) else v for k, v in result.items()}),
              flush=True)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (ValueError, OSError) as exc:  # a bad list of sides, a missing or unreadable checkpoint: one line
        sys.exit(f"judge_validate.py: {exc}")
