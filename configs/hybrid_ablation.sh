#!/usr/bin/env bash
# Short ablation of the hybrid generator's loss terms (configs/hybrid.sh's recipe, 300 steps each, same
# seed and data): the recipe; without the pseudo-label flow loss; with the GAN term 100x weaker (the
# other weights 100x stronger: Adam does not see the overall scale). Validation every 100 steps
# reports the model against its untrained self (= DIS + the motion prior) on the same held-out strips.
#   bash configs/hybrid_ablation.sh     (about 6 CPU-minutes a run on 2 cores; results in runs/ablation-*/metrics.jsonl)
set -euo pipefail
PY=${PY:-.venv/bin/python}
STEPS=${STEPS:-300}
[ -d runs/dataset/train ] || $PY -m pyframegan.cli make-dataset -o runs/dataset --synthetic 1500 --synthetic-val 100 --step 3 --fetch
run() {  # name, then the loss weights
  local name=$1; shift
  [ -f "runs/ablation-$name/checkpoints/last.pt" ] && { $PY -m pyframegan.cli train --run-dir "runs/ablation-$name" --resume; return; }
  $PY -m pyframegan.cli train --data runs/dataset/train --arch hybrid --ndf 32 --val-fraction 0.05 --workers 1 \
    --run-dir "runs/ablation-$name" --size 192 --batch-size 4 --steps "$STEPS" --warmup-steps 100 --lr 5e-5 \
    --frame-loss psnr --val-every 100 --sample-every 100000 --checkpoint-every 50 --seed 0 "$@"
}
run recipe --lambda-frame 10000 --lambda-flow 200
run no-pseudo-labels --lambda-frame 10000 --lambda-flow 0
run weak-gan --lambda-frame 1000000 --lambda-flow 20000
for name in recipe no-pseudo-labels weak-gan; do
  $PY - "$name" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(f"runs/ablation-{sys.argv[1]}/metrics.jsonl") if '"val"' in l]
print(sys.argv[1], " ".join(f"step {r['step']}: {r['psnr'] - r['psnr_dis']:+.4f} dB" for r in rows))
PY
done
