"""One image of a whole venue, a section or a box, at any size up to 4096 px.

For embeds and e-mail ("your seats" highlighted): drawn with skia from the
venue and the current classes, not from tiles, so any size and box works.
Seats large enough to see are drawn by status like the tiles; otherwise
sections are filled by availability. Highlighted seats are always drawn,
at least a few pixels wide, in the highlight colour with a ring.
"""

from __future__ import annotations

import numpy as np
import skia

from seatmap.model import Venue
from tileserver import encode
from tileserver.livestate import LiveClasses
from tileserver.params import MapParams
from tileserver.render import style
from tileserver.render.geometry import Box, seats_in_box
from tileserver.render.paints import paint
from tileserver.render.scene import Scene

SEAT_VIEW_MIN_PX = 3.0  # seats at least this wide (CSS px) are drawn one by one
NUMBERS_MIN_PX = 14.0
HIGHLIGHT_MIN_RADIUS_PX = 4.0
SECTION_MARGIN = 0.06
PAGE_COLOR = (255, 255, 255)


def target_box(venue: Venue, scene: Scene, section: int | None, box: Box | None) -> Box:
    """The venue-unit box to show: the given box, a section with a margin, or everything."""
    if box is not None:
        return box
    if section is not None:
        x0, y0, x1, y1 = scene.section_boxes[section]
        mx, my = (x1 - x0) * SECTION_MARGIN, (y1 - y0) * SECTION_MARGIN
        return (x0 - mx, y0 - my, x1 + mx, y1 + my)
    return (0.0, 0.0, venue.width, venue.height)


def fit(box: Box, width: float, height: float) -> tuple[float, float, float]:
    """Scale and offset that fit a box centred into width x height."""
    bw, bh = max(box[2] - box[0], 1e-9), max(box[3] - box[1], 1e-9)
    s = min(width / bw, height / bh)
    return s, (width - bw * s) / 2.0, (height - bh * s) / 2.0


def draw_highlights(canvas: skia.Canvas, venue: Venue, seat_ids: frozenset[int],
                    unit: float) -> None:
    """Highlighted seats: a disc in the highlight colour inside a white and a coloured ring."""
    seats = venue.seats
    fill = paint(style.rgb(style.HIGHLIGHT))
    white = paint(style.rgb(style.HIGHLIGHT_RING))
    for i in sorted(seat_ids):
        x, y = float(seats.x[i]), float(seats.y[i])
        r = max(float(seats.radius[i]), HIGHLIGHT_MIN_RADIUS_PX * unit)
        canvas.drawCircle(x, y, r + 2.5 * unit, fill)
        canvas.drawCircle(x, y, r + 1.2 * unit, white)
        canvas.drawCircle(x, y, r, fill)


def draw_map(
    canvas: skia.Canvas,
    scene: Scene,
    live: LiveClasses,
    box: Box,
    unit: float,
    highlight: frozenset[int],
    min_text_px: float | None = None,
    section_names: bool = False,
) -> None:
    """Draw the venue inside `box` (canvas already maps venue units to output); section
    names are drawn when sections are filled, or in print, or when `section_names`."""
    venue = scene.venue
    seat_px = 2 * scene.seat_radius / unit
    scene.draw_ground(canvas, box, unit)
    seat_view = seat_px >= SEAT_VIEW_MIN_PX or min_text_px is not None
    if seat_view:
        scene.draw_section_fills(canvas, box)
        scene.draw_section_outlines(canvas, box, unit)
        ids = seats_in_box(venue, box)
        scene.draw_accessible(canvas, ids.tolist(), unit)
        text_px = NUMBERS_MIN_PX if min_text_px is None else min_text_px
        scene.draw_row_labels(canvas, box, unit, min_px=text_px)
        looks = style.seat_looks(venue)
        scene.draw_seats(canvas, ids, live.seat_classes, looks, unit, numbers=True,
                         highlight=highlight, min_text_px=text_px,
                         every_number=min_text_px is not None)
        if min_text_px is not None or section_names:
            scene.draw_section_names(canvas, box, unit, min_px=min_text_px or 0.0)
    else:
        ramp = [style.rgb(c) for c in style.RAMP_COLORS]
        scene.draw_section_fills(canvas, box, [ramp[int(c)] for c in live.section_classes])
        scene.draw_section_outlines(canvas, box, unit)
        scene.draw_section_names(canvas, box, unit)
    if highlight:
        draw_highlights(canvas, venue, highlight, unit)


def render_static(scene: Scene, live: LiveClasses, params: MapParams) -> bytes:
    """The static map as PNG or WebP bytes."""
    venue = scene.venue
    box = target_box(venue, scene, params.section, params.box)
    width, height = params.width * params.scale, params.height * params.scale
    pixels = np.zeros((height, width, 4), dtype=np.uint8)
    info = skia.ImageInfo.Make(width, height, skia.kRGBA_8888_ColorType, skia.kPremul_AlphaType)
    surface = skia.Surface.MakeRasterDirect(info, pixels)
    canvas = surface.getCanvas()
    canvas.clear(skia.ColorSetRGB(*PAGE_COLOR))
    s, ox, oy = fit(box, width, height)
    canvas.translate(ox, oy)
    canvas.scale(s, s)
    canvas.translate(-box[0], -box[1])
    visible = (box[0] - ox / s, box[1] - oy / s, box[0] + (width - ox) / s,
               box[1] + (height - oy) / s)
    draw_map(canvas, scene, live, visible, params.scale / s, params.highlight)
    del canvas, surface
    if params.fmt == "webp":
        return encode.webp(pixels)
    return encode.png_rgba(pixels)
