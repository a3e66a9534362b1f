"""Skia drawing of a venue: ground, areas, sections, labels and seats.

Every raster and vector output draws through `Scene`: the pre-rendered base
tiles (ground, sections, names, row letters, accessible markers), the static
map and the print PDF/SVG (which also draw the seats as vector shapes), and
the benchmark's redraw baseline. Drawing happens in venue units: callers set
the canvas matrix (venue unit -> output pixel) and pass `unit`, the size in
venue units of one CSS pixel, so strokes and text keep their on-screen size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import skia

from seatmap.model import Area, Venue
from tileserver.render import style
from tileserver.render.geometry import Box, area_box, intersects, label_point, row_labels
from tileserver.render.paints import draw_centered_text, paint, typeface

MIN_TEXT_PX = 5.0
SECTION_NAME_MAX_PX = 16.0
SECTION_NAME_MIN_PX = 7.0
OUTLINE_PX = 1.0
NUMBER_FONT_RATIO = 0.95  # seat-number font size as a share of the seat radius


class Scene:
    """Pre-built paths and label positions of one venue, drawn into any canvas."""

    def __init__(self, venue: Venue) -> None:
        self.venue = venue
        self.face = typeface()
        self.bold_face = typeface(bold=True)
        self.seat_radius = float(np.median(venue.seats.radius)) if venue.seat_count else 1.0
        self.section_paths: list[skia.Path] = []
        self.section_boxes: list[Box] = []
        self.section_anchors: list[tuple[float, float]] = []
        for section in venue.sections:
            path = skia.Path()
            if len(section.outline) >= 3:
                path.addPoly([skia.Point(x, y) for x, y in section.outline], True)
            b = path.getBounds()
            self.section_paths.append(path)
            self.section_boxes.append((b.left(), b.top(), b.right(), b.bottom()))
            self.section_anchors.append(label_point(section.outline, venue, section.index))
        self.area_boxes = [area_box(a) for a in venue.areas]
        self.row_labels = row_labels(venue, self.seat_radius)
        self.row_label_xy = np.array([(r.x, r.y) for r in self.row_labels], dtype=np.float64)
        self.row_label_xy = self.row_label_xy.reshape(-1, 2)

    # -- ground and areas -------------------------------------------------

    def draw_ground(self, canvas: skia.Canvas, box: Box, unit: float) -> None:
        """The venue canvas colour and every free area (stage, field, text)."""
        v = self.venue
        canvas.drawRect(skia.Rect(0, 0, v.width, v.height), paint(style.rgb(style.BACKGROUND)))
        for area, abox in zip(v.areas, self.area_boxes, strict=True):
            if intersects(abox, box) or area.kind == "text":
                self._draw_area(canvas, area, unit)

    def _draw_area(self, canvas: skia.Canvas, area: Area, unit: float) -> None:
        pts = area.points
        canvas.save()
        if area.rotation_deg and pts:
            canvas.rotate(area.rotation_deg, pts[0][0], pts[0][1])
        if area.kind == "text":
            if area.text and area.font_size / unit >= MIN_TEXT_PX and pts:
                font = skia.Font(self.bold_face, area.font_size)
                draw_centered_text(canvas, area.text, pts[0][0], pts[0][1], font,
                                   paint(style.rgba(area.text_color)))
            canvas.restore()
            return
        shape = skia.Path()
        if area.kind == "rect" and len(pts) >= 2:
            shape.addRect(skia.Rect(pts[0][0], pts[0][1], pts[1][0], pts[1][1]))
        elif area.kind in ("circle", "ellipse") and len(pts) >= 2:
            (cx, cy), (rx, ry) = pts[0], pts[1]
            shape.addOval(skia.Rect(cx - rx, cy - ry, cx + rx, cy + ry))
        elif area.kind == "polygon" and len(pts) >= 3:
            shape.addPoly([skia.Point(x, y) for x, y in pts], True)
        if area.fill:  # colours keep their alpha: a "transparent" area draws nothing
            canvas.drawPath(shape, paint(style.rgba(area.fill)))
        if area.stroke:
            canvas.drawPath(shape, paint(style.rgba(area.stroke), stroke_width=1.5 * unit))
        if area.text and pts:
            cx = sum(p[0] for p in pts) / len(pts)
            cy = sum(p[1] for p in pts) / len(pts)
            if area.font_size / unit >= MIN_TEXT_PX:
                font = skia.Font(self.bold_face, area.font_size)
                draw_centered_text(canvas, area.text, cx, cy, font,
                                   paint(style.rgba(area.text_color)))
        canvas.restore()

    # -- sections ---------------------------------------------------------

    def sections_in(self, box: Box) -> list[int]:
        """Indices of the sections whose outline box meets `box`."""
        return [i for i, b in enumerate(self.section_boxes) if intersects(b, box)]

    def draw_section_fills(
        self,
        canvas: skia.Canvas,
        box: Box,
        colors: Sequence[style.RGB | style.RGBA] | None = None,
        aa: bool = True,
    ) -> None:
        """Fill sections with their own colour, or with `colors[section]`."""
        for i in self.sections_in(box):
            color = colors[i] if colors is not None else style.rgba(self.venue.sections[i].color)
            canvas.drawPath(self.section_paths[i], paint(color, aa=aa))

    def draw_section_outlines(self, canvas: skia.Canvas, box: Box, unit: float) -> None:
        """Stroke every section outline one CSS pixel wide."""
        p = paint(style.rgb(style.SECTION_OUTLINE), stroke_width=OUTLINE_PX * unit)
        for i in self.sections_in(box):
            canvas.drawPath(self.section_paths[i], p)

    def draw_section_names(
        self, canvas: skia.Canvas, box: Box, unit: float, min_px: float = SECTION_NAME_MIN_PX
    ) -> None:
        """Section names at their label points, sized to fit, skipped when under `min_px`."""
        p = paint(style.rgb(style.SECTION_NAME))
        for i in self.sections_in(box):
            name = self.venue.sections[i].name
            size = self.section_name_size(i, unit, min_px)
            if size is None:
                continue
            x, y = self.section_anchors[i]
            draw_centered_text(canvas, name, x, y, skia.Font(self.bold_face, size), p)

    def section_name_size(
        self, i: int, unit: float, min_px: float = SECTION_NAME_MIN_PX
    ) -> float | None:
        """Font size (venue units) of section i's name, or None when it does not fit."""
        x0, y0, x1, y1 = self.section_boxes[i]
        name = self.venue.sections[i].name
        probe = skia.Font(self.bold_face, 1.0)
        width1 = max(probe.measureText(name), 1e-6)
        size = min(0.7 * (x1 - x0) / width1, 0.4 * (y1 - y0), SECTION_NAME_MAX_PX * unit)
        return size if size >= min_px * unit and size > 0 else None

    # -- seats and seat-level labels -----------------------------------------

    def draw_accessible(self, canvas: skia.Canvas, seat_ids: Iterable[int], unit: float) -> None:
        """A blue rounded square behind every accessible seat among `seat_ids`."""
        seats = self.venue.seats
        p = paint(style.rgb(style.ACCESSIBLE))
        for i in seat_ids:
            if not seats.accessible[i]:
                continue
            h = float(seats.radius[i]) + style.ACCESSIBLE_PAD_PX * unit
            x, y = float(seats.x[i]), float(seats.y[i])
            canvas.drawRRect(skia.RRect.MakeRectXY(skia.Rect(x - h, y - h, x + h, y + h),
                                                   h * 0.35, h * 0.35), p)

    def draw_row_labels(
        self, canvas: skia.Canvas, box: Box, unit: float, min_px: float = MIN_TEXT_PX
    ) -> None:
        """Row letters at both ends of every row inside `box`."""
        if not self.row_labels:
            return
        size = 1.2 * self.seat_radius
        if size / unit < min_px:
            return
        font = skia.Font(self.bold_face, size)
        p = paint(style.rgb(style.ROW_LABEL))
        xy = self.row_label_xy
        pad = size * 2
        inside = np.flatnonzero(
            (xy[:, 0] >= box[0] - pad) & (xy[:, 0] <= box[2] + pad)
            & (xy[:, 1] >= box[1] - pad) & (xy[:, 1] <= box[3] + pad)
        )
        for k in inside.tolist():
            label = self.row_labels[k]
            draw_centered_text(canvas, label.text, label.x, label.y, font, p)

    def draw_seats(
        self,
        canvas: skia.Canvas,
        seat_ids: npt.NDArray[np.int64],
        classes: npt.NDArray[np.uint8],
        looks: Sequence[style.ClassLook],
        unit: float,
        numbers: bool = False,
        highlight: frozenset[int] = frozenset(),
        min_text_px: float = MIN_TEXT_PX,
        every_number: bool = False,
    ) -> None:
        """Every seat as a vector shape by class (disc, ring, dot), optionally numbered.

        Tiles leave sold and blocked seats unnumbered; `every_number` (print) numbers
        them too, in dark text.
        """
        seats = self.venue.seats
        paints = [(paint(lk.outer), paint(lk.inner)) for lk in looks]
        hi_paint = paint(style.rgb(style.HIGHLIGHT))
        hi_ring = paint(style.rgb(style.HIGHLIGHT), stroke_width=1.5 * unit)
        hi_text = paint(style.rgb(style.SEAT_TEXT_LIGHT))
        font = skia.Font(self.bold_face, self.seat_radius * NUMBER_FONT_RATIO)
        dark = style.rgb(style.SEAT_TEXT_DARK)
        text_paints = {i: paint(lk.text if lk.text is not None else dark)
                       for i, lk in enumerate(looks) if lk.text is not None or every_number}
        show_numbers = numbers and font.getSize() / unit >= min_text_px
        for i in seat_ids.tolist():
            x, y, r = float(seats.x[i]), float(seats.y[i]), float(seats.radius[i])
            cls = int(classes[i])
            if i in highlight:
                canvas.drawCircle(x, y, r + 2.5 * unit, hi_ring)
                canvas.drawCircle(x, y, r, hi_paint)
                if show_numbers:
                    draw_centered_text(canvas, seats.labels[i], x, y, font, hi_text)
                continue
            look = looks[cls]
            outer, inner = paints[cls]
            if not look.inner_only:
                canvas.drawCircle(x, y, r, outer)
            if look.inner != look.outer or look.inner_only:
                canvas.drawCircle(x, y, r * style.INNER_RATIO, inner)
            if show_numbers and cls in text_paints:
                draw_centered_text(canvas, seats.labels[i], x, y, font, text_paints[cls])


