"""Outputs written under a temporary name in their folder and renamed when complete: the one way
every writer (checkpoints, run files, exported models, strips, fetched clips, videos, images,
reports) puts a file in place, so a reader sees the old file or the whole new one, never a part."""
from __future__ import annotations

import contextlib
import glob
import os
import uuid
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

_TRIES = 100  # fresh random names drawn before giving up (a clash needs another writer's same draw)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporary files of ``path`` (``.NAME.<pid>-<hex>...``) whose writing process is
    gone (killed with SIGKILL, say, which no handler sees); returns them."""
    removed = []
    prefix = f".{path.name}."
    for p in path.parent.glob(f"{glob.escape(prefix)}*-*"):  # escaped: names such as "clip [1080p].mp4"
        pid = p.name[len(prefix):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def temporary_path(path: Path, suffix: str) -> Path:
    """A new empty file beside ``path`` (hidden, named after this process and a random tag, ending
    in ``suffix``) to write and then ``os.replace`` onto ``path``; stale temporaries of ``path``
    left by dead processes are removed first. Created like any new file, mode 0666 less the umask
    (not mkstemp's owner-only 0600), so the renamed output is as readable as any other."""
    if path.is_dir():  # the rename would fail after all the work, naming the temporary file
        raise ValueError(f"{path}: is a folder; give the name of a file to write")
    if path.parent.is_dir():
        remove_stale_temporaries(path)
    for _ in range(_TRIES):
        tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}")
        try:
            os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path} after {_TRIES} tries")


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, suffix: str = ".tmp", durable: bool = False) -> Iterator[Path]:
    """``with atomic_output(path) as tmp:`` write ``tmp``; when the block ends without an exception
    it is renamed onto ``path`` (``durable``: the file and the rename are fsynced first / after),
    otherwise removed. Keep ``path``'s extension in ``suffix`` for writers that pick the format
    from the name (video containers)."""
    path = Path(path)
    tmp = temporary_path(path, suffix)
    try:
        yield tmp
        if durable:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if durable:  # make the rename itself durable
        try:
            fd = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            pass


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object], durable: bool = True) -> None:
    """``write(file)`` into a temporary file beside ``path``, then in place (see :func:`atomic_output`)."""
    with atomic_output(path, durable=durable) as tmp, open(tmp, "wb") as f:
        write(f)
