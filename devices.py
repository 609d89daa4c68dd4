"""Device parameters for the test suite and benchmarks: CUDA cases carry the `cuda` mark and skip without a GPU.
Importable from tests and benchmarks because the repository root (which holds conftest.py) is on pytest's path."""
import pytest
import torch

CUDA = pytest.param("cuda", marks=[pytest.mark.cuda,
                                   pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")])
DEVICES = ["cpu", CUDA]
