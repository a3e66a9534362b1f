"""Areas with transparent and semi-transparent colours keep their alpha in every output.

Each test reads what was drawn at an area's centre (decoded tile and static map
pixels, a rasterised PDF page, the SVG's paint attributes) and compares it with the
area's colour blended over the venue canvas by hand.
"""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import skia
from hypothesis import given, settings

from seatmap.formats import parse_pretix
from seatmap.grid import grid_for
from seatmap.model import Venue
from tests.formats.pretix_strategy import css_colors
from tests.tileserver.conftest import decode
from tileserver.compose import slot_classes
from tileserver.livestate import derive
from tileserver.params import MapParams
from tileserver.pyramid import TileKey, tile_transform
from tileserver.render import style
from tileserver.render.prerender import ensure_pyramid
from tileserver.render.scene import Scene
from tileserver.staticmap import render_static
from tileserver.store import PyramidStore
from tileserver.tiles import encode_tile

RGBA = tuple[int, int, int, int]
# Where each test area is centred (venue units) and the colour it is given.
CENTRES = {"opaque": (140.0, 250.0), "half": (400.0, 250.0), "clear": (650.0, 250.0),
           "hsla": (400.0, 480.0)}
COLORS = {"opaque": "teal", "half": "rgba(255, 0, 0, 0.5)", "clear": "transparent",
          "hsla": "hsl(240deg 100% 50% / 25%)"}
EXPECTED: dict[str, RGBA] = {"opaque": (0, 128, 128, 255), "half": (255, 0, 0, 128),
                             "clear": (0, 0, 0, 0), "hsla": (0, 0, 255, 64)}


def blend(color: RGBA, under: tuple[int, int, int]) -> tuple[int, int, int]:
    """`color` with its alpha over an opaque colour, as source-over compositing gives."""
    a = color[3] / 255
    r, g, b = (round(c * a + u * (1 - a)) for c, u in zip(color[:3], under, strict=False))
    return (r, g, b)


def plan(colors: dict[str, str]) -> dict[str, Any]:
    """A plan with a row of seats at the top and one 160-unit area per colour below it."""
    areas = []
    for name, color in colors.items():
        cx, cy = CENTRES[name]
        shape: dict[str, Any] = {"shape": "rectangle", "rectangle": {"width": 160, "height": 160},
                                 "position": {"x": cx - 80, "y": cy - 80}}
        if name == "clear":  # a circle whose border alone is painted, half transparent
            shape = {"shape": "circle", "circle": {"radius": 80}, "position": {"x": cx, "y": cy},
                     "border_color": "#0000ff80"}
        areas.append({**shape, "color": color})
    seats = [{"seat_guid": f"s{k}", "seat_number": str(k + 1), "category": "A",
              "position": {"x": 100 + 30 * k, "y": 40}} for k in range(8)]
    return {"name": "Alpha", "categories": [{"name": "A", "color": "#2166ac"}],
            "size": {"width": 800, "height": 600},
            "zones": [{"position": {"x": 0, "y": 0}, "areas": areas,
                       "rows": [{"row_number": "1", "seats": seats}]}]}


def canvas_rgb() -> tuple[int, int, int]:
    return style.rgb(style.BACKGROUND)


def close(got: Any, want: tuple[int, int, int], tolerance: int) -> bool:
    return bool(np.abs(np.array(got[:3], dtype=int) - np.array(want)).max() <= tolerance)


def static_pixel(venue: Venue, at: tuple[float, float]) -> np.ndarray:
    """The static map pixel (at scale 1, whole venue in 800 x 600) under a venue point."""
    live = derive(venue, np.zeros(venue.seat_count, np.uint8), 0)
    params = MapParams(800, 600, 1, "png", None, None, frozenset())
    rgba = decode(render_static(Scene(venue), live, params))
    pixel: np.ndarray = rgba[int(at[1]), int(at[0])]
    return pixel


@settings(max_examples=15, deadline=None)
@given(css_colors())
def test_static_map_blends_an_area_of_any_colour_syntax(color: tuple[str, RGBA]) -> None:
    text, rgba = color
    venue = parse_pretix(plan({"half": text}))
    assert close(static_pixel(venue, CENTRES["half"]), blend(rgba, canvas_rgb()), 2)


def test_tiles_draw_areas_with_their_alpha(tmp_path: Path) -> None:
    venue = parse_pretix(plan(COLORS))
    grid = grid_for(venue)
    folder = ensure_pyramid(venue, tmp_path, workers=1, progress=False)
    store = PyramidStore(folder, grid)
    classes = style.seat_classes(venue, np.zeros(venue.seat_count, np.uint8))
    try:
        for z in (0, grid.max_zoom):
            for name, (x, y) in CENTRES.items():
                key0 = TileKey(z, 0, 0, 2)
                scale = tile_transform(grid, key0).scale
                px, py = x * scale, y * scale
                key = TileKey(z, int(px // key0.size_px), int(py // key0.size_px), 2)
                record = store.record(key)
                assert record is not None
                tile = decode(encode_tile(record, slot_classes(record, classes), "png"))
                got = tile[int(py) % key.size_px, int(px) % key.size_px]
                assert got[3] == 255
                # Tiles keep a small palette per tile: allow a step of its 5-bit buckets.
                assert close(got, blend(EXPECTED[name], canvas_rgb()), 8), (z, name, got)
    finally:
        store.close()


def test_static_map_draws_transparent_areas_as_nothing_and_borders_with_alpha() -> None:
    venue = parse_pretix(plan(COLORS))
    for name, at in CENTRES.items():
        assert close(static_pixel(venue, at), blend(EXPECTED[name], canvas_rgb()), 2), name
    cx, cy = CENTRES["clear"]
    ring = static_pixel(venue, (cx + 80, cy))  # on the circle's half-blue border
    assert ring[2] > ring[0] + 40


def _vector(venue: Venue, fmt: str) -> bytes:
    stream = skia.DynamicMemoryWStream()
    box = (0.0, 0.0, venue.width, venue.height)
    if fmt == "svg":
        canvas = skia.SVGCanvas.Make(skia.Rect.MakeWH(venue.width, venue.height), stream)
        Scene(venue).draw_ground(canvas, box, 1.0)
        del canvas  # the SVG is written when the canvas goes away
    else:
        document = skia.PDF.MakeDocument(stream)
        canvas = document.beginPage(venue.width, venue.height)
        Scene(venue).draw_ground(canvas, box, 1.0)
        document.endPage()
        document.close()
    return bytes(stream.detachAsData())


def test_svg_keeps_fill_and_border_opacity() -> None:
    venue = parse_pretix(plan(COLORS))
    root = ET.fromstring(_vector(venue, "svg"))
    shapes = [e.attrib for e in root.iter() if e.tag.endswith(("path", "rect"))]
    half = [a for a in shapes if a.get("d", "").startswith("M320 170")]
    assert len(half) == 1 and half[0]["fill"] == "red"
    assert float(half[0]["fill-opacity"]) == pytest.approx(128 / 255, abs=1e-3)
    opaque = [a for a in shapes if a.get("d", "").startswith("M60 170")]
    assert len(opaque) == 1 and "fill-opacity" not in opaque[0]
    borders = [a for a in shapes if a.get("stroke") == "blue"]
    assert len(borders) == 1 and borders[0]["fill"] == "none"
    assert float(borders[0]["stroke-opacity"]) == pytest.approx(128 / 255, abs=1e-3)
    # The transparent fill paints nothing: only the canvas and the three other areas fill.
    assert len([a for a in shapes if a.get("fill", "black") != "none"]) == 4


def test_pdf_page_blends_areas_with_their_alpha(tmp_path: Path) -> None:
    venue = parse_pretix(plan(COLORS))
    pdf = tmp_path / "areas.pdf"
    pdf.write_bytes(_vector(venue, "pdf"))
    subprocess.run(["pdftoppm", "-r", "72", "-png", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True, timeout=60)
    page = decode((tmp_path / "page.png").read_bytes())
    assert page.shape[:2] == (600, 800)
    for name, (x, y) in CENTRES.items():
        assert close(page[int(y), int(x)], blend(EXPECTED[name], canvas_rgb()), 2), name
