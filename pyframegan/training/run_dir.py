"""The run directory: config.json, metrics.jsonl, samples/, checkpoints/."""
from __future__ import annotations

import json
from pathlib import Path

from pyframegan.files import atomic_write


class RunDir:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.config = self.root / "config.json"
        self.metrics = self.root / "metrics.jsonl"
        self.samples = self.root / "samples"
        self.checkpoints = self.root / "checkpoints"
        self.last = self.checkpoints / "last.pt"

    def create(self) -> None:
        for d in (self.root, self.samples, self.checkpoints):
            d.mkdir(parents=True, exist_ok=True)
        # temporaries of runs killed while writing, as the checkpoint writer named them before
        # files.atomic_output (which removes its own dead writers' temporaries as it writes)
        for stale in self.checkpoints.glob(".*.tmp-*"):
            stale.unlink(missing_ok=True)

    def write_config(self, record: dict) -> None:
        atomic_write(self.config, lambda f: f.write(json.dumps(record, indent=2).encode()))

    def read_config(self) -> dict:
        try:
            return json.loads(self.config.read_text())["config"]
        except FileNotFoundError:
            raise FileNotFoundError(f"--resume: no run to resume, {self.config} does not exist") from None
        except (ValueError, KeyError) as exc:
            raise ValueError(f"--resume: {self.config} is not a pyframegan run config ({exc})") from None

    def log(self, record: dict) -> None:
        with open(self.metrics, "a") as f:
            f.write(json.dumps(record) + "\n")

    def truncate_log(self, step: int) -> None:
        """Drop records written after ``step`` by a run that was killed before its next checkpoint."""
        if not self.metrics.exists():
            return
        keep = []
        for line in self.metrics.read_text().splitlines():
            try:
                if json.loads(line)["step"] <= step:
                    keep.append(line + "\n")
            except (ValueError, KeyError, TypeError):
                pass  # a line torn by the kill
        atomic_write(self.metrics, lambda f: f.write("".join(keep).encode()))

    def sample_path(self, step: int) -> Path:
        return self.samples / f"step_{step:06d}.png"
