"""`pyframegan make-dataset`: real-video strips without scene cuts, synthetic strips, square tiles."""
import numpy as np

from pyframegan.data.sources import Source
from pyframegan.data.strips import read_strip
from pyframegan.make_dataset import square, write_synthetic_strips, write_video_strips


def test_square_keeps_the_aspect_and_crops_the_centre():
    frame = np.zeros((40, 100, 3), np.uint8)
    frame[:, 45:55] = 255  # a bar in the middle
    out = square(frame, 32)
    assert out.shape == (32, 32, 3)
    assert out[:, 14:18].mean() > 200 and out[:, :8].max() == 0


def test_video_strips_skip_the_scene_cut(clip, lossless_video, tmp_path):
    n = write_video_strips([Source("clip", "video", lossless_video)], tmp_path, 32, 1)
    # windows of 7 inside each shot (18 and 12 distinct frames; the repeated frame is dropped)
    assert n == (clip.scene_a - 6) + (clip.scene_b - 6) == len(list(tmp_path.glob("*.png")))
    strip = read_strip(sorted(tmp_path.glob("*.png"))[0], frames=7)
    assert strip.shape == (32, 7 * 32, 3)
    assert write_video_strips([Source("clip", "video", lossless_video)], tmp_path, 32, 1) == n  # resumable


def test_synthetic_strips_are_written_once(tmp_path):
    photos = [Source("astronaut", "photo"), Source("chelsea", "photo")]
    assert write_synthetic_strips(photos, tmp_path, 64, 3, 20.0, seed=1) == 3
    files = sorted(tmp_path.glob("synthetic_1_*.png"))
    assert len(files) == 3 and read_strip(files[0], frames=7).shape == (64, 7 * 64, 3)
