"""Writes the small fixtures of the C++ tests (ctest) and of tests/test_engine.py, deterministically:

    tiny_generator.pt   an exported pyframegan generator: U-Net n_in 2, n_out 5, ngf 4, depth 3
                        (sizes padded to a multiple of 8), PyTorch's default initialisation (seed 0;
                        unlike pix2pix's N(0, 0.02) it gives outputs that differ from pixel to pixel)
    a.ppm, b.ppm        two 21x13 binary PPM (P6) frames: a bright square moving right over a gradient

Run from the repository root:  python tests/data/make_tiny_model.py
"""
from pathlib import Path

import numpy as np
import torch

from pyframegan.export import export_generator
from pyframegan.models import build_generator

HERE = Path(__file__).parent
CONFIG = {"arch": "unet", "n_in": 2, "n_out": 5, "ngf": 4, "depth": 3, "norm": "batch", "dropout": False}
WIDTH, HEIGHT = 21, 13


def frame(t: int) -> np.ndarray:
    y, x = np.mgrid[:HEIGHT, :WIDTH]
    image = np.stack([10 * x, 18 * y, 200 - 8 * x], -1)
    image[3:9, 2 + 8 * t:8 + 8 * t] = (250, 240, 30)
    return image.clip(0, 255).astype(np.uint8)


def write_ppm(path: Path, image: np.ndarray) -> None:
    height, width, _ = image.shape
    path.write_bytes(f"P6\n{width} {height}\n255\n".encode() + image.tobytes())


def main() -> None:
    torch.manual_seed(0)
    generator = build_generator(CONFIG, init=False)
    export_generator(generator, HERE / "tiny_generator.pt")
    write_ppm(HERE / "a.ppm", frame(0))
    write_ppm(HERE / "b.ppm", frame(1))
    for name in ("tiny_generator.pt", "a.ppm", "b.ppm"):
        print(f"wrote {HERE / name} ({(HERE / name).stat().st_size} bytes)")


if __name__ == "__main__":
    main()
