"""PNG (indexed, fast deflate) and WebP encoding of composited tiles.

PNG: the scanlines from `compose` are deflated once with a fast level; ISA-L
(`isal`) is used when installed (about 3x faster than zlib at level 1 here),
else zlib. The palette's entry 0 is transparent (tRNS). WebP: the indices are
mapped to RGBA and encoded losslessly with skia.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import skia

from tileserver.compose import U8

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_LEVEL = 1
WEBP_QUALITY = 90.0

try:  # pragma: no cover - depends on the environment
    from isal import isal_zlib

    def _deflate(data: bytes) -> bytes:
        return bytes(isal_zlib.compress(data, PNG_LEVEL))

    DEFLATE_NAME = "isal"
except ImportError:  # pragma: no cover

    def _deflate(data: bytes) -> bytes:
        return zlib.compress(data, PNG_LEVEL)

    DEFLATE_NAME = "zlib"

deflate: Callable[[bytes], bytes] = _deflate


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF
    )


def palette_chunks(palette: U8, transparent_first: bool = True) -> bytes:
    """PLTE (and tRNS making entry 0 transparent) for an (n, 3) palette."""
    out = _chunk(b"PLTE", np.ascontiguousarray(palette, dtype=np.uint8).tobytes())
    if transparent_first:
        out += _chunk(b"tRNS", b"\x00")
    return out


def png_indexed(width: int, height: int, palette_part: bytes, scanlines: bytes) -> bytes:
    """An 8-bit indexed PNG from raw scanlines (filter byte + one index per pixel)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    return b"".join((
        PNG_SIGNATURE,
        _chunk(b"IHDR", header),
        palette_part,
        _chunk(b"IDAT", deflate(scanlines)),
        _chunk(b"IEND", b""),
    ))


def png_rgba(rgba: npt.NDArray[np.uint8], level: int = 6) -> bytes:
    """A truecolour+alpha PNG of an (H, W, 4) array (static maps); level <= 1 is fast."""
    height, width = rgba.shape[:2]
    rows = np.zeros((height, width * 4 + 1), np.uint8)
    rows[:, 1:] = rgba.reshape(height, width * 4)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"".join((
        PNG_SIGNATURE,
        _chunk(b"IHDR", header),
        _chunk(b"IDAT", deflate(rows.tobytes()) if level <= PNG_LEVEL
               else zlib.compress(rows.tobytes(), level)),
        _chunk(b"IEND", b""),
    ))


def palette_rgba(palette: U8) -> U8:
    """(n, 4) RGBA rows of a palette whose entry 0 is transparent."""
    out = np.empty((palette.shape[0], 4), np.uint8)
    out[:, :3] = palette
    out[:, 3] = 255
    out[0] = 0
    return out


def webp(rgba: npt.NDArray[np.uint8], lossless: bool = True) -> bytes:
    """WebP of an unpremultiplied (H, W, 4) RGBA array."""
    image = skia.Image.fromarray(
        np.ascontiguousarray(rgba), colorType=skia.kRGBA_8888_ColorType,
        alphaType=skia.kUnpremul_AlphaType,
    )
    quality = 100.0 if lossless else WEBP_QUALITY
    data = image.encodeToData(skia.kWEBP, int(quality))
    if data is None:  # pragma: no cover - skia built without WebP
        raise RuntimeError("skia cannot encode WebP")
    return bytes(data)
