"""Draw the layers of one tile: static ground and overlay with skia, live layer with sprites.

Section LOD: the ground is the venue canvas and areas; each section is a
live slot (its fill colour follows availability) whose coverage and owner
come from skia; outlines and names are a static overlay on top.
Seat and detail LOD: the ground also holds section fills and outlines,
accessible markers and (detail) row letters; every seat is a live slot
stamped from disc sprites, with its number on top at detail LOD.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import skia

from seatmap.grid import Lod, TileGrid
from seatmap.model import Venue
from tileserver.pyramid import TileKey, tile_transform
from tileserver.render import style
from tileserver.render.geometry import Box
from tileserver.render.scene import MIN_TEXT_PX, NUMBER_FONT_RATIO, Scene
from tileserver.render.sprites import DiscSprites, TextSprites, stamp
from tileserver.render.tilebuild import TileLayers

U8 = npt.NDArray[np.uint8]
# Seat numbers in tiles are at least this large at 1x (digits 9 px high in DejaVu
# Sans Bold) and at most this share of the seat radius (they must fit the disc).
NUMBER_MIN_FONT_PX = 12.5
NUMBER_MAX_FONT_RATIO = 1.25


def rgba_canvas(size: int) -> tuple[U8, skia.Surface]:
    """A zeroed premultiplied RGBA pixel array and a skia surface drawing into it."""
    pixels = np.zeros((size, size, 4), dtype=np.uint8)
    info = skia.ImageInfo.Make(size, size, skia.kRGBA_8888_ColorType, skia.kPremul_AlphaType)
    return pixels, skia.Surface.MakeRasterDirect(info, pixels)


def a8_canvas(size: int) -> tuple[U8, skia.Surface]:
    """A zeroed 8-bit coverage array and a skia surface drawing into it."""
    pixels = np.zeros((size, size), dtype=np.uint8)
    return pixels, skia.Surface.MakeRasterDirect(skia.ImageInfo.MakeA8(size, size), pixels)


class TilePainter:
    """Draws tiles of one venue; keeps sprites per zoom and density between tiles."""

    def __init__(self, venue: Venue, grid: TileGrid) -> None:
        self.venue = venue
        self.grid = grid
        self.scene = Scene(venue)
        self.seat_looks = style.seat_looks(venue)
        self.section_looks = style.section_looks()
        ncat = len(venue.categories)
        seats = venue.seats
        self.seat_possible = np.stack(
            [seats.category.astype(np.int64)]
            + [np.full(venue.seat_count, ncat + k, np.int64)
               for k in range(style.UNAVAILABLE_CLASSES)],
            axis=1,
        )
        self.section_possible = np.tile(
            np.arange(style.SECTION_CLASS_COUNT, dtype=np.int64), (len(venue.sections), 1)
        )
        self._discs: dict[tuple[int, int], DiscSprites] = {}
        self._texts: dict[tuple[int, int], TextSprites] = {}

    def _begin(self, surface: skia.Surface, key: TileKey) -> tuple[skia.Canvas, float, Box]:
        t = tile_transform(self.grid, key)
        canvas = surface.getCanvas()
        canvas.translate(-t.origin_x, -t.origin_y)
        canvas.scale(t.scale, t.scale)
        pad = 4.0 / t.scale
        box = (t.origin_x / t.scale - pad, t.origin_y / t.scale - pad,
               (t.origin_x + t.size_px) / t.scale + pad, (t.origin_y + t.size_px) / t.scale + pad)
        return canvas, key.density / t.scale, box

    def layers(self, key: TileKey, seat_ids: npt.NDArray[np.int64]) -> TileLayers:
        """Draw every layer of one tile; `seat_ids` are the seats touching it."""
        if self.grid.lod(key.z) is Lod.SECTION:
            return self._section_layers(key)
        return self._seat_layers(key, seat_ids)

    def _section_layers(self, key: TileKey) -> TileLayers:
        size = key.size_px
        ground, surface = rgba_canvas(size)
        canvas, unit, box = self._begin(surface, key)
        self.scene.draw_ground(canvas, box, unit)
        overlay, osurface = rgba_canvas(size)
        ocanvas, _, _ = self._begin(osurface, key)
        self.scene.draw_section_outlines(ocanvas, box, unit)
        self.scene.draw_section_names(ocanvas, box, unit)
        coverage, csurface = a8_canvas(size)
        ccanvas, _, _ = self._begin(csurface, key)
        owner, wsurface = rgba_canvas(size)
        wcanvas, _, _ = self._begin(wsurface, key)
        sections = self.scene.sections_in(box)
        cover = skia.Paint(AntiAlias=True, Color=skia.ColorBLACK)
        for slot, i in enumerate(sections, start=1):
            path = self.scene.section_paths[i]
            ccanvas.drawPath(path, cover)
            color = skia.ColorSetARGB(255, slot & 0xFF, slot >> 8, 0)
            wcanvas.drawPath(path, skia.Paint(AntiAlias=False, Color=color))
            edge = skia.Paint(AntiAlias=False, Color=color, Style=skia.Paint.kStroke_Style,
                              StrokeWidth=2.0 * unit / key.density)
            wcanvas.drawPath(path, edge)
        del canvas, ocanvas, ccanvas, wcanvas, surface, osurface, csurface, wsurface
        slot_map = owner[..., 0].astype(np.int32) | (owner[..., 1].astype(np.int32) << 8)
        ids = np.array(sections, dtype=np.int64)
        return TileLayers(
            size_px=size,
            ground=ground,
            overlay=overlay,
            slot=slot_map.ravel(),
            outer=coverage.ravel(),
            inner=np.zeros(size * size, np.uint8),
            text=None,
            slots=ids.astype(np.uint32),
            slot_classes=self.section_possible[ids] if ids.size else
            np.zeros((0, style.SECTION_CLASS_COUNT), np.int64),
            looks=self.section_looks,
        )

    def _seat_layers(self, key: TileKey, seat_ids: npt.NDArray[np.int64]) -> TileLayers:
        size = key.size_px
        detail = self.grid.lod(key.z) is Lod.DETAIL
        ground, surface = rgba_canvas(size)
        canvas, unit, box = self._begin(surface, key)
        self.scene.draw_ground(canvas, box, unit)
        self.scene.draw_section_fills(canvas, box)
        self.scene.draw_section_outlines(canvas, box, unit)
        self.scene.draw_accessible(canvas, seat_ids.tolist(), unit)
        if detail:
            self.scene.draw_row_labels(canvas, box, unit)
        del canvas, surface
        t = tile_transform(self.grid, key)
        seats = self.venue.seats
        cx = seats.x[seat_ids].astype(np.float64) * t.scale - t.origin_x
        cy = seats.y[seat_ids].astype(np.float64) * t.scale - t.origin_y
        r = seats.radius[seat_ids].astype(np.float64) * t.scale
        discs = self._discs.setdefault((key.z, key.density), DiscSprites())
        sprite, ox, oy = discs.sprite_ids(cx, cy, r)
        placed = stamp(discs.sprites, sprite, ox, oy, size, size)
        channels = discs.sprites.packed().channels
        slot = np.zeros(size * size, np.int32)
        outer = np.zeros(size * size, np.uint8)
        inner = np.zeros(size * size, np.uint8)
        slot[placed.pixel] = (placed.item + 1).astype(np.int32)
        outer[placed.pixel] = channels[0].take(placed.source)
        inner[placed.pixel] = channels[1].take(placed.source)
        text = self._numbers(key, seat_ids, cx, cy, slot, t.scale) if detail else None
        return TileLayers(
            size_px=size,
            ground=ground,
            overlay=None,
            slot=slot,
            outer=outer,
            inner=inner,
            text=text,
            slots=seat_ids.astype(np.uint32),
            slot_classes=self.seat_possible[seat_ids],
            looks=self.seat_looks,
        )

    def number_font_px(self, scale: float, density: int = 1) -> float:
        """Seat-number font size in output pixels at a pixel scale and density.

        Scene's size for print, raised to NUMBER_MIN_FONT_PX per density where the
        seat leaves room for it, so numbers at the detail zoom are legible.
        """
        radius_px = self.scene.seat_radius * scale
        floor = min(NUMBER_MIN_FONT_PX * density, radius_px * NUMBER_MAX_FONT_RATIO)
        return max(radius_px * NUMBER_FONT_RATIO, floor)

    def _numbers(
        self,
        key: TileKey,
        seat_ids: npt.NDArray[np.int64],
        cx: npt.NDArray[np.float64],
        cy: npt.NDArray[np.float64],
        slot: npt.NDArray[np.int32],
        scale: float,
    ) -> U8 | None:
        font_px = self.number_font_px(scale, key.density)
        if font_px / key.density < MIN_TEXT_PX or seat_ids.size == 0:
            return None
        texts = self._texts.get((key.z, key.density))
        if texts is None:
            texts = self._texts.setdefault((key.z, key.density), TextSprites(font_px))
        labels = self.venue.seats.labels
        ids = np.array([texts.sprite_id(labels[i]) for i in seat_ids.tolist()], dtype=np.int64)
        ox = np.floor(cx + 0.5).astype(np.int64)
        oy = np.floor(cy + 0.5).astype(np.int64)
        size = key.size_px
        placed = stamp(texts.sprites, ids, ox, oy, size, size)
        own = slot[placed.pixel] == placed.item + 1
        text = np.zeros(size * size, np.uint8)
        text[placed.pixel[own]] = texts.sprites.packed().channels[0].take(placed.source[own])
        return text
