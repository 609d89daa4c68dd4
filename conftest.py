"""Repository-wide pytest set-up."""
import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # `pytest` runs each benchmark once, as a smoke test; `pytest --benchmark-only` times them.
    if hasattr(config.option, "benchmark_disable") and not config.getoption("benchmark_only"):
        config.option.benchmark_disable = True
