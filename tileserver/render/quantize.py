"""Reduce a tile's static colours to a small palette, fast and deterministically.

Colours are bucketed by their top 5 bits per channel; each bucket is shown by
one exact colour that falls in it (so the flat colours that make up most of a
drawing stay exact), and when there are more buckets than the budget the rare
ones are folded into the nearest kept one. Entry 0 is reserved for
"transparent" (outside the venue).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

BUCKET_BITS = 5
BUCKETS = 1 << (3 * BUCKET_BITS)
TRANSPARENT = 0

U32 = npt.NDArray[np.uint32]


def pack_rgb(rgb: npt.NDArray[np.uint8]) -> U32:
    """(..., 3) uint8 colours -> (...) uint32 0x00BBGGRR (an RGBA pixel read little-endian)."""
    r = rgb[..., 0].astype(np.uint32)
    g = rgb[..., 1].astype(np.uint32)
    b = rgb[..., 2].astype(np.uint32)
    return (r | (g << 8) | (b << 16)).astype(np.uint32, copy=False)


def rgba_keys(rgba: npt.NDArray[np.uint8]) -> U32:
    """(..., 4) RGBA pixels -> packed colours without alpha, with no per-channel work."""
    flat = np.ascontiguousarray(rgba).reshape(-1, 4).view("<u4").ravel()
    return flat & np.uint32(0xFFFFFF)


def unpack_rgb(packed: U32) -> npt.NDArray[np.uint8]:
    """(...) packed colours -> (..., 3) uint8 colours."""
    out = np.empty((*packed.shape, 3), dtype=np.uint8)
    out[..., 0] = packed & 0xFF
    out[..., 1] = (packed >> 8) & 0xFF
    out[..., 2] = (packed >> 16) & 0xFF
    return out


def bucket_of(packed: U32) -> U32:
    """The 15-bit bucket (top 5 bits of each channel) of each packed colour."""
    top = (packed >> 3) & np.uint32(0x1F1F1F)
    bucket = (top & np.uint32(0x1F)) | ((top >> 3) & np.uint32(0x3E0)) | (
        (top >> 6) & np.uint32(0x7C00)
    )
    return bucket.astype(np.uint32, copy=False)


@dataclass(frozen=True, slots=True)
class Quantizer:
    """A palette (entry 0 transparent) and the bucket -> entry table that indexes it."""

    palette: npt.NDArray[np.uint8]  # (n, 3)
    lut: npt.NDArray[np.uint8]  # (BUCKETS,)

    @property
    def size(self) -> int:
        """Number of palette entries, including the transparent one."""
        return int(self.palette.shape[0])

    def index(self, packed: U32) -> npt.NDArray[np.uint8]:
        """Palette entry of each packed colour."""
        return self.lut[bucket_of(packed)]


def fit(keys: U32, budget: int, weights: npt.NDArray[np.int64] | None = None) -> Quantizer:
    """A palette of at most `budget` entries (including transparent) for these colours.

    `weights` (how many pixels each key stands for) rank the buckets kept when
    there are more than the budget.
    """
    buckets, first, inverse = np.unique(bucket_of(keys), return_index=True, return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=weights, minlength=buckets.size)
    exemplar = keys[first]
    keep_n = max(1, budget - 1)
    kept = np.arange(buckets.size)
    if buckets.size > keep_n:
        kept = np.sort(np.argsort(-counts, kind="stable")[:keep_n])
    lut = np.zeros(BUCKETS, dtype=np.uint8)
    lut[buckets[kept]] = np.arange(1, kept.size + 1, dtype=np.uint8)
    dropped = np.setdiff1d(np.arange(buckets.size), kept, assume_unique=True)
    if dropped.size:
        kept_rgb = unpack_rgb(exemplar[kept]).astype(np.int32)
        drop_rgb = unpack_rgb(exemplar[dropped]).astype(np.int32)
        dist = ((drop_rgb[:, None, :] - kept_rgb[None, :, :]) ** 2).sum(axis=2)
        lut[buckets[dropped]] = (np.argmin(dist, axis=1) + 1).astype(np.uint8)
    palette = np.zeros((kept.size + 1, 3), dtype=np.uint8)
    palette[1:] = unpack_rgb(exemplar[kept])
    return Quantizer(palette, lut)
