"""The "your seats" image a confirmation e-mail carries (`map.png?highlight=...`).

A snapshot for one buyer, not a live map: it is framed on the section(s) of the
highlighted seats, draws every seat in the frame in one neutral colour (no other
buyer's holds), and the buyer's seats in a strong colour with a label per row
("Row F · 7–8", digits at least 10 px high at 1x), section names and row letters.
A locator inset shows the whole venue with the buyer's section(s) marked and the
frame outlined; the event title runs along the top and a one-line legend along
the bottom. Everything scales with `scale` (2 for high-density screens).
"""

from __future__ import annotations

import numpy as np
import skia

from seatmap.context import EventView
from seatmap.model import Venue
from tileserver import encode
from tileserver.params import MapParams
from tileserver.render import style
from tileserver.render.geometry import Box, seats_in_box
from tileserver.render.paints import paint
from tileserver.render.scene import Scene
from tileserver.seatwords import SeatGroup, groups
from tileserver.staticmap import PAGE_COLOR, draw_highlights, fit

TITLE_BAND_PX = 34.0
LEGEND_BAND_PX = 26.0
PAD_PX = 8.0
TITLE_PX = 17.0
LABEL_PX = 15.0  # DejaVu Sans Bold digits are 0.73 em high: 11 px at 1x
LEGEND_PX = 13.0
INSET_SHARE = 0.28  # of the image width
FRAME_MARGIN = 0.08
NEUTRAL_SEAT = "#b6bec7"
NEUTRAL_SECTION = "#eef1f4"
MINE_SECTION = "#fbe3f1"
TEXT = style.rgb(style.SECTION_NAME)


def frame_box(venue: Venue, scene: Scene, seats: frozenset[int]) -> Box:
    """The union of the highlighted seats' sections, with a margin."""
    sections = {int(venue.seats.section[s]) for s in seats}
    boxes = [scene.section_boxes[i] for i in sections]
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    for s in seats:  # seats outside their section's outline still belong in the frame
        x, y, r = float(venue.seats.x[s]), float(venue.seats.y[s]), float(venue.seats.radius[s])
        x0, y0, x1, y1 = min(x0, x - r), min(y0, y - r), max(x1, x + r), max(y1, y + r)
    mx, my = (x1 - x0) * FRAME_MARGIN, (y1 - y0) * FRAME_MARGIN
    return (x0 - mx, y0 - my, x1 + mx, y1 + my)


def _draw_venue(canvas: skia.Canvas, scene: Scene, box: Box, unit: float,
                mine: frozenset[int]) -> None:
    """Ground, sections, every seat in the frame (neutral) and the buyer's seats."""
    venue = scene.venue
    my_sections = {int(venue.seats.section[s]) for s in mine}
    colors = [style.rgb(MINE_SECTION if i in my_sections else NEUTRAL_SECTION)
              for i in range(len(venue.sections))]
    scene.draw_ground(canvas, box, unit)
    scene.draw_section_fills(canvas, box, colors)
    scene.draw_section_outlines(canvas, box, unit)
    ids = seats_in_box(venue, box)
    neutral = paint(style.rgb(NEUTRAL_SEAT))
    seats = venue.seats
    for i in ids.tolist():
        if i not in mine:
            canvas.drawCircle(float(seats.x[i]), float(seats.y[i]), float(seats.radius[i]),
                              neutral)
    scene.draw_row_labels(canvas, box, unit, min_px=7.0)
    scene.draw_section_names(canvas, box, unit, min_px=9.0)
    draw_highlights(canvas, venue, mine, unit)


def _label_text(venue: Venue, group: SeatGroup) -> str:
    labels = [venue.seats.labels[s] for s in group.seats]
    numbers = labels[0] if len(labels) == 1 else (
        f"{labels[0]}–{labels[-1]}" if len(labels) > 3 else ", ".join(labels))
    return f"Row {venue.rows[group.row].label} · {numbers}"


def _draw_labels(canvas: skia.Canvas, scene: Scene, groups_: list[SeatGroup],
                 to_px: tuple[float, float, float], area: skia.Rect, u: float) -> None:
    """One bubble per row above its seats, pointing at them, never off the map area."""
    venue = scene.venue
    s, ox, oy = to_px
    font = skia.Font(scene.bold_face, LABEL_PX * u)
    fill, text = paint(style.rgb(style.HIGHLIGHT)), paint((255, 255, 255))
    placed: list[skia.Rect] = []
    height = LABEL_PX * u * 1.5
    for group in groups_:
        xs = venue.seats.x[list(group.seats)]
        ys = venue.seats.y[list(group.seats)]
        cx = float(xs.mean()) * s + ox
        top = float(ys.min() - venue.seats.radius[list(group.seats)].max()) * s + oy
        label = _label_text(venue, group)
        width = font.measureText(label) + LABEL_PX * u
        left = min(max(cx - width / 2, area.left() + 2 * u), area.right() - width - 2 * u)
        bottom = max(top - 6 * u, area.top() + height + 2 * u)
        rect = skia.Rect(left, bottom - height, left + width, bottom)
        while any(rect.intersect(other) for other in placed) and rect.top() > area.top():
            rect = rect.makeOffset(0, -(height + 3 * u))
        placed.append(rect)
        pointer = skia.Path()
        tip_y = max(top - 1 * u, rect.bottom())
        pointer.moveTo(cx - 5 * u, rect.bottom() - 1)
        pointer.lineTo(cx + 5 * u, rect.bottom() - 1)
        pointer.lineTo(cx, tip_y + 4 * u)
        pointer.close()
        canvas.drawPath(pointer, fill)
        canvas.drawRRect(skia.RRect.MakeRectXY(rect, 4 * u, 4 * u), fill)
        baseline = rect.centerY() + font.getMetrics().fCapHeight / 2
        canvas.drawString(label, rect.left() + LABEL_PX * u / 2, baseline, font, text)


def _draw_inset(canvas: skia.Canvas, scene: Scene, frame: Box, mine: frozenset[int],
                rect: skia.Rect, u: float) -> None:
    """The whole venue small, the buyer's section(s) marked and the frame outlined."""
    venue = scene.venue
    whole = (0.0, 0.0, venue.width, venue.height)
    canvas.drawRect(rect, paint((255, 255, 255)))
    canvas.drawRect(rect, paint(style.rgb(style.SECTION_OUTLINE), stroke_width=1 * u))
    s, ox, oy = fit(whole, rect.width() - 6 * u, rect.height() - 6 * u)
    canvas.save()
    canvas.clipRect(rect)
    canvas.translate(rect.left() + 3 * u + ox, rect.top() + 3 * u + oy)
    canvas.scale(s, s)
    my_sections = {int(venue.seats.section[i]) for i in mine}
    colors = [style.rgb(style.HIGHLIGHT if i in my_sections else NEUTRAL_SECTION)
              for i in range(len(venue.sections))]
    scene.draw_ground(canvas, whole, u / s)
    scene.draw_section_fills(canvas, whole, colors)
    scene.draw_section_outlines(canvas, whole, u / s)
    frame_rect = skia.Rect(frame[0], frame[1], frame[2], frame[3])
    canvas.drawRect(frame_rect, paint(TEXT, stroke_width=1.5 * u / s))
    canvas.restore()


def _inset_rect(venue: Venue, mine: frozenset[int], to_px: tuple[float, float, float],
                area: skia.Rect, inset_w: float, u: float) -> skia.Rect:
    """The inset in the corner of the map area farthest from the buyer's seats."""
    inset_h = min(inset_w * venue.height / max(venue.width, 1e-9), area.height() * 0.45)
    s, ox, oy = to_px
    idx = sorted(mine)
    cx = float(venue.seats.x[idx].mean()) * s + ox
    cy = float(venue.seats.y[idx].mean()) * s + oy
    gap = 6 * u
    corners = [
        skia.Rect.MakeXYWH(x, y, inset_w, inset_h)
        for x in (area.left() + gap, area.right() - inset_w - gap)
        for y in (area.top() + gap, area.bottom() - inset_h - gap)
    ]
    return max(corners, key=lambda r: (r.centerX() - cx) ** 2 + (r.centerY() - cy) ** 2)


def _draw_legend(canvas: skia.Canvas, scene: Scene, x: float, y: float, u: float) -> None:
    font = skia.Font(scene.face, LEGEND_PX * u)
    r = 5 * u
    items = [(style.HIGHLIGHT, "Your seats"), (NEUTRAL_SEAT, "Other seats")]
    for color, label in items:
        canvas.drawCircle(x + r, y, r, paint(style.rgb(color)))
        canvas.drawString(label, x + 2 * r + 5 * u, y + LEGEND_PX * u * 0.35, font, paint(TEXT))
        x += 2 * r + 5 * u + font.measureText(label) + 16 * u


def layout(scene: Scene, params: MapParams) -> tuple[skia.Rect, Box, tuple[float, float, float]]:
    """The map area (output pixels), the venue box it frames, and (scale, x0, y0) with
    which a venue point (x, y) lands at pixel (x0 + x * scale - frame x, ...)."""
    u = float(params.scale)
    width, height = params.width * params.scale, params.height * params.scale
    title_h, legend_h = TITLE_BAND_PX * u, LEGEND_BAND_PX * u
    area = skia.Rect(0, title_h, width, max(height - legend_h, title_h + 1))
    frame = frame_box(scene.venue, scene, params.highlight)
    s, ox, oy = fit(frame, area.width() - 2 * PAD_PX * u, area.height() - 2 * PAD_PX * u)
    return area, frame, (s, ox + PAD_PX * u, oy + area.top() + PAD_PX * u)


def seat_pixel(scene: Scene, params: MapParams, seat: int) -> tuple[float, float]:
    """Where a seat's centre lands in the image."""
    _, frame, (s, ox, oy) = layout(scene, params)
    seats = scene.venue.seats
    return (float(seats.x[seat]) - frame[0]) * s + ox, (float(seats.y[seat]) - frame[1]) * s + oy


def render_your_seats(scene: Scene, view: EventView, params: MapParams) -> bytes:
    """The image as PNG or WebP bytes."""
    venue, mine, u = scene.venue, params.highlight, float(params.scale)
    width, height = params.width * params.scale, params.height * params.scale
    pixels = np.zeros((height, width, 4), dtype=np.uint8)
    info = skia.ImageInfo.Make(width, height, skia.kRGBA_8888_ColorType, skia.kPremul_AlphaType)
    surface = skia.Surface.MakeRasterDirect(info, pixels)
    canvas = surface.getCanvas()
    canvas.clear(skia.ColorSetRGB(*PAGE_COLOR))
    area, frame, (s, ox, oy) = layout(scene, params)
    title_h, legend_h = TITLE_BAND_PX * u, LEGEND_BAND_PX * u
    visible = (frame[0] - ox / s, frame[1] - (oy - area.top()) / s,
               frame[0] + (width - ox) / s, frame[1] + (area.bottom() - oy) / s)
    canvas.save()
    canvas.clipRect(area)
    canvas.translate(ox, oy)
    canvas.scale(s, s)
    canvas.translate(-frame[0], -frame[1])
    _draw_venue(canvas, scene, visible, u / s, mine)
    canvas.restore()
    to_px = (s, ox - frame[0] * s, oy - frame[1] * s)
    _draw_labels(canvas, scene, groups(venue, mine), to_px, area, u)
    inset = _inset_rect(venue, mine, to_px, area, width * INSET_SHARE, u)
    _draw_inset(canvas, scene, frame, mine, inset, u)
    title = skia.Font(scene.bold_face, TITLE_PX * u)
    canvas.drawString(view.event.title, PAD_PX * u, title_h / 2 + TITLE_PX * u * 0.36, title,
                      paint(TEXT))
    _draw_legend(canvas, scene, PAD_PX * u, height - legend_h / 2, u)
    del canvas, surface
    if params.fmt == "webp":
        return encode.webp(pixels)
    return encode.png_rgba(pixels)
