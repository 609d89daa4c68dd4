"""Outputs written under a temporary name in their folder and renamed when complete."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def temporary_path(path: Path, suffix: str) -> Path:
    """A new empty file beside ``path`` (hidden name ending in ``suffix``) to write and then
    ``os.replace`` onto ``path``. Its mode is what a plain ``open(path, "w")`` would give (0666 less
    the umask), not mkstemp's owner-only 0600, so the renamed output is as readable as any other."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)
    finally:
        os.close(fd)
    return Path(name)
