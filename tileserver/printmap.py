"""Print output: one PDF or SVG page (A4 or Letter) with title, map and legend.

Drawn with skia's PDF and SVG backends, so everything stays vector: every
seat with its number, row letters and section names are real text (the PDF's
text can be extracted and searched), however small they are on the page; a
reader zooms in to read them.
"""

from __future__ import annotations

from datetime import datetime

import skia

from seatmap.context import EventView
from tileserver.livestate import LiveClasses
from tileserver.params import PrintParams
from tileserver.render import style
from tileserver.render.paints import paint
from tileserver.render.scene import Scene
from tileserver.staticmap import draw_map, fit, target_box

MARGIN_PT = 28.0
TITLE_PT = 16.0
SUBTITLE_PT = 9.0
LEGEND_PT = 8.0
LEGEND_ROW_PT = 13.0
TEXT = style.rgb(style.SECTION_NAME)


def _legend_items(view: EventView) -> list[tuple[str, str, style.RGB, style.RGB]]:
    items = [("disc", f"{c.name}  {c.price_cents / 100:.2f}", style.rgb(c.color),
              style.rgb(c.color)) for c in view.venue.categories]
    items += [
        ("ring", "held", style.rgb(style.HELD), style.rgb(style.HELD_CENTRE)),
        ("dot", "sold", style.rgb(style.SOLD), style.rgb(style.SOLD)),
        ("disc-dot", "not for sale", style.rgb(style.BLOCKED_DISC), style.rgb(style.BLOCKED_DOT)),
        ("square", "accessible", style.rgb(style.ACCESSIBLE), style.rgb(style.ACCESSIBLE)),
        ("highlight", "your seats", style.rgb(style.HIGHLIGHT), style.rgb(style.HIGHLIGHT)),
    ]
    return items


def _draw_legend(canvas: skia.Canvas, view: EventView, x0: float, y0: float,
                 width: float, face: skia.Typeface) -> None:
    font = skia.Font(face, LEGEND_PT)
    text = paint(TEXT)
    col_w = 140.0
    cols = max(1, int(width // col_w))
    r = 4.0
    for n, (shape, label, outer, inner) in enumerate(_legend_items(view)):
        cx = x0 + (n % cols) * col_w + r
        cy = y0 + (n // cols) * LEGEND_ROW_PT + r
        if shape == "square":
            canvas.drawRRect(skia.RRect.MakeRectXY(skia.Rect(cx - r, cy - r, cx + r, cy + r),
                                                   1.5, 1.5), paint(outer))
        elif shape == "dot":
            canvas.drawCircle(cx, cy, r * style.INNER_RATIO, paint(outer))
        else:
            canvas.drawCircle(cx, cy, r, paint(outer))
            if shape in ("ring", "disc-dot"):
                canvas.drawCircle(cx, cy, r * style.INNER_RATIO, paint(inner))
        canvas.drawString(label, cx + r + 4, cy + LEGEND_PT * 0.35, font, text)


def legend_height(view: EventView, width: float) -> float:
    """Points taken by the legend at the foot of the page."""
    cols = max(1, int(width // 140.0))
    rows = -(-len(_legend_items(view)) // cols)
    return rows * LEGEND_ROW_PT + 6


def draw_page(canvas: skia.Canvas, scene: Scene, view: EventView, live: LiveClasses,
              params: PrintParams, numbered: bool = True) -> None:
    """Title, subtitle, map and legend on one page; every seat numbered unless not
    `numbered` (the booklet's overview, which shows sections)."""
    page_w, page_h = params.page_pt
    canvas.drawRect(skia.Rect(0, 0, page_w, page_h), paint((255, 255, 255)))
    bold = scene.bold_face
    title = params.title or view.event.title
    title_font = skia.Font(bold, TITLE_PT)
    canvas.drawString(title, MARGIN_PT, MARGIN_PT + TITLE_PT, title_font, paint(TEXT))
    when = view.event.starts_at
    parts = [view.venue.name]
    if isinstance(when, datetime):
        parts.append(when.strftime("%Y-%m-%d %H:%M"))
    if params.section is not None:
        parts.append(f"section {view.venue.sections[params.section].name}")
    canvas.drawString("  ·  ".join(parts), MARGIN_PT, MARGIN_PT + TITLE_PT + SUBTITLE_PT + 6,
                      skia.Font(scene.face, SUBTITLE_PT), paint(TEXT))
    inner_w = page_w - 2 * MARGIN_PT
    top = MARGIN_PT + TITLE_PT + SUBTITLE_PT + 18
    legend_h = legend_height(view, inner_w)
    map_h = page_h - top - MARGIN_PT - legend_h - 8
    box = target_box(view.venue, scene, params.section, params.box)
    s, ox, oy = fit(box, inner_w, map_h)
    canvas.save()
    canvas.clipRect(skia.Rect(MARGIN_PT, top, MARGIN_PT + inner_w, top + map_h))
    canvas.translate(MARGIN_PT + ox, top + oy)
    canvas.scale(s, s)
    canvas.translate(-box[0], -box[1])
    visible = (box[0] - ox / s, box[1] - oy / s, box[0] + (inner_w - ox) / s,
               box[1] + (map_h - oy) / s)
    draw_map(canvas, scene, live, visible, 1.0 / s, params.highlight,
             min_text_px=0.0 if numbered else None, section_names=True)
    canvas.restore()
    _draw_legend(canvas, view, MARGIN_PT, page_h - MARGIN_PT - legend_h + 4, inner_w, bold)


def render_print(scene: Scene, view: EventView, live: LiveClasses, params: PrintParams,
                 fmt: str) -> bytes:
    """The page as PDF or SVG bytes."""
    page_w, page_h = params.page_pt
    stream = skia.DynamicMemoryWStream()
    if fmt == "pdf":
        metadata = skia.PDF.Metadata()
        metadata.fTitle = params.title or view.event.title
        metadata.fCreator = "seatmap"
        document = skia.PDF.MakeDocument(stream, metadata)
        canvas = document.beginPage(page_w, page_h)
        draw_page(canvas, scene, view, live, params)
        document.endPage()
        document.close()
    else:
        canvas = skia.SVGCanvas.Make(skia.Rect.MakeWH(page_w, page_h), stream)
        draw_page(canvas, scene, view, live, params)
        del canvas  # the SVG is written when the canvas goes away
    return bytes(stream.detachAsData())
