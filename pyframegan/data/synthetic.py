"""Synthetic motion with exact ground truth, rendered on the fly.

A window of F frames (default 7) shows a background image under a smooth random affine motion
(translation up to ``max_shift`` pixels over the window, rotation, zoom, a bent path, acceleration)
and 1-3 pasted layers -- random crops of other images cut out by random masks (ellipses, rounded
rectangles, polygons, blobs; hard or soft edges) -- each under its own affine motion. Every frame is
rendered directly from the source images with ``torch.nn.functional.grid_sample`` (bilinear, float32)
and quantised to uint8, so the motion of every pixel is known exactly:

- ``strip``: uint8 [H, F*W, 3] in the seed layout (tiles ``1 2 3 4 5 | 0 6``), like the items of
  :class:`~pyframegan.data.dataset.StripDataset`;
- ``flow_t0`` / ``flow_t1``: float32 [F-2, 2, H, W], backward flows (dx, dy in pixels) from each
  target time t = 1..F-2 to input 0 (time 0) and input 1 (time F-1): the scene point seen at pixel p
  of frame t is at ``p + flow(p)`` in the input frame, so ``grid_sample(input, p + flow)``
  reproduces the target where it is visible (see :func:`warp`);
- ``visibility``: float32 [F-2, 2, H, W], index 1 = (input 0, input 1): 1 where the surface seen at
  the target pixel is visible in that input, 0 where it is occluded there or out of its frame;
  fractional only on mixed pixels (soft or anti-aliased layer edges), as the fraction of the
  target pixel's colour that comes from that surface and is unobstructed in the input;
- ``flow_01`` / ``flow_10`` [2, H, W] and ``visibility_inputs`` [2, H, W]: the same between the two
  inputs (frame 0 -> input 1, frame F-1 -> input 0);
- ``times``: float32 [F-2], the targets' times in (0, 1).

The visible surface at a pixel is the top-most layer whose alpha there exceeds 0.5, else the
background; its flow is given there.

Each window is a pure function of (seed, index): :meth:`SyntheticMotion.render` gives window
``index``; iterating gives windows 0, 1, 2, ... (split between DataLoader workers), forever or
``length`` of them. Sources are images (uint8 [H, W, 3] arrays) or :class:`~.sources.Source`
objects: photographs, and frames sampled from clips (see :func:`load_images`). Validation uses
images the training set does not (:func:`~.sources.default_sources`).

Sources are never sampled with more than one source pixel per output pixel (bilinear sampling does
not filter, so minification would alias); images are stored scaled down to about 1.25x the largest
view they must cover. Warping a rendered input with the given flow reproduces a visible target
pixel to within resampling error (42-50 dB PSNR on scikit-image photos).

Speed: about 40 ms per 7-frame 256x256 window (18 ms at 128x128, 145 ms at 512x512) on one core.
Render with one thread per process -- DataLoader workers do; in the main process call
``torch.set_num_threads(1)`` on a busy machine, where waking a second thread for each small op
costs far more than it gains.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFilter
from torch.utils.data import Dataset, IterableDataset, get_worker_info

from .strips import seed_layout
from ..warp import backward_warp as warp  # noqa: F401  (the one backward warp, for users of this module)
from .decode import fit_max_side, resize_image


# --- motion ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Motion:
    """A smooth affine motion over the window, about a centre, in output pixels.

    shift: displacement (dx, dy) of the content between the first and last frame.
    rotation: degrees turned over the window; zoom: log of the scale change over the window.
    bend: sideways bulge of the path at mid-window, as a fraction of |shift|.
    accel: time warp ``s = u + accel * u * (1 - u)`` (u = t / (F-1)); |accel| < 1 keeps it monotonic.
    """
    shift: tuple[float, float] = (0.0, 0.0)
    rotation: float = 0.0
    zoom: float = 0.0
    bend: float = 0.0
    accel: float = 0.0

    def matrices(self, times: np.ndarray, center: tuple[float, float]) -> np.ndarray:
        """[T, 3, 3] maps taking a content point's position at time 0 to its position at each time
        (times in [0, 1]): ``p -> c + shift(s) + zoom(s) * R(s) (p - c)``."""
        u = np.asarray(times, dtype=np.float64)
        s = u + self.accel * u * (1 - u)
        dx, dy = self.shift
        # sideways bulge: perpendicular to the shift, 4 s (1 - s) peaks at 1 mid-way
        bx, by = -dy * self.bend, dx * self.bend
        tx = dx * s + bx * 4 * s * (1 - s)
        ty = dy * s + by * 4 * s * (1 - s)
        angle = np.deg2rad(self.rotation) * s
        scale = np.exp(self.zoom * s)
        cos, sin = scale * np.cos(angle), scale * np.sin(angle)
        cx, cy = center
        m = np.zeros((len(u), 3, 3))
        m[:, 0, 0], m[:, 0, 1] = cos, -sin
        m[:, 1, 0], m[:, 1, 1] = sin, cos
        m[:, 0, 2] = cx + tx - cos * cx + sin * cy
        m[:, 1, 2] = cy + ty - sin * cx - cos * cy
        m[:, 2, 2] = 1
        return m


def _similarity(scale: float, angle_deg: float, src_center, dst_center) -> np.ndarray:
    """3x3 map ``q -> dst + scale * R(angle) (q - src)``."""
    a = math.radians(angle_deg)
    c, s = scale * math.cos(a), scale * math.sin(a)
    m = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    m[:2, 2] = np.asarray(dst_center, dtype=np.float64) - m[:2, :2] @ np.asarray(src_center, dtype=np.float64)
    return m


@dataclass
class Surface:
    """One image of a window: the background (no mask) or a layer (colour and a mask).

    ``maps`` [T, 3, 3] take surface pixel coordinates (x, y; pixel centres at integers) to output
    pixel coordinates at each frame time.
    """
    image: np.ndarray                 # uint8 [h, w, 3]
    maps: np.ndarray                  # [T, 3, 3] float64
    mask: np.ndarray | None = None    # float32 [h, w] in [0, 1], None for the background


# --- rendering ------------------------------------------------------------------------------------
def _pixel_to_normalized(h: int, w: int) -> np.ndarray:
    """3x3 map from pixel coordinates (pixel centres at integers) of an h x w image to the
    normalized coordinates of grid_sample / affine_grid with align_corners=False."""
    return np.array([[2.0 / w, 0, 1.0 / w - 1], [0, 2.0 / h, 1.0 / h - 1], [0, 0, 1]])


def _translation(dx: float, dy: float) -> np.ndarray:
    return np.array([[1.0, 0, dx], [0, 1.0, dy], [0, 0, 1]])


def _affine_field(m: np.ndarray, h: int, w: int, channels_last: bool = False) -> torch.Tensor:
    """[N, 2, 3] affine maps applied to the pixel coordinates (x, y) of an h x w grid -> [N, 2, h, w]
    (or [N, h, w, 2] with ``channels_last``) float32. Separable: each coordinate is a row vector plus
    a column vector, so the field costs one broadcast add."""
    m = np.asarray(m, dtype=np.float64)
    rows = m[:, :, 0:1] * np.arange(w) + m[:, :, 2:3]  # [N, 2, w]
    cols = m[:, :, 1:2] * np.arange(h)                 # [N, 2, h]
    if channels_last:
        rows = torch.from_numpy(np.ascontiguousarray(rows.transpose(0, 2, 1), dtype=np.float32))
        cols = torch.from_numpy(np.ascontiguousarray(cols.transpose(0, 2, 1), dtype=np.float32))
        return rows[:, None, :, :] + cols[:, :, None, :]
    rows = torch.from_numpy(rows.astype(np.float32))
    cols = torch.from_numpy(cols.astype(np.float32))
    return rows[:, :, None, :] + cols[:, :, :, None]


def _sample_window(image: torch.Tensor, to_image: np.ndarray, offsets: np.ndarray,
                   hw: tuple[int, int]) -> torch.Tensor:
    """Bilinear samples [C, N, h, w] (zeros outside) of ``image`` [C, H', W'] over windows of the
    output frames.

    to_image [N, 3, 3]: output pixel -> image pixel; offsets [N, 2]: (x, y) of each window's first
    pixel in the output frame; hw: the windows' size.
    """
    h, w = hw
    ih, iw = image.shape[-2:]
    n = len(to_image)
    theta = _pixel_to_normalized(ih, iw)[None] @ to_image @ np.stack([_translation(ox, oy) for ox, oy in offsets])
    grid = _affine_field(theta[:, :2], h, w, channels_last=True).view(1, n * h, w, 2)  # frames stacked
    image = image.unsqueeze(0).contiguous(memory_format=torch.channels_last)
    out = F.grid_sample(image, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.view(-1, n, h, w)


def _layer_windows(surface: "Surface", size: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
    """Per frame, a window of the output holding the whole layer (one size for all frames):
    offsets [T, 2] (x, y) and (h, w)."""
    h, w = size
    lh, lw = surface.image.shape[:2]
    corners = np.array([[-1, -1, 1], [lw, -1, 1], [-1, lh, 1], [lw, lh, 1]], dtype=np.float64).T
    pts = surface.maps @ corners  # [T, 3, 4]
    x0 = np.clip(np.floor(pts[:, 0].min(1)) - 1, 0, w - 1).astype(int)
    x1 = np.clip(np.ceil(pts[:, 0].max(1)) + 2, 1, w).astype(int)
    y0 = np.clip(np.floor(pts[:, 1].min(1)) - 1, 0, h - 1).astype(int)
    y1 = np.clip(np.ceil(pts[:, 1].max(1)) + 2, 1, h).astype(int)
    bh, bw = int(max(1, (y1 - y0).max())), int(max(1, (x1 - x0).max()))
    offsets = np.stack([np.minimum(x0, w - bw), np.minimum(y0, h - bh)], 1)
    return offsets, (bh, bw)


def render_window(surfaces: Sequence[Surface], size: tuple[int, int], frames: int = 7) -> dict[str, torch.Tensor]:
    """Render a window and its ground truth (keys as in the module docstring, plus ``frames``:
    uint8 [F, H, W, 3] in time order). ``surfaces[0]`` is the background, the rest are layers
    drawn in order (last on top). The background should cover the frame at every time (outside
    its image it is black); :class:`SyntheticMotion` places it so."""
    h, w = size
    n_layers = len(surfaces) - 1
    inverse = [np.linalg.inv(s.maps) for s in surfaces]  # output px -> surface px, per frame

    # background: only the part of the image the window sees is converted to float
    bg_image = surfaces[0].image
    corners = np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]], dtype=np.float64).T
    src = inverse[0] @ corners
    ih, iw = bg_image.shape[:2]
    x0 = int(np.clip(np.floor(src[:, 0].min()) - 2, 0, iw - 1))
    x1 = int(np.clip(np.ceil(src[:, 0].max()) + 3, x0 + 1, iw))
    y0 = int(np.clip(np.floor(src[:, 1].min()) - 2, 0, ih - 1))
    y1 = int(np.clip(np.ceil(src[:, 1].max()) + 3, y0 + 1, ih))
    crop = torch.from_numpy(np.ascontiguousarray(bg_image[y0:y1, x0:x1])).permute(2, 0, 1).float()
    out = _sample_window(crop, _translation(-x0, -y0)[None] @ inverse[0], np.zeros((frames, 2)), (h, w))
    out = out.contiguous()  # [3, F, H, W]

    # layers (premultiplied RGB + alpha), each sampled only in a window around it. Per pixel keep
    # the seen surface (the top-most layer with alpha > 0.5, else the background: 0) and its colour
    # fraction ("purity": alpha_j * prod over the layers above of (1 - alpha)).
    ids = torch.zeros(frames, h, w, dtype=torch.uint8)
    purity = torch.ones(frames, h, w)
    windows = []
    for l, (surface, inv) in enumerate(zip(surfaces[1:], inverse[1:])):
        offsets, (bh, bw) = _layer_windows(surface, size)
        windows.append((offsets, bh, bw))
        mask = torch.from_numpy(surface.mask)
        rgba = torch.cat([torch.from_numpy(surface.image).permute(2, 0, 1).float() * mask, mask[None]])
        layer = _sample_window(rgba, inv, offsets, (bh, bw))  # [4, F, bh, bw]
        a = layer[3].clamp_(0, 1)
        top = a > 0.5
        for i, (ox, oy) in enumerate(offsets):
            win = (slice(oy, oy + bh), slice(ox, ox + bw))
            out[:, i][(slice(None),) + win].mul_(1 - a[i]).add_(layer[:3, i])
            ids[i][win].masked_fill_(top[i], l + 1)
            purity[i][win] = torch.where(top[i], a[i], purity[i][win] * (1 - a[i]))
    # to uint8 [F, H, W, 3] (rounding half up)
    video = out.add_(0.5).clamp_(0, 255).to(torch.uint8).permute(1, 2, 3, 0).contiguous()

    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                            indexing="ij")
    identity = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    n_surfaces = n_layers + 1

    ids_scaled = ids.float().mul_((h + 1) * (w + 1)).add_(w + 2)  # see ``flat`` below

    def flow_to(s: int, ts: range) -> tuple[torch.Tensor, torch.Tensor]:
        """Backward flows [n, 2, H, W] from frames ts (consecutive) to frame s, and visibility [n, H, W]."""
        frames_ts = slice(ts.start, ts.stop)

        def flow_maps(j: int) -> np.ndarray:  # frame t px -> (frame s px - frame t px), for t in ts
            return (surfaces[j].maps[s] @ inverse[j][frames_ts])[..., :2, :] - identity

        flow = _affine_field(flow_maps(0), h, w)  # the background everywhere, then the layers' windows
        for l, (offsets, bh, bw) in enumerate(windows):
            shifts = np.stack([_translation(*offsets[t]) for t in ts])
            fields = _affine_field(flow_maps(l + 1) @ shifts, bh, bw)  # [n, 2, bh, bw]
            for k, t in enumerate(ts):
                ox, oy = offsets[t]
                win = (slice(None), slice(oy, oy + bh), slice(ox, ox + bw))
                seen = ids[t][win[1:]] == l + 1
                flow[k][win] = torch.where(seen, fields[k], flow[k][win])
        # visible: all four bilinear neighbours of the position in frame s show the same surface
        # (and lie inside the frame): the smallest colour fraction among them, times the target's.
        # ``least`` [J, H+1, W+1] holds that minimum for the 2x2 neighbourhood at (y0+1, x0+1) of
        # the frame padded by one pixel of zeros (outside the frame: nothing is visible).
        pad = torch.zeros(n_surfaces, h + 2, w + 2)
        for j in range(n_surfaces):
            pad[j, 1:h + 1, 1:w + 1] = torch.where(ids[s] == j, purity[s], 0.0)
        least = torch.minimum(torch.minimum(pad[:, :-1, :-1], pad[:, 1:, :-1]),
                              torch.minimum(pad[:, :-1, 1:], pad[:, 1:, 1:]))
        fx = (flow[:, 0] + xs).floor_().clamp_(-1, w - 1)
        fy = (flow[:, 1] + ys).floor_().clamp_(-1, h - 1)
        # flat index of (id, fy + 1, fx + 1) in least, in float32 (exact below 2**24)
        flat = fy.mul_(w + 1).add_(fx).add_(ids_scaled[frames_ts]).int()
        vis = least.view(-1).index_select(0, flat.view(-1)).view_as(fx).mul_(purity[frames_ts])
        return flow, vis

    # to input 0: from frames 1..F-1 (targets, then input 1); to input 1: from frames 0..F-2
    flow_0, vis_0 = flow_to(0, range(1, frames))
    flow_1, vis_1 = flow_to(frames - 1, range(0, frames - 1))
    order, _, _ = seed_layout(frames)
    return {
        "strip": torch.cat([video[t] for t in order], dim=1),
        "frames": video,
        "flow_t0": flow_0[:-1], "flow_t1": flow_1[1:],
        "visibility": torch.stack([vis_0[:-1], vis_1[1:]], 1),
        "flow_01": flow_1[0], "flow_10": flow_0[-1],
        "visibility_inputs": torch.stack([vis_1[0], vis_0[-1]]),
        "times": torch.arange(1, frames - 1, dtype=torch.float32) / (frames - 1),
    }


# --- random windows -------------------------------------------------------------------------------
def _random_mask(rng: np.random.Generator, h: int, w: int, soft: bool) -> np.ndarray:
    """float32 [h, w] in [0, 1]: a random shape (ellipse, rounded rectangle, polygon, blob), zero on
    the border; edges blurred when ``soft``."""
    image = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(image)
    margin = min(2 + (4 if soft else 0), min(h, w) // 4)  # room for the blur; small masks less
    kind = rng.integers(4)
    if kind == 0:
        draw.ellipse([margin, margin, w - 1 - margin, h - 1 - margin], fill=255)
    elif kind == 1:
        radius = int(rng.uniform(0, 0.3) * min(h, w))
        draw.rounded_rectangle([margin, margin, w - 1 - margin, h - 1 - margin], radius=radius, fill=255)
    elif kind == 2:
        n = int(rng.integers(5, 13))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radii = rng.uniform(0.45, 1.0, n)
        cx, cy, rx, ry = (w - 1) / 2, (h - 1) / 2, (w - 1) / 2 - margin, (h - 1) / 2 - margin
        draw.polygon([(cx + rx * r * math.cos(a), cy + ry * r * math.sin(a)) for a, r in zip(angles, radii)],
                     fill=255)
    else:  # a blob: smooth noise under a radial falloff, thresholded
        noise = Image.fromarray((rng.random((5, 5)) * 255).astype(np.uint8))
        noise = noise.resize((w, h), Image.Resampling.BICUBIC)
        ys, xs = np.mgrid[:h, :w]
        r = np.hypot((xs - (w - 1) / 2) / max(1.0, w / 2 - margin), (ys - (h - 1) / 2) / max(1.0, h / 2 - margin))
        field = np.asarray(noise, dtype=np.float32) / 255 + 1.2 * (1 - r)
        blob = (field > 1.0) & (r < 1)
        if blob.sum() < 0.1 * h * w:  # too thin: fall back to an ellipse
            blob = r < 0.9
        image = Image.fromarray((blob * 255).astype(np.uint8))
    if soft:
        image = image.filter(ImageFilter.GaussianBlur(min(rng.uniform(0.8, 3.0), max(0.5, min(h, w) / 10))))
    return np.asarray(image, dtype=np.float32) / 255


def load_images(sources: Sequence, max_side: int | None = None, frames_per_clip: int = 6) -> list[np.ndarray]:
    """uint8 RGB images from sources: arrays as they are, photo :class:`~.sources.Source` objects,
    and ``frames_per_clip`` frames spread evenly over each video source (over its time range).
    Scaled down so the longer side is at most ``max_side``."""
    images = []
    for source in sources:
        if isinstance(source, np.ndarray):
            if source.dtype != np.uint8 or source.ndim != 3 or source.shape[2] != 3:
                raise ValueError(f"images must be uint8 [H, W, 3], got {source.dtype} {source.shape}")
            images.append(resize_image(source, fit_max_side(*source.shape[:2], max_side)))
        elif getattr(source, "kind", None) in ("photo", "video"):
            images.extend(source.sample(frames_per_clip, max_side))
        else:
            raise ValueError(f"not an image or a Source: {source!r}")
    return images


class SyntheticMotion(IterableDataset):
    """Random windows of synthetic motion with exact flows and visibility (see the module docstring).

    sources: images (uint8 [H, W, 3]) or :class:`~.sources.Source` objects (see :func:`load_images`);
        at least 2. Each window takes its background from one and its layers from others.
    size: (H, W) of the frames. frames: F (7: the seed layout, targets 1..5, inputs 0 and 6).
    max_shift: largest displacement over the window, in output pixels, of the background and of
        each layer (directions independent). max_rotation (degrees) and max_zoom (log scale) over
        the window likewise; layers turn and zoom up to 1.5x those.
    layers: (min, max) number of pasted layers; soft: probability that a layer has soft edges.
    max_accel / max_bend: non-linear timing and curved paths (0 for linear motion).
    seed: windows are a pure function of (seed, index). length: windows per iteration (None: forever).
    strips_only: yield only the uint8 strip tensors (for :class:`~.dataset.StripCollate`).
    """

    def __init__(self, sources: Sequence, size: tuple[int, int] = (256, 256), frames: int = 7,
                 max_shift: float = 70.0, max_rotation: float = 8.0, max_zoom: float = 0.15,
                 layers: tuple[int, int] = (1, 3), soft: float = 0.5, max_accel: float = 0.3,
                 max_bend: float = 0.15, seed: int = 0, length: int | None = None,
                 strips_only: bool = False, frames_per_clip: int = 6):
        super().__init__()
        seed_layout(frames)
        self.size = (int(size[0]), int(size[1]))
        if min(self.size) < 8:
            raise ValueError(f"size must be at least 8x8, got {size}")
        self.frames = frames
        self.max_shift, self.max_rotation, self.max_zoom = float(max_shift), float(max_rotation), float(max_zoom)
        self.layers = (int(layers[0]), int(layers[1]))
        if not 0 <= self.layers[0] <= self.layers[1]:
            raise ValueError(f"layers must be (min, max) with 0 <= min <= max, got {layers}")
        self.soft, self.max_accel, self.max_bend = float(soft), float(max_accel), float(max_bend)
        self.seed, self.length, self.strips_only = int(seed), length, strips_only
        # keep images no larger than needed: short side about 1.25x the largest view footprint
        h, w = self.size
        need = 1.25 * (max(h, w) + 2 * self.max_shift)
        self.images = []
        for image in load_images(sources, None, frames_per_clip):
            scale = min(1.0, need / min(image.shape[:2]))
            if scale < 1:
                hw = (max(2, round(image.shape[0] * scale)), max(2, round(image.shape[1] * scale)))
                image = resize_image(image, hw)
            self.images.append(np.ascontiguousarray(image))
        if len(self.images) < 2:
            raise ValueError(f"synthetic motion needs at least 2 source images, got {len(self.images)}")
        self._times = np.arange(frames) / (frames - 1)

    def __len__(self) -> int:
        if self.length is None:
            raise TypeError("an endless SyntheticMotion has no length (pass length=...)")
        return self.length

    def _motion(self, rng: np.random.Generator, factor: float = 1.0) -> Motion:
        angle = rng.uniform(0, 2 * np.pi)
        magnitude = self.max_shift * rng.random() ** 0.75  # more large shifts than uniform
        return Motion(shift=(magnitude * math.cos(angle), magnitude * math.sin(angle)),
                      rotation=rng.uniform(-1, 1) * self.max_rotation * factor,
                      zoom=rng.uniform(-1, 1) * self.max_zoom * factor,
                      bend=rng.uniform(-1, 1) * self.max_bend,
                      accel=rng.uniform(-1, 1) * self.max_accel)

    def _background(self, rng: np.random.Generator, image: np.ndarray) -> Surface:
        h, w = self.size
        center = ((w - 1) / 2, (h - 1) / 2)
        motion = self._motion(rng).matrices(self._times, center)
        base_angle = rng.uniform(-10, 10)
        # where the output's corners come from, at source scale 1 and the source point 0 at the centre
        place = _similarity(1.0, base_angle, (0.0, 0.0), center)  # source -> output at time 0 (scale 1)
        corners = np.array([[0, 0, 1], [w - 1, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1]], dtype=np.float64).T
        src = np.concatenate([np.linalg.inv(motion[i] @ place) @ corners for i in range(self.frames)], 1)[:2]
        lo, hi = src.min(1), src.max(1)
        ih, iw = image.shape[:2]
        k_fit = min((iw - 1) / (hi[0] - lo[0]), (ih - 1) / (hi[1] - lo[1]))
        # source pixels per output pixel: at most 1 (no aliasing: bilinear sampling does not
        # filter), and at most what fits
        k = min(k_fit, 1.0) * rng.uniform(0.6, 1.0)
        # the footprint spans k*lo .. k*hi around the source point q0: place it inside the image
        q0 = np.array([rng.uniform(-k * lo[0], max(-k * lo[0], iw - 1 - k * hi[0])),
                       rng.uniform(-k * lo[1], max(-k * lo[1], ih - 1 - k * hi[1]))])
        place = _similarity(1.0 / k, base_angle, q0, center)
        return Surface(image, motion @ place)

    def _layer(self, rng: np.random.Generator, image: np.ndarray) -> Surface:
        h, w = self.size
        ih, iw = image.shape[:2]
        k = rng.uniform(0.6, 1.0)  # source pixels per output pixel (at most 1: no aliasing)
        side = rng.uniform(0.15, 0.5) * min(h, w)
        ch = int(min(ih, max(8, side * rng.uniform(0.7, 1.4) * k)))
        cw = int(min(iw, max(8, side * rng.uniform(0.7, 1.4) * k)))
        y0, x0 = int(rng.integers(0, ih - ch + 1)), int(rng.integers(0, iw - cw + 1))
        crop = np.ascontiguousarray(image[y0:y0 + ch, x0:x0 + cw])
        mask = _random_mask(rng, ch, cw, soft=rng.random() < self.soft)
        position = (rng.uniform(0.1, 0.9) * (w - 1), rng.uniform(0.1, 0.9) * (h - 1))
        place = _similarity(1.0 / k, rng.uniform(-30, 30), ((cw - 1) / 2, (ch - 1) / 2), position)
        motion = self._motion(rng, factor=1.5).matrices(self._times, position)
        return Surface(crop, motion @ place, mask)

    def surfaces(self, index: int) -> list[Surface]:
        """The random scene of window ``index`` (background first)."""
        rng = np.random.default_rng([self.seed, index])
        n_layers = int(rng.integers(self.layers[0], self.layers[1] + 1))
        picks = rng.choice(len(self.images), size=n_layers + 1, replace=n_layers + 1 > len(self.images))
        background = self._background(rng, self.images[picks[0]])
        return [background] + [self._layer(rng, self.images[i]) for i in picks[1:]]

    def render(self, index: int) -> dict[str, torch.Tensor]:
        """Window ``index``: the dict described in the module docstring (``frames`` removed)."""
        out = render_window(self.surfaces(index), self.size, self.frames)
        del out["frames"]
        return out

    def __iter__(self) -> Iterator:
        info = get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        index = worker
        while self.length is None or index < self.length:
            item = self.render(index)
            yield item["strip"] if self.strips_only else item
            index += workers


class RenderedWindows(Dataset):
    """Map-style view of a :class:`SyntheticMotion`: item ``i`` is window ``i`` (its render dict),
    so a DataLoader can start anywhere (a resumed training run) and split the work over workers."""

    def __init__(self, motion: SyntheticMotion):
        self.motion = motion

    def __len__(self) -> int:
        return len(self.motion) if self.motion.length is not None else 2 ** 62

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.motion.render(index)
