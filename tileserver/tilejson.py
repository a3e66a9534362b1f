"""The TileJSON 3.0.0 document of an event, plus what a seat-map client needs.

Pixel space: Leaflet's `L.CRS.Simple` with `L.Transformation(1, 0, 1, 0)`
maps one map unit to one pixel at zoom 0, x right and y down, so `bounds`
and `center` are zoom-0 pixels ([x0, y0, x1, y1] and [x, y, zoom]).
`venue_scale0` converts venue units to zoom-0 pixels.
"""

from __future__ import annotations

from typing import Any

from seatmap.context import EventView
from seatmap.grid import TILE_PX
from seatmap.status import SeatStatus
from tileserver.pyramid import lod_zooms, world_size_px
from tileserver.render import style


def tilejson(view: EventView, base_url: str) -> dict[str, Any]:
    """The TileJSON document of one event; `base_url` is the app root without a slash."""
    event, venue, grid = view.event, view.venue, view.grid
    root = f"{base_url}/events/{event.id}"
    s0 = grid.scale0
    w0, h0 = venue.width * s0, venue.height * s0
    fx, fy = venue.focal_point
    return {
        "tilejson": "3.0.0",
        "name": event.title,
        "description": f"Seat map of {venue.name}",
        "version": "1.0.0",
        "attribution": "",
        "scheme": "xyz",
        "tiles": [f"{root}/tiles/{{z}}/{{x}}/{{y}}.png"],
        "minzoom": 0,
        "maxzoom": grid.max_zoom,
        "bounds": [0.0, 0.0, round(w0, 3), round(h0, 3)],
        "center": [round(fx * s0, 3), round(fy * s0, 3), min(1, grid.max_zoom)],
        "crs": "simple",
        "tile_size": TILE_PX,
        "tile_templates": {
            "png": f"{root}/tiles/{{z}}/{{x}}/{{y}}.png",
            "png@2x": f"{root}/tiles/{{z}}/{{x}}/{{y}}@2x.png",
            "webp": f"{root}/tiles/{{z}}/{{x}}/{{y}}.webp",
            "webp@2x": f"{root}/tiles/{{z}}/{{x}}/{{y}}@2x.webp",
        },
        "world_size_px": {str(z): list(world_size_px(grid, z)) for z in range(grid.max_zoom + 1)},
        "venue_size": [venue.width, venue.height],
        "venue_scale0": s0,
        "lod_zooms": lod_zooms(grid),
        "seat_diameter": grid.seat_diameter,
        "seat_count": venue.seat_count,
        "content_hash": venue.content_hash,
        "event_id": event.id,
        "categories": [
            {"index": c.index, "id": c.external_id, "name": c.name, "color": c.color,
             "price_cents": c.price_cents}
            for c in venue.categories
        ],
        "statuses": {s.name.lower(): int(s) for s in SeatStatus},
        "status_colors": {"held": style.HELD, "sold": style.SOLD, "blocked": style.BLOCKED_DISC,
                          "accessible": style.ACCESSIBLE, "highlight": style.HIGHLIGHT},
        "legend": style.legend(venue),
        "endpoints": {
            "seats_bin": f"{root}/seats.bin",
            "seat_at": f"{root}/seats/at",
            "seat": f"{root}/seats/{{seat_index}}",
            "static_map": f"{root}/map.png",
            "print_pdf": f"{root}/map.pdf",
            "print_svg": f"{root}/map.svg",
        },
    }
