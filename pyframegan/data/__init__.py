"""Data pipeline: decode videos / image sequences, cut scene-consistent windows, assemble strips,
and serve them as uint8 tensors for training. One stage per module:

- :mod:`.video`     decoding (PyAV, image folders) into uint8 RGB frames
- :mod:`.scenecut`  scene-cut detection between consecutive frames
- :mod:`.strips`    the strip layout, windows of consecutive frames, strip image files
- :mod:`.dataset`   :func:`open_strip_dataset`, :class:`StripDataset`, :class:`StripCollate`
"""
from .dataset import StripCollate, StripDataset, open_strip_dataset
from .scenecut import SceneCutDetector, find_cuts
from .strips import (WindowStats, iter_windows, make_strip, probe_strip, read_strip, resize_tiles,
                     seed_layout, split_strip, write_strip)
from .video import fit_max_side, read_frames, read_image_sequence, resize_image, video_info

__all__ = [
    "SceneCutDetector", "StripCollate", "StripDataset", "WindowStats", "find_cuts", "fit_max_side",
    "iter_windows", "make_strip", "open_strip_dataset", "probe_strip", "read_frames",
    "read_image_sequence", "read_strip", "resize_image", "resize_tiles", "seed_layout",
    "split_strip", "video_info", "write_strip",
]
