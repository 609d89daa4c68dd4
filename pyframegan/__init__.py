"""pyframegan: video frame interpolation with a conditional GAN (pix2pix) and fused C++/CUDA kernels."""
import os

# pyframegan video runs decoding, inference and encoding in threads that share the cores; OpenMP
# workers that spin while idle would take them from the decoder and the encoder (measured: the demo
# video 68 s instead of 76 s on 2 cores; training speed unchanged). Read once, when torch loads its
# OpenMP runtime, so it only takes effect when pyframegan is imported before torch; an
# OMP_WAIT_POLICY set by the user wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from pyframegan import _ext  # noqa: E402

_ext.load()  # fail at import, with instructions, when the native extension is missing or stale

from pyframegan import ops  # noqa: E402
from pyframegan.engine import Interpolator, interpolate  # noqa: E402

__version__ = "0.1.0"
__all__ = ["ops", "Interpolator", "interpolate", "__version__"]
