"""The options shared by the commands that run an exported generator (video, interpolate, evaluate)."""
from __future__ import annotations

import argparse


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """--model and --device."""
    parser.add_argument("--model", default=None, metavar="MODEL.pt",
                        help="exported generator (`pyframegan export`); default: the shipped model")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ...; default: cuda when available")


def int_list(text: str) -> list[int]:
    """An argparse type: "3,2,1" -> [3, 2, 1]."""
    try:
        return [int(v) for v in text.replace(" ", "").split(",") if v != ""]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
