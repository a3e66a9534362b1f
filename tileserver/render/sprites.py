"""Seat coverage and seat-number sprites, stamped into tiles with numpy.

Every seat at one zoom has the same shape up to its radius and its sub-pixel
position, so instead of drawing 100,000 circles per zoom the pre-render
builds a few sprites per zoom (radius quantised to 1/8 px, position to 1/4 px)
holding the anti-aliased coverage of the outer disc and of the inner disc,
and stamps them with vectorised scatters. Seat numbers are text sprites, one
per distinct label, drawn once with skia and stamped the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import skia

from tileserver.render import style
from tileserver.render.paints import typeface

PHASES = 4  # sub-pixel positions per axis
RADIUS_STEPS = 8  # radius quantisation per pixel
SUPERSAMPLE = 4  # coverage samples per pixel per axis

IntArray = npt.NDArray[np.int64]


@dataclass(slots=True)
class SpriteSet:
    """Variable-size sprites packed into flat arrays; each pixel has `channels` bytes."""

    channels: int
    dy: list[npt.NDArray[np.int64]] = field(default_factory=list)
    dx: list[npt.NDArray[np.int64]] = field(default_factory=list)
    values: list[npt.NDArray[np.uint8]] = field(default_factory=list)
    keys: dict[object, int] = field(default_factory=dict)
    _packed: _Packed | None = None
    _offsets: dict[int, IntArray] = field(default_factory=dict)

    def add(
        self,
        key: object,
        dy: npt.NDArray[np.int64],
        dx: npt.NDArray[np.int64],
        values: npt.NDArray[np.uint8],
    ) -> int:
        """Register a sprite under `key` and return its id."""
        self.keys[key] = len(self.dy)
        self.dy.append(dy.astype(np.int64))
        self.dx.append(dx.astype(np.int64))
        self.values.append(values.reshape(-1, self.channels).astype(np.uint8))
        self._packed = None
        self._offsets.clear()
        return self.keys[key]

    def packed(self) -> _Packed:
        """All sprites as flat arrays (see `_Packed`)."""
        if self._packed is None:
            lengths = np.array([a.size for a in self.dy], dtype=np.int64)
            dy = np.concatenate(self.dy) if self.dy else np.empty(0, np.int64)
            dx = np.concatenate(self.dx) if self.dx else np.empty(0, np.int64)
            values = (np.concatenate(self.values) if self.values
                      else np.empty((0, self.channels), np.uint8))
            self._packed = _Packed(
                starts=np.concatenate(([0], np.cumsum(lengths)[:-1])).astype(np.int64),
                lengths=lengths,
                dy=dy,
                dx=dx,
                channels=[np.ascontiguousarray(values[:, c]) for c in range(self.channels)],
                min_x=np.array([a.min(initial=0) for a in self.dx], dtype=np.int64),
                max_x=np.array([a.max(initial=0) for a in self.dx], dtype=np.int64),
                min_y=np.array([a.min(initial=0) for a in self.dy], dtype=np.int64),
                max_y=np.array([a.max(initial=0) for a in self.dy], dtype=np.int64),
            )
        return self._packed

    def flat_offsets(self, width: int) -> IntArray:
        """dy * width + dx of every sprite pixel, for images `width` pixels wide."""
        found = self._offsets.get(width)
        if found is None:
            p = self.packed()
            found = self._offsets[width] = p.dy * width + p.dx
        return found


@dataclass(frozen=True, slots=True)
class _Packed:
    """Sprites back to back: sprite i's pixels are [starts[i], starts[i] + lengths[i])."""

    starts: IntArray
    lengths: IntArray
    dy: IntArray
    dx: IntArray
    channels: list[npt.NDArray[np.uint8]]
    min_x: IntArray
    max_x: IntArray
    min_y: IntArray
    max_y: IntArray


@dataclass(slots=True)
class Stamp:
    """Where stamped sprite pixels land: flat pixel index, owner item, sprite pixel."""

    pixel: IntArray
    item: IntArray
    source: IntArray


def _segments(p: _Packed, ids: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """(item, source) of every pixel of sprites `ids`, and the per-item pixel counts."""
    counts = p.lengths[ids]
    total = int(counts.sum())
    item = np.repeat(np.arange(ids.size, dtype=np.int64), counts)
    shift = np.repeat(p.starts[ids] - (np.cumsum(counts) - counts), counts)
    source = np.arange(total, dtype=np.int64) + shift
    return item, source, counts


def stamp(
    sprites: SpriteSet,
    sprite_ids: IntArray,
    origin_x: IntArray,
    origin_y: IntArray,
    width: int,
    height: int,
) -> Stamp:
    """Place sprite `sprite_ids[i]` with its (0, 0) at (origin_x[i], origin_y[i]).

    Pixels falling outside the width x height image are dropped. Sprites wholly
    inside take a fast path (no per-pixel clipping).
    """
    if sprite_ids.size == 0:
        empty = np.empty(0, np.int64)
        return Stamp(empty, empty, empty)
    p = sprites.packed()
    inside = ((origin_x + p.min_x[sprite_ids] >= 0) & (origin_y + p.min_y[sprite_ids] >= 0)
              & (origin_x + p.max_x[sprite_ids] < width)
              & (origin_y + p.max_y[sprite_ids] < height))
    parts: list[Stamp] = []
    whole = np.flatnonzero(inside)
    if whole.size:
        item, source, _ = _segments(p, sprite_ids[whole])
        base = origin_y[whole] * width + origin_x[whole]
        pixel = base[item] + sprites.flat_offsets(width)[source]
        parts.append(Stamp(pixel, whole[item], source))
    cut = np.flatnonzero(~inside)
    if cut.size:
        item, source, _ = _segments(p, sprite_ids[cut])
        py = origin_y[cut][item] + p.dy[source]
        px = origin_x[cut][item] + p.dx[source]
        ok = (px >= 0) & (px < width) & (py >= 0) & (py < height)
        parts.append(Stamp((py * width + px)[ok], cut[item[ok]], source[ok]))
    if len(parts) == 1:
        return parts[0]
    return Stamp(*(np.concatenate([getattr(s, f) for s in parts])
                   for f in ("pixel", "item", "source")))


class DiscSprites:
    """Outer and inner disc coverage sprites (2 channels) for one pixel scale."""

    def __init__(self) -> None:
        self.sprites = SpriteSet(channels=2)

    def sprite_ids(
        self, cx: npt.NDArray[np.float64], cy: npt.NDArray[np.float64],
        r: npt.NDArray[np.float64],
    ) -> tuple[IntArray, IntArray, IntArray]:
        """Sprite id and integer origin of a disc at each (cx, cy, r) in pixels."""
        qx = np.floor(cx * PHASES + 0.5).astype(np.int64)
        qy = np.floor(cy * PHASES + 0.5).astype(np.int64)
        rq = np.maximum(np.floor(r * RADIUS_STEPS + 0.5).astype(np.int64), 1)
        fx, fy = qx % PHASES, qy % PHASES
        ids = np.empty(cx.size, dtype=np.int64)
        keys = rq * PHASES * PHASES + fy * PHASES + fx
        for key in np.unique(keys).tolist():
            sid = self.sprites.keys.get(key)
            if sid is None:
                rad = (key // (PHASES * PHASES)) / RADIUS_STEPS
                phase = key % (PHASES * PHASES)
                sid = self._build(key, rad, (phase % PHASES) / PHASES, (phase // PHASES) / PHASES)
            ids[keys == key] = sid
        half = np.ceil(rq / RADIUS_STEPS).astype(np.int64) + 2
        return ids, qx // PHASES - half, qy // PHASES - half

    def _build(self, key: int, radius: float, fx: float, fy: float) -> int:
        half = math.ceil(radius) + 2
        size = 2 * half + 1
        ss = SUPERSAMPLE
        grid = (np.arange(size * ss, dtype=np.float64) + 0.5) / ss
        # The disc centre sits at pixel corner `half` plus the sub-pixel phase.
        dx2 = (grid - half - fx) ** 2
        dy2 = (grid - half - fy) ** 2
        dist2 = dy2[:, None] + dx2[None, :]
        outer = (dist2 <= radius * radius).reshape(size, ss, size, ss).mean(axis=(1, 3))
        inner_r = radius * style.INNER_RATIO
        inner = (dist2 <= inner_r * inner_r).reshape(size, ss, size, ss).mean(axis=(1, 3))
        ys, xs = np.nonzero(outer > 0)
        values = np.stack(
            [np.round(outer[ys, xs] * 255), np.round(inner[ys, xs] * 255)], axis=1
        ).astype(np.uint8)
        return self.sprites.add(key, ys.astype(np.int64), xs.astype(np.int64), values)


class TextSprites:
    """Anti-aliased text coverage sprites (1 channel), one per distinct string."""

    def __init__(self, font_px: float, bold: bool = True) -> None:

        self.font = skia.Font(typeface(bold=bold), font_px)
        self.font_px = font_px
        self.sprites = SpriteSet(channels=1)

    def sprite_id(self, text: str) -> int:
        """The sprite of `text`, centred on (0, 0) like `scene.draw_centered_text`."""
        sid = self.sprites.keys.get(text)
        if sid is not None:
            return sid
        width = self.font.measureText(text)
        cap = self.font.getMetrics().fCapHeight or self.font_px * 0.7
        half_w = math.ceil(width / 2) + 2
        half_h = math.ceil(self.font_px) + 2
        w, h = 2 * half_w, 2 * half_h
        pixels = np.zeros((h, w), dtype=np.uint8)
        surface = skia.Surface.MakeRasterDirect(skia.ImageInfo.MakeA8(w, h), pixels)
        canvas = surface.getCanvas()
        p = skia.Paint(AntiAlias=True, Color=skia.ColorBLACK)
        canvas.drawString(text, half_w - width / 2.0, half_h + cap / 2.0, self.font, p)
        del canvas, surface
        ys, xs = np.nonzero(pixels)
        return self.sprites.add(
            text, ys.astype(np.int64) - half_h, xs.astype(np.int64) - half_w, pixels[ys, xs]
        )
