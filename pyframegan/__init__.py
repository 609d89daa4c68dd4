"""pyframegan: video frame interpolation with a conditional GAN (pix2pix) and fused C++/CUDA kernels."""
from pyframegan import _ext

_ext.load()  # fail at import, with instructions, when the native extension is missing or stale

from pyframegan import ops  # noqa: E402
from pyframegan.engine import Interpolator, interpolate  # noqa: E402

__version__ = "0.1.0"
__all__ = ["ops", "Interpolator", "interpolate", "__version__"]
