"""Which drawing answers a map request: static map, "your seats" image, booklet or page.

- `map.png|webp` with `highlight` and neither `section` nor `bbox`: the "your seats"
  image for one buyer (tileserver.yourseats);
- any other `map.png|webp`: the live static map (tileserver.staticmap);
- `map.pdf`: the print booklet (tileserver.booklet), or with `bbox` one page of that box;
- `map.svg`: one vector drawing of the venue, a section or a box (tileserver.printmap).
"""

from __future__ import annotations

from seatmap.context import EventView
from tileserver import booklet, printmap, staticmap, yourseats
from tileserver.livestate import LiveClasses
from tileserver.params import MapParams, PrintParams
from tileserver.render.scene import Scene


def is_your_seats(params: MapParams) -> bool:
    """True when a static map request asks for one buyer's seats, framed for them."""
    return bool(params.highlight) and params.section is None and params.box is None


def render_output(scene: Scene, view: EventView, live: LiveClasses,
                  params: MapParams | PrintParams, fmt: str) -> bytes:
    """The bytes of a map request in `fmt` (png, webp, pdf or svg)."""
    if isinstance(params, PrintParams):
        if fmt == "pdf" and params.box is None:
            return booklet.render_booklet(scene, view, live, params)
        return printmap.render_print(scene, view, live, params, fmt)
    if is_your_seats(params):
        return yourseats.render_your_seats(scene, view, params)
    return staticmap.render_static(scene, live, params)
