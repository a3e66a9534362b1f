"""The stage, floor or field of a synthetic venue, drawn as areas under the seats."""

from __future__ import annotations

from seatmap.model import Area, Point


def field_areas(kind: str, centre: Point, first_radius: float, scale: float) -> list[Area]:
    """Areas for the kind's focal feature; `first_radius` is where the seating starts."""
    cx, cy = centre
    if kind == "theater":
        half, depth = 1.1 * first_radius, 0.6 * first_radius
        return [
            Area("rect", ((cx - half, cy - depth), (cx + half, cy)), "#4a4a4a", "#2b2b2b"),
            _label("STAGE", (cx, cy - depth / 2), 0.12 * first_radius, "#ffffff"),
        ]
    if kind == "arena":
        half_w, half_h = 2000.0 * scale, 1000.0 * scale
        return [
            Area("rect", ((cx - half_w, cy - half_h), (cx + half_w, cy + half_h)), "#c9b48f"),
            _label("FLOOR", centre, 0.25 * half_h, "#5a4a2a"),
        ]
    half_w, half_h = 5250.0 * scale, 3400.0 * scale
    line = 12.0 * max(scale, 0.25)
    return [
        Area("ellipse", (centre, (0.95 * first_radius, 0.9 * first_radius)), "#c8735a"),
        Area("rect", ((cx - half_w, cy - half_h), (cx + half_w, cy + half_h)), "#5d9b50"),
        Area("circle", (centre, (915.0 * scale, 915.0 * scale)), "#5d9b50", "#f2f2f2"),
        Area("rect", ((cx - line, cy - half_h), (cx + line, cy + half_h)), "#f2f2f2"),
        _label("FIELD", (cx, cy - half_h / 2), 0.12 * half_h, "#f2f2f2"),
    ]


def _label(text: str, anchor: Point, size: float, color: str) -> Area:
    return Area("text", (anchor,), fill="", text=text, text_color=color, font_size=size)
