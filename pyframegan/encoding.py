"""The output video of `pyframegan video`: the encoder, pixel format and options chosen for the
container, the input's colour description carried over, and its audio copied packet for packet or
re-encoded."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# encoders tried, in order, when no codec is given: the first one the output container takes
DEFAULT_CODECS = ("libx264", "libvpx-vp9", "mpeg4", "ffv1", "rawvideo")
# ... when writing to a pipe: uncompressed (y4m takes only FFmpeg's wrapped frames)
RAW_CODECS = ("rawvideo", "wrapped_avframe")
# encoders that take a constant-quality factor (crf) and an x264-style preset
CRF_CODECS = {"libx264": 18, "libx265": 22, "libvpx-vp9": 31, "libaom-av1": 30, "libsvtav1": 35}
CRF_MAX = {"libx264": 51, "libx265": 51, "libvpx-vp9": 63, "libaom-av1": 63, "libsvtav1": 63}  # each encoder's range
PRESET_CODECS = ("libx264", "libx265", "libsvtav1")
# pixel formats tried, in order, when none is given (yuv420p only when both sides are even)
PIX_FMTS = ("yuv420p", "yuv444p", "gbrp", "rgb24", "bgr0", "rgba")


def _is_subsampled(pix_fmt: str) -> bool:
    """True for formats whose chroma planes are subsampled (they need even sizes)."""
    fmt = av.VideoFormat(pix_fmt, 2, 2)
    return any(c.width < 2 or c.height < 2 for c in fmt.components)


def choose_codec(out, codec: str | None, defaults: tuple[str, ...] = DEFAULT_CODECS) -> av.Codec:
    supported = out.supported_codecs
    names = (codec,) if codec else defaults
    for name in names:
        try:
            candidate = av.Codec(name, "w")
        except Exception:  # noqa: BLE001 - PyAV's UnknownCodecError
            if codec:
                raise ValueError(f"unknown video encoder {codec!r} (e.g. libx264, libx265, libvpx-vp9, ffv1, png)") from None
            continue
        if candidate.type != "video":
            raise ValueError(f"{name!r} is a {candidate.type} encoder, not a video encoder")
        if candidate.canonical_name in supported or candidate.name in supported:
            return candidate
        if codec:
            raise ValueError(f"the {out.format.name} container cannot hold {name} video; pick another "
                             "--codec or output extension (e.g. .mkv holds almost any codec)")
    raise ValueError(f"none of {', '.join(defaults)} fits the {out.format.name} container; pass --codec")


def choose_pix_fmt(codec: av.Codec, pix_fmt: str | None, width: int, height: int) -> str:
    formats = [f.name for f in (codec.video_formats or ())]
    odd = width % 2 or height % 2
    if pix_fmt:
        if formats and pix_fmt not in formats:
            raise ValueError(f"{codec.name} does not encode pixel format {pix_fmt}; it takes {', '.join(formats)}")
        if odd and _is_subsampled(pix_fmt):
            raise ValueError(f"{pix_fmt} needs even sizes but the output is {width}x{height}; "
                             "leave --pix-fmt out (yuv444p is then used) or choose a format without "
                             "chroma subsampling (yuv444p, gbrp, rgb24)")
        return pix_fmt
    for name in PIX_FMTS:
        if (not formats or name in formats) and not (odd and _is_subsampled(name)):
            return name
    for name in formats:
        if not (odd and _is_subsampled(name)):
            return name
    raise ValueError(f"{codec.name} has no pixel format for the odd size {width}x{height}; try --codec libx264")


def codec_options(codec: str, crf: float | None, preset: str | None) -> dict[str, str]:
    options: dict[str, str] = {}
    if crf is not None and codec not in CRF_CODECS:
        raise ValueError(f"--crf applies to {', '.join(CRF_CODECS)}, not {codec}")
    if preset is not None and codec not in PRESET_CODECS:
        raise ValueError(f"--preset applies to {', '.join(PRESET_CODECS)}, not {codec}")
    if crf is not None and not 0 <= crf <= CRF_MAX[codec]:
        raise ValueError(f"--crf must be in [0, {CRF_MAX[codec]}] for {codec}, got {crf:g}")
    if codec in CRF_CODECS:
        value = CRF_CODECS[codec] if crf is None else crf
        options["crf"] = f"{value:g}"
        if codec in ("libvpx-vp9", "libaom-av1"):
            options["b"] = "0"  # constant quality
    if codec in PRESET_CODECS and preset is not None:
        options["preset"] = preset
    return options


# AVColorSpace (the matrix a stream is tagged with) -> the swscale matrix that converts with it
_MATRICES = {1: "ITU709", 4: "FCC", 5: "ITU601", 6: "SMPTE170M", 7: "SMPTE240M", 9: "BT2020", 10: "BT2020"}
_UNSPECIFIED = 2  # AVCOL_PRI / AVCOL_TRC / AVCOL_SPC_UNSPECIFIED; AVCOL_RANGE_UNSPECIFIED is 0


@dataclass(frozen=True)
class Colour:
    """The colour description of a video stream (FFmpeg's enum values): primaries, transfer
    characteristic, YUV matrix and range. Decoding converts to RGB with the input's own matrix and
    range (PyAV reads them from each frame); :meth:`frame` converts back with the same ones, and
    :meth:`tag` writes the description into the output stream, so the colours and their meaning
    survive interpolation."""
    primaries: int = _UNSPECIFIED
    trc: int = _UNSPECIFIED
    matrix: int = _UNSPECIFIED
    range: int = 0

    @classmethod
    def of(cls, stream) -> "Colour":
        cc = stream.codec_context
        if not _is_yuv(cc.pix_fmt):  # an RGB input: its matrix and range say nothing of a YUV output
            return cls(int(cc.color_primaries), int(cc.color_trc))
        return cls(int(cc.color_primaries), int(cc.color_trc), int(cc.colorspace), int(cc.color_range))

    def tag(self, stream) -> None:
        """Describe the output ``stream`` as the input was (matrix and range only for YUV output)."""
        cc = stream.codec_context
        cc.color_primaries, cc.color_trc = self.primaries, self.trc
        if _is_yuv(stream.pix_fmt):
            cc.colorspace, cc.color_range = self.matrix, self.range

    def frame(self, image: np.ndarray, pix_fmt: str) -> av.VideoFrame:
        """uint8 RGB [H, W, 3] -> a frame in ``pix_fmt``, converted with the input's matrix and range."""
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        if not _is_yuv(pix_fmt) or (self.matrix not in _MATRICES and self.range == 0):
            return frame  # the encoder converts with FFmpeg's defaults
        return frame.reformat(format=pix_fmt, dst_colorspace=_MATRICES.get(self.matrix),
                              dst_color_range=self.range or None)


def _is_yuv(pix_fmt: str | None) -> bool:
    return bool(pix_fmt) and pix_fmt.startswith(("yuv", "nv"))  # yuvj (full range) too


def bit_depth(stream) -> int:
    """Bits per sample of a video stream's decoded pixel format (8 when unknown)."""
    fmt = stream.codec_context.format
    return max((c.bits for c in fmt.components), default=8) if fmt is not None else 8


def _encoder_fits(name: str, out) -> bool:
    try:
        return av.Codec(name, "w").canonical_name in out.supported_codecs
    except Exception:  # noqa: BLE001 - an encoder this FFmpeg build lacks
        return False


class NoAudio(Exception):
    """The output container can hold the input's audio neither as it is nor re-encoded."""


_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


class Audio:
    """Copies (or re-encodes) the input's first audio stream into the output, interleaved with the
    video: ``advance(t)`` writes the audio up to output time t, ``finish()`` the rest."""

    def __init__(self, path: Path, out, start_time: float):
        self.container = av.open(str(path))
        self.stream = self.container.streams.audio[0]
        name = self.stream.codec_context.name
        self.encoder = None
        if name in out.supported_codecs:
            self.out_stream = out.add_stream_from_template(self.stream)
            self.mode = f"copied ({name})"
        else:
            target = next((c for c in ("aac", "libopus") if _encoder_fits(c, out)), None)
            if target is None:
                self.container.close()
                raise NoAudio(f"the {out.format.name} container takes neither {name} nor AAC/Opus audio")
            layout = self.stream.layout
            layout = layout.name if not layout.name.endswith("channels") else _LAYOUTS.get(len(layout.channels), "stereo")
            rate = self.stream.rate or 48000
            if target == "libopus" and rate not in (8000, 12000, 16000, 24000, 48000):
                rate = 48000
            self.out_stream = self.encoder = out.add_stream(target, rate=rate, layout=layout)
            self.mode = f"re-encoded ({name} -> {target})"
        tb = self.stream.time_base
        self.offset = round(Fraction(start_time) / tb) if tb else 0  # video output time 0 = first video frame
        self._packets = self.container.demux(self.stream)
        self._pending = None
        self._done = False

    def _next(self):
        for packet in self._packets:
            if packet.dts is None and packet.size == 0:  # the demuxer's final empty packet
                continue
            return packet
        self._done = True
        return None

    def _write(self, out, packet) -> None:
        if packet.pts is not None:
            packet.pts -= self.offset
        if packet.dts is not None:
            packet.dts -= self.offset
        if self.encoder is None:
            packet.stream = self.out_stream
            out.mux(packet)
            return
        for frame in packet.decode():
            for encoded in self.encoder.encode(frame):
                out.mux(encoded)

    def advance(self, out, seconds: float) -> None:
        while not self._done:
            if self._pending is None:
                self._pending = self._next()
                if self._pending is None:
                    return
            packet = self._pending
            stamp = packet.pts if packet.pts is not None else packet.dts
            if stamp is not None and float((stamp - self.offset) * packet.time_base) > seconds:
                return
            self._pending = None
            self._write(out, packet)

    def finish(self, out) -> None:
        self.advance(out, float("inf"))
        if self.encoder is not None:
            for encoded in self.encoder.encode(None):
                out.mux(encoded)

    def close(self) -> None:
        self.container.close()


def open_audio(src: Path, out, start_time: float, *, present: bool, wanted: bool, piped: bool,
               retimed: bool) -> "tuple[Audio | None, str]":
    """The input's audio for ``out`` (or None) and what becomes of it, as `pyframegan video`
    reports it: "none" without audio; dropped when not wanted, through a pipe, when the video is
    retimed (``fps`` changes its duration) or when the container takes no form of it; otherwise
    copied or re-encoded (:class:`Audio`)."""
    if not present:
        return None, "none"
    if not wanted:
        return None, "dropped (audio=False)"
    if piped:
        return None, "dropped (not carried through a pipe)"
    if retimed:
        return None, "dropped (fps changes the duration)"
    try:
        audio = Audio(src, out, start_time)
    except NoAudio as exc:
        return None, f"dropped ({exc})"
    return audio, audio.mode
