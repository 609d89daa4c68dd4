"""Prints, after `pytest --benchmark-only`, each benchmark group's times as ratios to its reference.

Within a group, the benchmark whose name contains "reference" is the baseline (1.0); every other
benchmark is reported as `reference_time / time` (higher = faster). Throughput figures that a
benchmark stores in `benchmark.extra_info` are printed beside it.
"""
from collections import defaultdict


def pytest_terminal_summary(terminalreporter, config):
    session = getattr(config, "_benchmarksession", None)
    if session is None or session.disabled or not session.benchmarks:
        return
    groups = defaultdict(list)
    for bench in session.benchmarks:
        groups[bench.group or bench.name].append(bench)
    write = terminalreporter.write_line
    write("")
    write("pyframegan benchmark ratios (median times; speed-up = reference / this)")
    for group, benches in sorted(groups.items()):
        refs = [b for b in benches if "reference" in b.name]
        base = refs[0].stats.median if refs else None
        write(f"  {group}")
        for b in sorted(benches, key=lambda b: b.stats.median):
            ratio = f"x{base / b.stats.median:7.2f}" if base else ""
            extra = "  ".join(f"{k}={v}" for k, v in b.extra_info.items())
            write(f"    {b.name:<60} {b.stats.median * 1e3:10.3f} ms {ratio}  {extra}")
