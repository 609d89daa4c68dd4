"""Outputs written under a temporary name in their folder and renamed when complete."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

_TRIES = 100  # fresh random names drawn before giving up (a clash needs another writer's same draw)


def temporary_path(path: Path, suffix: str) -> Path:
    """A new empty file beside ``path`` (hidden, a random name ending in ``suffix``) to write and
    then ``os.replace`` onto ``path``. Created like any new file, mode 0666 less the umask (not
    mkstemp's owner-only 0600), so the renamed output is as readable as any other."""
    for _ in range(_TRIES):
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}{suffix}")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path} after {_TRIES} tries")
