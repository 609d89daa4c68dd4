"""Helpers for the test suite and benchmarks (imports pytest). CUDA cases carry the `cuda` mark and skip without a GPU."""
import pytest
import torch

CUDA = pytest.param("cuda", marks=[pytest.mark.cuda,
                                   pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")])
DEVICES = ["cpu", CUDA]
