"""The `pyframegan` command: one subcommand per pipeline stage.

Each stage module defines ``add_arguments(parser)`` and ``main(args) -> int``.
"""
from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import warnings

from pyframegan.errors import first_line

# subcommand -> (module, one-line help)
COMMANDS = {
    "make-strips": ("pyframegan.make_strips", "cut videos or image sequences into training strips"),
    "make-dataset": ("pyframegan.make_dataset", "write the default model's training set (real + synthetic strips)"),
    "train": ("pyframegan.training", "train the conditional GAN on frame strips"),
    "train-judge": ("pyframegan.training.judge", "train the default model's judge (its learned part) on real windows"),
    "export": ("pyframegan.export", "write a checkpoint's generator as a TorchScript model with metadata"),
    "video": ("pyframegan.video", "interpolate a video: n_out new frames between every two frames"),
    "batch": ("pyframegan.batch", "interpolate many videos (files, folders, globs): resumable, --jobs N, or a Ray cluster"),
    "interpolate": ("pyframegan.interpolate_images", "write the frames between two images"),
    "evaluate": ("pyframegan.evaluate", "compare the model with classical baselines (PSNR, SSIM, time) on video windows"),
    "fetch-data": ("pyframegan.fetch_data", "fetch the training clips that ship inside Debian packages; list all named clips"),
}


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Adds "(default: ...)" to an option's help unless the help already speaks of its default."""

    def _get_help_string(self, action):
        text = action.help or ""
        no_default = action.default is None or action.default is False or action.default == argparse.SUPPRESS
        if "default" in text or no_default or action.required:
            return text
        return super()._get_help_string(action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pyframegan",
                                     description="Video frame interpolation with a conditional GAN.")
    parser.add_argument("--version", action="store_true", help="print version and build information, then exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text,
                           formatter_class=_HelpFormatter)
        p.set_defaults(_module=module)
        importlib.import_module(module).add_arguments(p)
    return parser


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from pyframegan._ext import build_info
        for key, value in build_info().items():
            print(f"{key}: {value}")
        return 0
    if args.command is None:
        parser.print_help()
        return 2
    prefix = f"pyframegan {args.command}"

    def one_line(message, category, filename, lineno, file=None, line=None):  # warnings: one line too
        print(f"{prefix}: warning: {message}", file=sys.stderr)

    debug = os.environ.get("PYFRAMEGAN_DEBUG") == "1"  # 1: tracebacks, for bug reports
    if threading.current_thread() is threading.main_thread():  # SIGTERM ends a command as Ctrl-C does:
        signal.signal(signal.SIGTERM, _interrupt)            # partial outputs are removed
    with warnings.catch_warnings():
        if not debug:
            warnings.showwarning = one_line
        try:
            return int(importlib.import_module(args._module).main(args) or 0)
        except (ValueError, FileNotFoundError) as exc:  # user errors: one clear line, no traceback
            print(f"{prefix}: error: {first_line(exc)}", file=sys.stderr)  # a library's message may be a page
            return 2
        except KeyboardInterrupt:
            if debug:
                raise
            print(f"{prefix}: interrupted", file=sys.stderr)
            return 130
        except (RuntimeError, OSError, MemoryError) as exc:  # a bad device or model, out of memory, I/O
            if debug:
                raise
            first = first_line(exc) or type(exc).__name__
            print(f"{prefix}: error: {first} (PYFRAMEGAN_DEBUG=1 shows the traceback)", file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
