"""The TileJSON 3.0.0 document of an event, plus what a seat-map client needs as extensions.

The pyramid is the standard XYZ grid: zoom z has 2^z x 2^z tiles of 256 px,
y down, and zoom 0's single tile is the whole Web Mercator world. So the
venue, drawn into the top-left of that tile (`venue_scale0` zoom-0 pixels per
venue unit), stands for a patch of that world, and `bounds` and `center` give
that patch in longitude/latitude as the specification requires. Any map
client with the usual EPSG:3857 set-up (Leaflet's default CRS, OpenLayers'
TileJSON source, MapLibre GL's raster source) then places the tiles right.

Clients that keep a pixel coordinate system of their own (the project's
viewer uses Leaflet's `L.CRS.Simple`) read the extension fields instead:
`pixel_bounds` and `pixel_center` are the same extent and centre in zoom-0
pixels, `venue_size` and `venue_scale0` relate them to venue units.
"""

from __future__ import annotations

import html
import math
from typing import Any

from seatmap.context import EventView
from seatmap.grid import TILE_PX
from seatmap.status import SeatStatus
from tileserver.pyramid import lod_zooms, world_size_px
from tileserver.render import style

TILEJSON_VERSION = "3.0.0"
# Degrees are given to 1e-9 (about 0.1 mm on the ground): far below a pixel at any zoom.
DEGREE_DIGITS = 9


def longitude_of(x_px: float) -> float:
    """The longitude of a zoom-0 pixel column of the XYZ grid (0 = -180, 256 = 180)."""
    return x_px / TILE_PX * 360.0 - 180.0


def latitude_of(y_px: float) -> float:
    """The latitude of a zoom-0 pixel row of the XYZ grid (inverse spherical Mercator)."""
    return math.degrees(math.atan(math.sinh(math.pi * (1.0 - 2.0 * y_px / TILE_PX))))


def lonlat_bounds(width_px: float, height_px: float) -> list[float]:
    """[west, south, east, north] of the zoom-0 pixel box [0, width] x [0, height]."""
    return [
        round(longitude_of(0.0), DEGREE_DIGITS),
        round(latitude_of(height_px), DEGREE_DIGITS),
        round(longitude_of(width_px), DEGREE_DIGITS),
        round(latitude_of(0.0), DEGREE_DIGITS),
    ]


def legend_html(view: EventView) -> str:
    """The legend as a short HTML list (every name escaped), TileJSON's `legend` string."""
    items = [f"{html.escape(c.name)}: available, {html.escape(c.color)}"
             for c in view.venue.categories]
    items += [f"held: {style.HELD} ring", f"sold: {style.SOLD} dot",
              f"blocked: {style.BLOCKED_DISC} disc", f"accessible: {style.ACCESSIBLE} square"]
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def tilejson(view: EventView, base_url: str) -> dict[str, Any]:
    """The TileJSON document of one event; `base_url` is the app's public root without a slash."""
    event, venue, grid = view.event, view.venue, view.grid
    root = f"{base_url}/events/{event.id}"
    s0 = grid.scale0
    w0, h0 = venue.width * s0, venue.height * s0
    # The specification wants the centre inside the bounds.
    cx = min(max(venue.focal_point[0] * s0, 0.0), w0)
    cy = min(max(venue.focal_point[1] * s0, 0.0), h0)
    center_zoom = min(1, grid.max_zoom)
    return {
        "tilejson": TILEJSON_VERSION,
        "name": event.title,
        "description": f"Seat map of {venue.name}",
        "version": "1.0.0",
        "attribution": "",
        "scheme": "xyz",
        "tiles": [f"{root}/tiles/{{z}}/{{x}}/{{y}}.png"],
        # Raster tiles have no vector layers; the published schema lists the key as required.
        "vector_layers": [],
        "minzoom": 0,
        "maxzoom": grid.max_zoom,
        "bounds": lonlat_bounds(w0, h0),
        "center": [round(longitude_of(cx), DEGREE_DIGITS), round(latitude_of(cy), DEGREE_DIGITS),
                   center_zoom],
        "legend": legend_html(view),
        # Extensions (TileJSON says clients ignore keys they do not know).
        "pixel_bounds": [0.0, 0.0, round(w0, 3), round(h0, 3)],
        "pixel_center": [round(cx, 3), round(cy, 3), center_zoom],
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
        # Where the viewer's "Continue" hands the buyer's holds over (event settings); may be null.
        "checkout_url": event.rules.checkout_url or None,
        "categories": [
            {"index": c.index, "id": c.external_id, "name": c.name, "color": c.color,
             "price_cents": c.price_cents}
            for c in venue.categories
        ],
        "statuses": {s.name.lower(): int(s) for s in SeatStatus},
        "status_colors": {"held": style.HELD, "sold": style.SOLD, "blocked": style.BLOCKED_DISC,
                          "accessible": style.ACCESSIBLE, "highlight": style.HIGHLIGHT},
        "legend_entries": style.legend(venue),
        "endpoints": {
            "seats_bin": f"{root}/seats.bin",
            "seat_at": f"{root}/seats/at",
            "seat": f"{root}/seats/{{seat_index}}",
            "static_map": f"{root}/map.png",
            "print_pdf": f"{root}/map.pdf",
            "print_svg": f"{root}/map.svg",
        },
    }
