"""Skia paints, the project's typeface and centred text, shared by every drawing."""

from __future__ import annotations

import skia

from seatmap.formats.palette import RGBA
from tileserver.render import style

FONT_FAMILY = "DejaVu Sans"


def color4f(color: style.RGB | RGBA, alpha: float = 1.0) -> int:
    """A skia ARGB colour int from an RGB tuple, or an RGBA one that brings its own alpha."""
    own = color[3] if len(color) == 4 else 255
    return int(skia.ColorSetARGB(round(alpha * own), color[0], color[1], color[2]))


def paint(
    color: style.RGB | RGBA, *, stroke_width: float = 0.0, aa: bool = True
) -> skia.Paint:
    """A fill (or stroke, when stroke_width > 0) paint of one colour."""
    p = skia.Paint(AntiAlias=aa, Color=color4f(color))
    if stroke_width > 0:
        p.setStyle(skia.Paint.kStroke_Style)
        p.setStrokeWidth(stroke_width)
    return p


def typeface(bold: bool = False) -> skia.Typeface:
    """The project's one typeface (DejaVu Sans, falling back to the default)."""
    face = skia.Typeface.MakeFromName(
        FONT_FAMILY, skia.FontStyle.Bold() if bold else skia.FontStyle.Normal()
    )
    return face if face is not None else skia.Typeface.MakeDefault()


def draw_centered_text(
    canvas: skia.Canvas, text: str, x: float, y: float, font: skia.Font, p: skia.Paint
) -> None:
    """Draw text centred on (x, y) horizontally and by cap height vertically."""
    width = font.measureText(text)
    cap = font.getMetrics().fCapHeight or font.getSize() * 0.7
    canvas.drawString(text, x - width / 2.0, y + cap / 2.0, font, p)
