"""The print booklet (`map.pdf`): an overview page, then the sections at a readable size.

Page 1 is the whole venue with section names, the event's title and date and
the legend. The sections follow in index order: small neighbours share a page
while they fit at the reading scale, and a section too large for one page is
cut into overlapping pieces, so every seat lies whole on some page. The reading
scale makes a seat at least MIN_SEAT_PT across, so that every seat number and
row letter is printed at NUMBER_PT (>= 6 pt) and stays real, extractable text.

To keep a 100,000-seat booklet small, each page draws its seats as one point
list per status class and its numbers as one text blob, rather than one path
and one text object per seat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import skia

from seatmap.context import EventView
from seatmap.model import Venue
from tileserver.livestate import LiveClasses
from tileserver.params import PrintParams
from tileserver.printmap import MARGIN_PT, TEXT, draw_page
from tileserver.render import style
from tileserver.render.geometry import Box
from tileserver.render.paints import paint
from tileserver.render.scene import Scene

NUMBER_PT = 6.5
ROW_LABEL_PT = 7.0
SECTION_NAME_PT = 12.0
MIN_SEAT_PT = 10.5  # a seat's diameter on paper at the reading scale
MAX_ZOOM = 2.0  # sections that fit easily are shown at most this much above reading scale
HEADER_PT = 30.0
MAX_TURN_APART = 12.0  # degrees between rows of sections sharing a page


@dataclass(frozen=True, slots=True)
class SectionPage:
    """One page after the overview: its sections, the turn that lays their rows level
    (degrees), and the box it frames in those turned venue units."""

    sections: tuple[int, ...]
    angle: float
    box: Box
    piece: int = 1
    pieces: int = 1


def _turn(xs: np.ndarray, ys: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Venue coordinates turned by -angle degrees (so rows at `angle` lie level)."""
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return xs * c + ys * s, -xs * s + ys * c


def _members(venue: Venue, sections: tuple[int, ...]) -> np.ndarray:
    return np.flatnonzero(np.isin(venue.seats.section, sections))


def row_angle(venue: Venue, section: int) -> float:
    """The direction of the section's rows, from their end seats, folded into (-90, 90]."""
    seats = venue.seats
    dx = dy = 0.0
    for row in venue.rows:
        if row.section_index == section and len(row.seat_indices) > 1:
            a, b = row.seat_indices[0], row.seat_indices[-1]
            ddx, ddy = float(seats.x[b] - seats.x[a]), float(seats.y[b] - seats.y[a])
            if ddx < 0 or (ddx == 0 and ddy < 0):
                ddx, ddy = -ddx, -ddy
            dx, dy = dx + ddx, dy + ddy
    return math.degrees(math.atan2(dy, dx)) if dx or dy else 0.0


def _box(venue: Venue, sections: tuple[int, ...], angle: float, pad: float) -> Box:
    ids = _members(venue, sections)
    u, v = _turn(venue.seats.x[ids].astype(np.float64), venue.seats.y[ids].astype(np.float64),
                 angle)
    return (float(u.min()) - pad, float(v.min()) - pad, float(u.max()) + pad,
            float(v.max()) + pad)


def map_area_pt(params: PrintParams) -> tuple[float, float]:
    """Width and height of a section page's map area in points."""
    page_w, page_h = params.page_pt
    return page_w - 2 * MARGIN_PT, page_h - 2 * MARGIN_PT - HEADER_PT


def reading_scale(scene: Scene) -> float:
    """Points per venue unit at which a typical seat is MIN_SEAT_PT across."""
    return MIN_SEAT_PT / max(2 * scene.seat_radius, 1e-9)


def plan(scene: Scene, params: PrintParams) -> list[SectionPage]:
    """The pages after the overview, for the sections asked for (all by default).

    Neighbouring sections (in index order) whose rows run within MAX_TURN_APART
    degrees share a page while they fit at the reading scale.
    """
    venue = scene.venue
    width_pt, height_pt = map_area_pt(params)
    s = reading_scale(scene)
    max_w, max_h = width_pt / s, height_pt / s
    pad = 5 * scene.seat_radius  # room for the row letters beyond the end seats
    wanted = params.sections or (
        (params.section,) if params.section is not None
        else tuple(i for i in range(len(venue.sections)) if venue.section_seat_counts[i] > 0))
    angles = {i: row_angle(venue, i) for i in wanted}
    pages: list[SectionPage] = []
    group: list[int] = []

    def fits(box: Box) -> bool:
        return box[2] - box[0] <= max_w and box[3] - box[1] <= max_h

    def flush() -> None:
        if group:
            angle = angles[group[0]]
            pages.append(SectionPage(tuple(group), angle, _box(venue, tuple(group), angle, pad)))
            group.clear()

    for section in wanted:
        angle = angles[section]
        box = _box(venue, (section,), angle, pad)
        if not fits(box):
            flush()
            pages.extend(_pieces(section, angle, box, max_w, max_h, 2 * pad))
            continue
        if group and (abs(angles[group[0]] - angle) > MAX_TURN_APART
                      or not fits(_box(venue, (*group, section), angles[group[0]], pad))):
            flush()
        group.append(section)
    flush()
    return pages


def _pieces(section: int, angle: float, box: Box, max_w: float, max_h: float,
            overlap: float) -> list[SectionPage]:
    """A section cut into a grid of page-sized boxes that overlap by `overlap`."""
    w, h = box[2] - box[0], box[3] - box[1]
    nx = max(1, math.ceil((w - overlap) / (max_w - overlap)))
    ny = max(1, math.ceil((h - overlap) / (max_h - overlap)))
    step_x = (w - max_w) / (nx - 1) if nx > 1 else 0.0
    step_y = (h - max_h) / (ny - 1) if ny > 1 else 0.0
    out: list[SectionPage] = []
    for j in range(ny):
        for i in range(nx):
            x0, y0 = box[0] + i * step_x, box[1] + j * step_y
            piece = (x0, y0, min(x0 + max_w, box[2]), min(y0 + max_h, box[3]))
            out.append(SectionPage((section,), angle, piece, len(out) + 1, nx * ny))
    return out


def _draw_seats(canvas: skia.Canvas, venue: Venue, ids: np.ndarray, page_xy: np.ndarray,
                live: LiveClasses, highlight: frozenset[int], diameter_pt: float,
                bold: skia.Typeface) -> None:
    """Seats as one round-capped point list per colour, numbers as one text blob each
    for dark and light text; everything in page points, text upright."""
    seats = venue.seats
    looks = style.seat_looks(venue)
    classes = live.seat_classes[ids]
    mine = np.isin(ids, list(highlight)) if highlight else np.zeros(len(ids), dtype=bool)
    layers: list[tuple[style.RGB, np.ndarray, float]] = []
    for cls, look in enumerate(looks):
        members = np.flatnonzero((classes == cls) & ~mine)
        if len(members) == 0:
            continue
        if not look.inner_only:
            layers.append((look.outer, members, diameter_pt))
        if look.inner != look.outer or look.inner_only:
            layers.append((look.inner, members, diameter_pt * style.INNER_RATIO))
    if mine.any():
        layers.append((style.rgb(style.HIGHLIGHT), np.flatnonzero(mine), diameter_pt))
    for color, members, size in layers:
        dot = paint(color, stroke_width=size)
        dot.setStrokeCap(skia.Paint.kRound_Cap)
        points = [skia.Point(float(x), float(y)) for x, y in page_xy[members]]
        canvas.drawPoints(skia.Canvas.kPoints_PointMode, points, dot)
    font = skia.Font(bold, NUMBER_PT)
    cap = font.getMetrics().fCapHeight or NUMBER_PT * 0.7
    builders: dict[style.RGB, skia.TextBlobBuilder] = {}
    dark, white = style.rgb(style.SEAT_TEXT_DARK), style.rgb(style.SEAT_TEXT_LIGHT)
    for k, (i, cls) in enumerate(zip(ids.tolist(), classes.tolist(), strict=True)):
        label = seats.labels[i]
        color = white if mine[k] else (looks[cls].text or dark)
        builder = builders.setdefault(color, skia.TextBlobBuilder())
        x, y = page_xy[k]
        builder.allocRun(label, font, float(x) - font.measureText(label) / 2, float(y) + cap / 2)
    for color, builder in builders.items():
        blob = builder.make()
        if blob is not None:
            canvas.drawTextBlob(blob, 0, 0, paint(color))


def _draw_row_labels(canvas: skia.Canvas, scene: Scene, page: SectionPage, s: float,
                     origin: tuple[float, float]) -> None:
    """Row letters of the page's sections, upright, where the scene places them."""
    venue = scene.venue
    font = skia.Font(scene.bold_face, ROW_LABEL_PT)
    ink = paint(style.rgb(style.ROW_LABEL))
    labels = [lab for lab in scene.row_labels
              if lab.row >= 0 and venue.rows[lab.row].section_index in page.sections]
    if not labels:
        return
    xs = np.array([lab.x for lab in labels])
    ys = np.array([lab.y for lab in labels])
    u, v = _turn(xs, ys, page.angle)
    cap = font.getMetrics().fCapHeight or ROW_LABEL_PT * 0.7
    box = page.box
    inside = (u >= box[0]) & (u <= box[2]) & (v >= box[1]) & (v <= box[3])
    for k in np.flatnonzero(inside).tolist():
        px = (float(u[k]) - box[0]) * s + origin[0]
        py = (float(v[k]) - box[1]) * s + origin[1]
        text = labels[k].text
        canvas.drawString(text, px - font.measureText(text) / 2, py + cap / 2, font, ink)


def draw_section_page(canvas: skia.Canvas, scene: Scene, view: EventView, live: LiveClasses,
                      params: PrintParams, page: SectionPage, number: int, total: int) -> None:
    """A header naming the sections and the page number, then the sections' seats."""
    venue = scene.venue
    page_w, page_h = params.page_pt
    canvas.drawRect(skia.Rect(0, 0, page_w, page_h), paint((255, 255, 255)))
    names = ", ".join(venue.sections[i].name for i in page.sections)
    piece = f" (part {page.piece} of {page.pieces})" if page.pieces > 1 else ""
    header = skia.Font(scene.bold_face, 13.0)
    canvas.drawString(f"Section {names}{piece}", MARGIN_PT, MARGIN_PT + 13.0, header, paint(TEXT))
    small = skia.Font(scene.face, 8.0)
    right = f"{params.title or view.event.title}  ·  page {number} of {total}"
    canvas.drawString(right, page_w - MARGIN_PT - small.measureText(right), MARGIN_PT + 13.0,
                      small, paint(TEXT))
    width_pt, height_pt = map_area_pt(params)
    box = page.box
    s = min(width_pt / (box[2] - box[0]), height_pt / (box[3] - box[1]),
            MAX_ZOOM * reading_scale(scene))
    origin = (MARGIN_PT, MARGIN_PT + HEADER_PT)
    canvas.save()
    canvas.clipRect(skia.Rect(origin[0], origin[1], origin[0] + width_pt, origin[1] + height_pt))
    canvas.save()
    canvas.translate(*origin)
    canvas.scale(s, s)
    canvas.translate(-box[0], -box[1])
    canvas.rotate(-page.angle)
    outline = paint(style.rgb(style.SECTION_OUTLINE), stroke_width=1.0 / s)
    for section in page.sections:
        canvas.drawPath(scene.section_paths[section], outline)
    canvas.restore()
    ids = _members(venue, page.sections)
    u, v = _turn(venue.seats.x[ids].astype(np.float64), venue.seats.y[ids].astype(np.float64),
                 page.angle)
    keep = (u >= box[0]) & (u <= box[2]) & (v >= box[1]) & (v <= box[3])
    ids = ids[keep]
    page_xy = np.column_stack(((u[keep] - box[0]) * s + origin[0],
                               (v[keep] - box[1]) * s + origin[1]))
    diameter = 2 * float(np.median(venue.seats.radius[ids])) * s if len(ids) else MIN_SEAT_PT
    _draw_seats(canvas, venue, ids, page_xy, live, params.highlight, diameter, scene.bold_face)
    _draw_row_labels(canvas, scene, page, s, origin)
    canvas.restore()


def render_booklet(scene: Scene, view: EventView, live: LiveClasses,
                   params: PrintParams) -> bytes:
    """The booklet as PDF bytes: overview page, then the section pages."""
    page_w, page_h = params.page_pt
    pages = plan(scene, params)
    stream = skia.DynamicMemoryWStream()
    metadata = skia.PDF.Metadata()
    metadata.fTitle = params.title or view.event.title
    metadata.fCreator = "seatmap"
    document = skia.PDF.MakeDocument(stream, metadata)
    overview = replace(params, section=None, box=None)
    draw_page(document.beginPage(page_w, page_h), scene, view, live, overview, numbered=False)
    document.endPage()
    for number, page in enumerate(pages, start=2):
        canvas = document.beginPage(page_w, page_h)
        draw_section_page(canvas, scene, view, live, params, page, number, len(pages) + 1)
        document.endPage()
    document.close()
    return bytes(stream.detachAsData())

