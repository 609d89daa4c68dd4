"""How an error is reported in one line: by the CLI, a batch's manifest and the Ray worker's
failure message. Here, below every command, so that none of them imports it from the CLI."""
from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message ("" when it has none): how errors are reported in
    one line (the CLI, a batch's manifest)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
