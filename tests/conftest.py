"""Shared fixtures for data tests: a small synthetic clip with known pixels, written with PyAV.

Use the fixtures (``clip``, ``lossless_video``, ``h264_video``) rather than importing this module:
several conftest.py files exist in the repository and ``import conftest`` is ambiguous.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
import torch


@dataclass(frozen=True)
class SyntheticClip:
    """``scene_a`` frames of a textured background with a moving square, a hard cut, then ``scene_b``
    frames of another scene with a moving disk. Every frame is distinct. ``file_frames`` (what the
    video files hold) repeats frame ``repeated`` once, as an exact duplicate."""
    scene_a: int = 18
    scene_b: int = 12
    repeated: int = 5
    height: int = 64
    width: int = 96

    def _a(self, t: int) -> np.ndarray:
        y, x = np.mgrid[:self.height, :self.width]
        frame = np.stack([20 + x, 40 + y, 90 + 30 * np.sin((x + 2 * t) / 5.0)], -1)
        top, left = 10 + t, 5 + 4 * t  # a bright square moving down-right
        frame[top:top + 14, left:left + 14] = (230, 230, 210)
        return frame.clip(0, 255).astype(np.uint8)

    def _b(self, t: int) -> np.ndarray:
        y, x = np.mgrid[:self.height, :self.width]
        frame = np.stack([np.full_like(x, 240), 150 + y, 60 + 0 * x], -1)
        frame[(y - 32) ** 2 + (x - 80 + 5 * t) ** 2 < 100] = (30, 20, 60)  # a dark disk moving left
        return frame.clip(0, 255).astype(np.uint8)

    def frames(self) -> list[np.ndarray]:
        """The distinct frames, in order."""
        return [self._a(t) for t in range(self.scene_a)] + [self._b(t) for t in range(self.scene_b)]

    def file_frames(self) -> list[np.ndarray]:
        frames = self.frames()
        return frames[:self.repeated + 1] + frames[self.repeated:]

    @staticmethod
    def write(path: Path, frames: list[np.ndarray], codec: str = "png", fps: int = 25) -> Path:
        """Encode frames with PyAV: "png" (in .mov) is lossless RGB, "libx264" (in .mp4) lossy."""
        with av.open(str(path), "w") as container:
            stream = container.add_stream(codec, rate=fps)
            stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
            stream.pix_fmt = "rgb24" if codec == "png" else "yuv420p"
            for image in frames:
                container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            container.mux(stream.encode())
        return path


@pytest.fixture(scope="session")
def clip() -> SyntheticClip:
    return SyntheticClip()


@pytest.fixture(scope="session")
def lossless_video(clip, tmp_path_factory) -> Path:
    """The clip losslessly encoded: decoded frames equal ``clip.file_frames()`` exactly."""
    return clip.write(tmp_path_factory.mktemp("video") / "clip.mov", clip.file_frames())


@pytest.fixture(scope="session")
def h264_video(clip, tmp_path_factory) -> Path:
    """The clip as an ordinary lossy H.264 .mp4."""
    return clip.write(tmp_path_factory.mktemp("video") / "clip.mp4", clip.file_frames(), codec="libx264")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """An exported random generator (U-Net ngf 8, depth 4: 2 frames in, 5 out), for engine, video and
    evaluate tests."""
    from pyframegan import export
    from pyframegan.models import build_generator
    torch.manual_seed(0)
    g = build_generator({"arch": "unet", "n_in": 2, "n_out": 5, "ngf": 8, "depth": 4, "norm": "batch"})
    path = tmp_path_factory.mktemp("model") / "tiny.pt"
    export.export_generator(g, path)
    return path
