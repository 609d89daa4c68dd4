"""The picture of `pyframegan evaluate --picture`: one row per window, one labelled column per
method, each tile with its PSNR under it."""
from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

from PIL import Image, ImageDraw, ImageFont

from pyframegan.data.decode import resize_image
from pyframegan.files import atomic_output

PICTURE_TILE_WIDTH = 320  # tiles wider than this are scaled down in the picture


def _font(size: int):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: one fixed bitmap font
        return ImageFont.load_default()


def make_picture(rows: Sequence[dict], columns: Sequence[str], path: str | os.PathLike) -> None:
    """One row per window (its label above it), one labelled column per image, PSNR under each tile."""
    if not rows:
        raise ValueError("no windows to show in the picture")
    font, small = _font(14), _font(12)
    pad, header, label_h, caption_h = 6, 24, 20, 18
    scaled = []
    for row in rows:
        h, w = row["images"][0].shape[:2]
        if w > PICTURE_TILE_WIDTH:
            size = (max(2, round(h * PICTURE_TILE_WIDTH / w)), PICTURE_TILE_WIDTH)
            scaled.append([resize_image(img, size) for img in row["images"]])
        else:
            scaled.append(list(row["images"]))
    tile_w = max(imgs[0].shape[1] for imgs in scaled)
    tile_w = max(tile_w, max(int(math.ceil(small.getlength(c))) for c in columns) + 4)
    width = pad + len(columns) * (tile_w + pad)
    height = header + sum(label_h + imgs[0].shape[0] + caption_h for imgs in scaled) + pad
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for c, name in enumerate(columns):
        x = pad + c * (tile_w + pad)
        draw.text((x + tile_w / 2, header / 2), name, fill=(0, 0, 0), font=small, anchor="mm")
    y = header
    for row, imgs in zip(rows, scaled):
        draw.text((pad, y + label_h / 2), row["label"], fill=(60, 60, 60), font=font, anchor="lm")
        y += label_h
        for c, (img, value) in enumerate(zip(imgs, row["psnr"])):
            x = pad + c * (tile_w + pad)
            canvas.paste(Image.fromarray(img), (x, y))
            text = "" if value is None else f"PSNR {value:.2f} dB"
            draw.text((x + img.shape[1] / 2, y + img.shape[0] + caption_h / 2), text, fill=(0, 0, 0),
                      font=small, anchor="mm")
        y += imgs[0].shape[0] + caption_h
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, f".partial{path.suffix}") as tmp:
        canvas.save(tmp, format=Image.registered_extensions().get(path.suffix.lower(), "PNG"))
