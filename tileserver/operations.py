"""Every operation the tile service serves: method, path, parameters and replies.

Routes are declared with these (`httpkit.contract.declared`), so the OpenAPI
document lists exactly what is mounted, with the types `tileserver.params` parses.
"""

from __future__ import annotations

from httpkit.contract import EventPath, Operation, binary_reply, empty_reply, json_reply
from tileserver.models import (
    BoxQuery,
    MapDescription,
    MapJsonQuery,
    Places,
    PlacesQuery,
    PngMapQuery,
    PointQuery,
    PrintQuery,
    SeatInfo,
    SeatPath,
    SectionPath,
    SectionRows,
    Sections,
    TileJSON,
    TilePath,
    WebpMapQuery,
)

EVENT = "/events/{event_id}"
NOT_MODIFIED = {304: empty_reply("Not modified (If-None-Match).")}
CACHED = ("ETag", "Cache-Control")
MAP_MEDIA = {"png": "image/png", "webp": "image/webp", "pdf": "application/pdf",
             "svg": "image/svg+xml"}
MAP_QUERIES = {"png": PngMapQuery, "webp": WebpMapQuery, "pdf": PrintQuery, "svg": PrintQuery}

TILES = tuple(
    Operation(
        "GET", f"{EVENT}/tiles/{{z}}/{{x}}/{{y}}{name}", "A map tile with live availability "
        "(@2x: 512 px).", "tiles",
        {200: binary_reply(media, description="The tile.", headers=CACHED), **NOT_MODIFIED},
        (400, 404, 503), path_params=TilePath,
    )
    for name, media in ((".png", "image/png"), ("@2x.png", "image/png"),
                        (".webp", "image/webp"), ("@2x.webp", "image/webp"))
)
MAPS = tuple(
    Operation(
        "GET", f"{EVENT}/map.{fmt}", f"The whole venue or a part of it as one {fmt.upper()} "
        f"({'static map' if fmt in ('png', 'webp') else 'vector print'}).", "tiles",
        {200: binary_reply(media, description="The map.", headers=CACHED), **NOT_MODIFIED},
        (400, 404, 422, 503), path_params=EventPath, query=MAP_QUERIES[fmt],
    )
    for fmt, media in MAP_MEDIA.items()
)
TILEJSON = Operation(
    "GET", f"{EVENT}/tiles.json", "TileJSON 3.0.0 of the event, plus what the viewer needs.",
    "tiles", {200: json_reply(TileJSON), **NOT_MODIFIED}, (400, 404, 503), path_params=EventPath,
)
SEATS_BIN = Operation(
    "GET", f"{EVENT}/seats.bin",
    "Seats in a box with positions and current statuses, binary (see docs/tiles.md).", "tiles",
    {200: binary_reply("application/octet-stream", description="Seat records.",
                       headers=("X-Status-Version",))},
    (400, 404, 422, 503), path_params=EventPath, query=BoxQuery,
)
SEAT_AT = Operation(
    "GET", f"{EVENT}/seats/at", "The seat nearest a point, within a radius (venue units).",
    "tiles", {200: json_reply(SeatInfo)}, (400, 404, 422, 503), path_params=EventPath,
    query=PointQuery,
)
SEAT = Operation(
    "GET", f"{EVENT}/seats/{{seat_index}}", "One seat with its current status.", "tiles",
    {200: json_reply(SeatInfo)}, (400, 404, 503), path_params=SeatPath,
)
SECTIONS = Operation(
    "GET", f"{EVENT}/sections.json", "Sections with bounds, outlines and seat counts.", "viewer",
    {200: json_reply(Sections), **NOT_MODIFIED}, (400, 404, 503), path_params=EventPath,
)
SECTION_ROWS = Operation(
    "GET", f"{EVENT}/sections/{{section}}.json", "A section's rows and seats (list view).",
    "viewer", {200: json_reply(SectionRows), **NOT_MODIFIED}, (400, 404, 503),
    path_params=SectionPath,
)
PLACES = Operation(
    "GET", f"{EVENT}/places.json", "Where some seats are ([index, x, y, radius] each).",
    "viewer", {200: json_reply(Places), **NOT_MODIFIED}, (400, 404, 503),
    path_params=EventPath, query=PlacesQuery,
)
MAP_JSON = Operation(
    "GET", f"{EVENT}/map.json",
    'The "your seats" image in words: alt text for its <img>, the seats, the image URL.',
    "tiles", {200: json_reply(MapDescription), **NOT_MODIFIED}, (400, 404, 422, 503),
    path_params=EventPath, query=MapJsonQuery,
)
